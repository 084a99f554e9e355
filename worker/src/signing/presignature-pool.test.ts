// The presignature pool's scheduling (presignature-pool.ts), with the presigning ceremony replaced
// by a promise the test resolves: when a refill starts, how far it fills, how many ceremonies run
// at once, that taking from the pool never waits for a refill, and what a failure does.
import { describe, expect, it } from "vitest";
import { DEFAULT_POOL, poolSettings, PresignaturePools } from "./presignature-pool.js";

/** A pool whose ceremonies stay open until the test settles them. */
function harness(settings = DEFAULT_POOL, ready = 0) {
  const state = { ready, started: 0, open: [] as { resolve(): void; reject(e: Error): void }[], failures: [] as string[] };
  const pools = new PresignaturePools({
    settings,
    ready: () => state.ready,
    presign: (_keyId, count) => {
      state.started++;
      return new Promise<void>((resolve, reject) =>
        state.open.push({
          resolve: () => {
            state.ready += count;
            resolve();
          },
          reject,
        }),
      );
    },
    failed: (keyId) => state.failures.push(keyId),
  });
  const settleAll = async () => {
    while (state.open.length) {
      state.open.shift()!.resolve();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { state, pools, settleAll };
}

describe("presignature pools", () => {
  it("settings: defaults, the environment's values, off, and nonsense ignored", () => {
    expect(poolSettings({})).toEqual(DEFAULT_POOL);
    expect(poolSettings({ TESSERA_PRESIGNATURE_POOL: "8", TESSERA_PRESIGNATURE_LOW_WATER: "5", TESSERA_PRESIGNATURE_REFILLS: "3", TESSERA_PRESIGNATURE_BATCH: "4" })).toEqual({ size: 8, batch: 4, lowWater: 5, concurrency: 3 });
    expect(poolSettings({ TESSERA_PRESIGNATURES: "off" }).size).toBe(0);
    expect(poolSettings({ TESSERA_PRESIGNATURE_POOL: "-1", TESSERA_PRESIGNATURE_REFILLS: "x", TESSERA_PRESIGNATURE_BATCH: "65" })).toEqual(DEFAULT_POOL);
    // The low-water mark never exceeds the size; the size holds at least one batch.
    expect(poolSettings({ TESSERA_PRESIGNATURE_POOL: "1", TESSERA_PRESIGNATURE_BATCH: "1" })).toEqual({ size: 1, batch: 1, lowWater: 1, concurrency: DEFAULT_POOL.concurrency });
    expect(poolSettings({ TESSERA_PRESIGNATURE_POOL: "4" })).toEqual({ size: DEFAULT_POOL.batch, batch: DEFAULT_POOL.batch, lowWater: DEFAULT_POOL.batch, concurrency: DEFAULT_POOL.concurrency });
    expect(poolSettings({ TESSERA_PRESIGNATURE_POOL: "0" }).size).toBe(0);
  });

  it("fills an empty pool to its size with at most `concurrency` ceremonies in flight", async () => {
    const { state, pools, settleAll } = harness({ size: 5, batch: 1, lowWater: 2, concurrency: 2 });
    const done = pools.top("k");
    expect(state.started).toBe(2);
    expect(pools.inFlight("k")).toBe(2);
    await settleAll();
    expect(await done).toBe(5);
    expect(state.ready).toBe(5);
    expect(state.started).toBe(5);
    expect(pools.inFlight("k")).toBe(0);
  });

  it("starts nothing while the pool is at or above the low-water mark; `always` tops it up to its size", async () => {
    const { state, pools, settleAll } = harness({ size: 4, batch: 1, lowWater: 2, concurrency: 2 }, 2);
    expect(await pools.top("k")).toBe(0);
    expect(state.started).toBe(0);
    const done = pools.top("k", { always: true });
    await settleAll();
    expect(await done).toBe(2);
    expect(state.ready).toBe(4);
  });

  it("taking from the pool while it fills never waits, and the running refill makes up for what was taken", async () => {
    const { state, pools, settleAll } = harness({ size: 4, batch: 1, lowWater: 2, concurrency: 2 }, 1);
    const done = pools.top("k");
    expect(state.started).toBe(2);
    // Two signatures take presignatures meanwhile (the one ready, then one just made).
    state.ready--;
    expect(pools.top("k")).toBe(done); // the same refill, not a second one
    state.open.shift()!.resolve();
    await new Promise((r) => setImmediate(r));
    state.ready--;
    pools.top("k");
    await settleAll();
    await done;
    expect(state.ready).toBe(4);
    expect(pools.inFlight("k")).toBe(0);
  });

  it("a failed ceremony stops the refill and is reported (the pool stays short until the next try)", async () => {
    const { state, pools, settleAll } = harness({ size: 4, batch: 1, lowWater: 2, concurrency: 2 });
    const done = pools.top("k");
    state.open.shift()!.reject(new Error("a node is down"));
    await settleAll();
    expect(await done).toBe(1);
    expect(state.failures).toEqual(["k"]);
    expect(state.started).toBe(2);
    // The next try fills it again.
    const again = pools.top("k");
    await settleAll();
    expect(await again).toBe(3);
    expect(state.ready).toBe(4);
  });

  it("batches: a ceremony makes `batch` presignatures and starts only while its whole batch fits under the size", async () => {
    const { state, pools, settleAll } = harness({ size: 32, batch: 8, lowWater: 16, concurrency: 2 }, 15);
    const done = pools.top("k");
    // 15 ready: two batches fit (15 + 16 = 31 <= 32), a third would not.
    expect(state.started).toBe(2);
    await settleAll();
    expect(await done).toBe(2);
    expect(state.ready).toBe(31);
    // At or above the low-water mark nothing starts; `always` adds no batch that would overflow.
    state.ready = 25;
    expect(await pools.top("k", { always: true })).toBe(0);
    state.ready = 10;
    const refill = pools.top("k");
    expect(state.started).toBe(4);
    await settleAll();
    await refill;
    expect(state.ready).toBe(26);
  });

  it("keys fill independently; size 0 means no presignatures at all", async () => {
    const { state, pools, settleAll } = harness({ size: 2, batch: 1, lowWater: 1, concurrency: 1 });
    pools.top("a");
    pools.top("b");
    expect(state.started).toBe(2);
    await settleAll();
    const off = harness({ size: 0, batch: 1, lowWater: 0, concurrency: 1 });
    expect(off.pools.enabled).toBe(false);
    expect(await off.pools.top("k")).toBe(0);
    expect(off.state.started).toBe(0);
  });
});
