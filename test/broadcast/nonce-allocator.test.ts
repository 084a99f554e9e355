// The nonce allocator's rules on their own (SQLite, no chain): consecutive allocation, the chain's
// count winning when someone else used the key, and how freed nonces come back without gaps.
import { describe, expect, it } from "vitest";
import { NONCE_SCHEMA, NonceAllocator } from "../../worker/src/chains/evm/nonce-allocator.js";
import { nodeSql } from "../chain/node-sql.js";

function allocator() {
  const sql = nodeSql();
  for (const s of NONCE_SCHEMA) sql.exec(s);
  return new NonceAllocator(sql);
}

describe("NonceAllocator", () => {
  it("hands out consecutive nonces from the chain's count, never the same one twice", () => {
    const a = allocator();
    expect(a.next()).toBeNull();
    expect([a.allocate(7), a.allocate(7), a.allocate(7)]).toEqual([7, 8, 9]);
    // A stale (lower) chain reading does not move us back; a higher one (the key was used elsewhere) moves us on.
    expect(a.allocate(3)).toBe(10);
    expect(a.allocate(20)).toBe(20);
    expect(a.next()).toBe(21);
  });

  it("the newest nonce freed becomes the next one again, also past free ones just below it", () => {
    const a = allocator();
    [0, 1, 2, 3].forEach(() => a.allocate(0));
    a.release(2, "x", 1);
    expect(a.free().map((f) => f.nonce)).toEqual([2]);
    a.release(3, "y", 2);
    expect(a.next()).toBe(2);
    expect(a.free()).toEqual([]);
    expect(a.allocate(0)).toBe(2);
  });

  it("an older freed nonce is taken first by the next allocation; one the chain moved past is forgotten", () => {
    const a = allocator();
    [0, 1, 2, 3, 4].forEach(() => a.allocate(0));
    a.release(1, "x", 1);
    a.release(3, "y", 1);
    expect(a.allocate(0)).toBe(1);
    expect(a.allocate(4)).toBe(5); // 3 < chain count 4: used by someone else, dropped
    expect(a.free()).toEqual([]);
    // Releasing a nonce never allocated is ignored.
    a.release(99, "z", 1);
    expect(a.free()).toEqual([]);
  });
});
