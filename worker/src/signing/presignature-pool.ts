// When the coordinator presigns (wasm/vendor/dkls23-core/PRESIGN.md): a pool per ECDSA key, kept
// between a low-water mark and its size, filled in the background of the object so that a
// signature never waits for a refill. Each presigning ceremony makes a batch of presignatures
// (what a ceremony costs each node beside the core — the authorization check, the claim and its
// sync, the audit line, the round statements' signatures — is paid once per batch), and with
// several ceremonies in flight at once the pool keeps up with signatures that follow each other
// faster than one presigning ceremony takes (over a wide-area network a ceremony costs ≈ 2 round
// trips). Storage and the ceremony itself are injected (ShareHolders), so the scheduling is
// tested on its own (presignature-pool.test.ts).

import { MAX_PRESIGNATURE_BATCH } from "../../../shared/src/mpc/authorization.js";

export interface PoolSettings {
  /** Presignatures kept ready per key (0: presignatures off); at least one batch. */
  size: number;
  /** Presignatures one presigning ceremony makes. */
  batch: number;
  /** A refill starts when fewer than this many are ready (then fills up to `size`). */
  lowWater: number;
  /** Presigning ceremonies in flight at once per key. */
  concurrency: number;
}

export const DEFAULT_POOL: PoolSettings = { size: 32, batch: 8, lowWater: 16, concurrency: 2 };

/**
 * From the environment: TESSERA_PRESIGNATURES=off (no pool), TESSERA_PRESIGNATURE_POOL (size),
 * TESSERA_PRESIGNATURE_BATCH (presignatures per ceremony, 1-64), TESSERA_PRESIGNATURE_LOW_WATER,
 * TESSERA_PRESIGNATURE_REFILLS (concurrency). Unreadable values fall back to the defaults; the
 * size is at least one batch, the low-water mark at most the size.
 */
export function poolSettings(env: { TESSERA_PRESIGNATURES?: string; TESSERA_PRESIGNATURE_POOL?: string; TESSERA_PRESIGNATURE_BATCH?: string; TESSERA_PRESIGNATURE_LOW_WATER?: string; TESSERA_PRESIGNATURE_REFILLS?: string }): PoolSettings {
  const int = (v: string | undefined, fallback: number, min: number, max: number) => {
    const n = v === undefined || v.trim() === "" ? NaN : Number(v);
    return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
  };
  if (env.TESSERA_PRESIGNATURES === "off") return { size: 0, batch: 1, lowWater: 0, concurrency: 1 };
  const batch = int(env.TESSERA_PRESIGNATURE_BATCH, DEFAULT_POOL.batch, 1, MAX_PRESIGNATURE_BATCH);
  const asked = int(env.TESSERA_PRESIGNATURE_POOL, DEFAULT_POOL.size, 0, 1024);
  const size = asked === 0 ? 0 : Math.max(asked, batch);
  const lowWater = Math.min(size, int(env.TESSERA_PRESIGNATURE_LOW_WATER, Math.min(size, DEFAULT_POOL.lowWater), 1, 1024));
  return { size, batch, lowWater, concurrency: int(env.TESSERA_PRESIGNATURE_REFILLS, DEFAULT_POOL.concurrency, 1, 16) };
}

export interface PoolOptions {
  settings: PoolSettings;
  /** Presignatures of the key ready now (taken ones no longer count). */
  ready(keyId: string): number;
  /** One presigning ceremony of `count` presignatures, which count as ready once made. */
  presign(keyId: string, count: number): Promise<void>;
  /** A ceremony failed: the refill stops (the pool stays short; signatures take the three-round path meanwhile). */
  failed?(keyId: string, error: unknown): void;
}

export class PresignaturePools {
  /** Keys being filled: how many ceremonies are in flight, how to launch more, and how many ceremonies succeeded. */
  private readonly filling = new Map<string, { pump(): void; done: Promise<number>; inFlight: number }>();

  constructor(private readonly o: PoolOptions) {}

  get enabled(): boolean {
    return this.o.settings.size > 0;
  }

  /** Ceremonies in flight for the key (0 when it is not being filled). */
  inFlight(keyId: string): number {
    return this.filling.get(keyId)?.inFlight ?? 0;
  }

  /**
   * Starts filling the key's pool if it is under the low-water mark (`always`: under its size),
   * and never waits for it: the returned promise (how many ceremonies succeeded) is for tests and
   * retries. A ceremony is launched only while its whole batch fits under the size (counting the
   * batches in flight); while a key is being filled, a call launches more if there is room.
   */
  top(keyId: string, o: { always?: boolean } = {}): Promise<number> {
    const { size, batch, lowWater, concurrency } = this.o.settings;
    const running = this.filling.get(keyId);
    if (running) {
      running.pump();
      return running.done;
    }
    if (size === 0) return Promise.resolve(0);
    const ready = this.o.ready(keyId);
    if (ready >= (o.always ? size : lowWater)) return Promise.resolve(0);
    let made = 0;
    let failed = false;
    let finish!: (n: number) => void;
    const done = new Promise<number>((r) => (finish = r));
    const fill = { pump: () => {}, done, inFlight: 0 };
    fill.pump = () => {
      while (!failed && fill.inFlight < concurrency && this.o.ready(keyId) + (fill.inFlight + 1) * batch <= size) {
        fill.inFlight++;
        this.o.presign(keyId, batch).then(
          () => void made++,
          (e: unknown) => {
            failed = true;
            this.o.failed?.(keyId, e);
          },
        ).finally(() => {
          fill.inFlight--;
          fill.pump();
        });
      }
      if (fill.inFlight === 0 && this.filling.get(keyId) === fill) {
        this.filling.delete(keyId);
        finish(made);
      }
    };
    this.filling.set(keyId, fill);
    fill.pump();
    return done;
  }
}
