// Messages a wallet's Durable Object owes to others (webhook events to the org's dispatcher,
// policy commit/release to the policy engine), written in the same synchronous section as the
// status change that caused them and removed only once the receiver has acknowledged. Delivery is
// therefore at least once; receivers deduplicate by the id inside the payload.
import type { Reservation } from "./policy-gate.js";
import type { Sql } from "./sql.js";

export type OutboxTarget = "webhook" | "policy-commit" | "policy-release";

export const OUTBOX_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, payload TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`,
];

export interface OutboxEntry {
  seq: number;
  target: OutboxTarget;
  payload: unknown;
  attempts: number;
}

export class Outbox {
  constructor(private readonly sql: Sql) {}

  add(target: OutboxTarget, payload: unknown, now: number): void {
    this.sql.exec("INSERT INTO outbox (target, payload, next_attempt_at) VALUES (?, ?, ?)", target, JSON.stringify(payload), now);
  }

  /** Entries due now, oldest first (so a receiver sees a request's statuses in order when all goes well). */
  due(now: number, limit = 100): OutboxEntry[] {
    return this.sql
      .exec<{ seq: number; target: string; payload: string; attempts: number }>(
        "SELECT seq, target, payload, attempts FROM outbox WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, target: r.target as OutboxTarget, payload: JSON.parse(r.payload), attempts: r.attempts }));
  }

  done(seq: number): void {
    this.sql.exec("DELETE FROM outbox WHERE seq = ?", seq);
  }

  failed(seq: number, error: string, now: number): void {
    const row = this.sql.exec<{ attempts: number }>("SELECT attempts FROM outbox WHERE seq = ?", seq).toArray()[0];
    if (!row) return;
    const attempts = row.attempts + 1;
    const delay = Math.min(1000 * 2 ** (attempts - 1), 5 * 60_000);
    this.sql.exec("UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE seq = ?", attempts, error.slice(0, 500), now + delay, seq);
  }

  nextDueAt(): number | null {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox").toArray()[0];
    return row?.at ?? null;
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").toArray()[0]?.n ?? 0;
  }
}

export interface OutboxHandlers {
  webhook(event: unknown): Promise<void>;
  policyCommit(reservation: Reservation): Promise<void>;
  policyRelease(reservation: Reservation, reason: string): Promise<void>;
}

/** Hands every due entry to its receiver; a failed hand-over is retried later with backoff. */
export async function drainOutbox(outbox: Outbox, handlers: OutboxHandlers, now: number): Promise<void> {
  for (const entry of outbox.due(now)) {
    try {
      if (entry.target === "webhook") await handlers.webhook(entry.payload);
      else if (entry.target === "policy-commit") await handlers.policyCommit((entry.payload as { reservation: Reservation }).reservation);
      else {
        const p = entry.payload as { reservation: Reservation; reason: string };
        await handlers.policyRelease(p.reservation, p.reason);
      }
      outbox.done(entry.seq);
    } catch (err) {
      outbox.failed(entry.seq, (err as Error).message, now);
    }
  }
}
