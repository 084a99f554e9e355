// Exact decimals: the money arithmetic under every amount rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, compare, formatDecimal, fromBaseUnits, multiply, parseDecimal, sum } from "../../shared/src/policy/decimal.js";

const text = (s: string | number) => formatDecimal(parseDecimal(s));

describe("decimal", () => {
  it("parses JSON numbers through their decimal text, with exponents", () => {
    expect(text(0.1)).toBe("0.1");
    expect(text(1e21)).toBe("1000000000000000000000");
    expect(text(1e-7)).toBe("0.0000001");
    expect(text("1.2300")).toBe("1.23");
    expect(text("-0.50")).toBe("-0.5");
    expect(text("000")).toBe("0");
    expect(() => parseDecimal(Number.NaN)).toThrow();
    expect(() => parseDecimal("1,5")).toThrow();
    expect(() => parseDecimal("0x10")).toThrow();
    expect(() => parseDecimal("")).toThrow();
    expect(() => parseDecimal("1e5000")).toThrow();
  });

  it("0.1 + 0.2 is exactly 0.3 (no binary float anywhere)", () => {
    expect(compare(add(parseDecimal(0.1), parseDecimal(0.2)), parseDecimal("0.3"))).toBe(0);
    expect(0.1 + 0.2 === 0.3).toBe(false); // what floats would have done
  });

  it("base units keep every wei of an 18-decimal amount", () => {
    const oneWeiOverTen = fromBaseUnits("10000000000000000001", 18);
    expect(formatDecimal(oneWeiOverTen)).toBe("10.000000000000000001");
    expect(compare(oneWeiOverTen, parseDecimal("10"))).toBe(1);
    expect(compare(fromBaseUnits("10000000000000000000", 18), parseDecimal(10))).toBe(0);
    // 2^256 - 1 wei (the largest uint256) stays exact.
    const max = (2n ** 256n - 1n).toString();
    expect(formatDecimal(fromBaseUnits(max, 0))).toBe(max);
    expect(() => fromBaseUnits("1.5", 18)).toThrow();
    expect(() => fromBaseUnits("-1", 18)).toThrow();
  });

  it("multiplies prices exactly (6-decimal USDC at 0.999915)", () => {
    expect(formatDecimal(multiply(fromBaseUnits("1234567", 6), parseDecimal("0.999915")))).toBe("1.234462061805");
  });

  it("addition and comparison agree with bigint arithmetic (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 24 }), (a, b, da, db) => {
        const x = fromBaseUnits(a.toString(), da);
        const y = fromBaseUnits(b.toString(), db);
        const scale = Math.max(da, db);
        const ax = a * 10n ** BigInt(scale - da);
        const by = b * 10n ** BigInt(scale - db);
        expect(compare(x, y)).toBe(ax < by ? -1 : ax > by ? 1 : 0);
        expect(compare(sum([x, y]), fromBaseUnits((ax + by).toString(), scale))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
