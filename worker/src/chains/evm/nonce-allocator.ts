// A wallet's nonces, handed out inside its Durable Object. Every method is synchronous SQL with no
// await between reading and writing, so concurrent transfers of one wallet can never receive the
// same nonce (the object runs one synchronous section at a time).
//
// A nonce comes back when its transaction can no longer reach the chain (signing failed, or every
// node refused it outright). Handing it out again must not leave a gap, because the chain executes a
// wallet's transactions strictly in nonce order and a gap blocks every later one:
//   - the most recent nonce simply becomes the next one again;
//   - an older one goes to `free_nonces`; the next transfer that needs a nonce takes the lowest free
//     one first; if none comes within a delay, the engine spends it on a zero-value self-transfer
//     (a "nonce fill") so the transactions queued behind it execute.
import type { Sql } from "../../broadcast/sql.js";

export const NONCE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS wallet_nonce (id INTEGER PRIMARY KEY CHECK (id = 1), next_nonce INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS free_nonces (
     nonce INTEGER PRIMARY KEY, released_at INTEGER NOT NULL, origin_id TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)`,
];

export interface FreeNonce {
  nonce: number;
  releasedAt: number;
  originId: string;
  attempts: number;
}

export class NonceAllocator {
  constructor(private readonly sql: Sql) {}

  /** The next nonce this wallet will use when no free one is waiting (null before the first). */
  next(): number | null {
    const row = this.sql.exec<{ next_nonce: number }>("SELECT next_nonce FROM wallet_nonce WHERE id = 1").toArray()[0];
    return row ? row.next_nonce : null;
  }

  /**
   * A nonce for a new transaction. `chainPending` is the node's pending transaction count for the
   * address, read just before: it only matters when something else used this key's nonces (it is
   * then higher than ours); a stale, lower reading is harmless because our own counter wins.
   */
  allocate(chainPending: number): number {
    // Free nonces the chain has moved past were used by someone else: forget them.
    this.sql.exec("DELETE FROM free_nonces WHERE nonce < ?", chainPending);
    const free = this.sql.exec<{ nonce: number }>("SELECT nonce FROM free_nonces ORDER BY nonce LIMIT 1").toArray()[0];
    if (free) {
      this.sql.exec("DELETE FROM free_nonces WHERE nonce = ?", free.nonce);
      return free.nonce;
    }
    const nonce = Math.max(this.next() ?? 0, chainPending);
    this.setNext(nonce + 1);
    return nonce;
  }

  /**
   * Takes a nonce the caller chose (a caller-built transaction): only the next one, or a free one,
   * can be used without leaving a gap or colliding with another of this wallet's transactions.
   */
  claimExact(nonce: number, chainPending: number): { ok: true } | { ok: false; reason: string } {
    this.sql.exec("DELETE FROM free_nonces WHERE nonce < ?", chainPending);
    if (this.sql.exec("SELECT 1 AS x FROM free_nonces WHERE nonce = ?", nonce).toArray().length > 0) {
      this.sql.exec("DELETE FROM free_nonces WHERE nonce = ?", nonce);
      return { ok: true };
    }
    const next = Math.max(this.next() ?? 0, chainPending);
    if (nonce === next) {
      this.setNext(next + 1);
      return { ok: true };
    }
    return nonce < next
      ? { ok: false, reason: `Nonce ${nonce} is already used by this wallet; its next nonce is ${next}` }
      : { ok: false, reason: `Nonce ${nonce} is ahead of this wallet's next nonce ${next}: the transaction would never execute` };
  }

  /** Gives back a nonce whose transaction will never reach the chain. */
  release(nonce: number, originId: string, now: number, attempts = 0): void {
    const next = this.next();
    if (next === null || nonce >= next) return;
    if (nonce === next - 1) {
      // The newest nonce: step back, and past any free ones just below it.
      let n = nonce;
      while (this.sql.exec("SELECT 1 AS x FROM free_nonces WHERE nonce = ?", n - 1).toArray().length > 0) {
        this.sql.exec("DELETE FROM free_nonces WHERE nonce = ?", n - 1);
        n--;
      }
      this.setNext(n);
      return;
    }
    this.sql.exec(
      "INSERT INTO free_nonces (nonce, released_at, origin_id, attempts) VALUES (?, ?, ?, ?) ON CONFLICT (nonce) DO UPDATE SET released_at = excluded.released_at, attempts = excluded.attempts",
      nonce,
      now,
      originId,
      attempts,
    );
  }

  free(): FreeNonce[] {
    return this.sql
      .exec<{ nonce: number; released_at: number; origin_id: string; attempts: number }>("SELECT * FROM free_nonces ORDER BY nonce")
      .toArray()
      .map((r) => ({ nonce: r.nonce, releasedAt: r.released_at, originId: r.origin_id, attempts: r.attempts }));
  }

  /** Takes a free nonce for a nonce fill (it is no longer free for transfers). */
  claim(nonce: number): void {
    this.sql.exec("DELETE FROM free_nonces WHERE nonce = ?", nonce);
  }

  private setNext(n: number): void {
    this.sql.exec("INSERT INTO wallet_nonce (id, next_nonce) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET next_nonce = excluded.next_nonce", n);
  }
}
