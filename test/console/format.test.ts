// The console's amount handling (console/js/format.js, plain browser modules that also load in
// Node): what a person types becomes exactly the integer the API signs, and back.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// @ts-expect-error — a browser ES module checked by console/tsconfig.json, not by this project
import { formatUnits, parseUnits, transferAmount } from "../../console/js/format.js";

describe("console amounts", () => {
  it("known values", () => {
    expect(parseUnits("0.5", 18)).toBe("500000000000000000");
    expect(parseUnits("1", 0)).toBe("1");
    expect(parseUnits("12.000001", 6)).toBe("12000001");
    expect(formatUnits("500000000000000000", 18)).toBe("0.5");
    expect(formatUnits("1234567000000", 6)).toBe("1,234,567");
    expect(formatUnits("1", 8)).toBe("0.00000001");
    expect(formatUnits("0", 18)).toBe("0");
  });

  it("refuses what is not an exact amount", () => {
    for (const bad of ["", "-1", "1e18", "0x10", "1.2.3", " .5", "1,5"]) expect(() => parseUnits(bad, 18)).toThrow();
    expect(() => parseUnits("0.0000001", 6)).toThrow(/at most 6 decimals/);
  });

  it("whole units → smallest unit → whole units is exact", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.integer({ min: 0, max: 36 }), (units, decimals) => {
        const shown = formatUnits(units.toString(), decimals).replace(/,/g, "");
        expect(parseUnits(shown, decimals)).toBe(units.toString());
      }),
    );
  });

  it("describes a transfer from its metadata, else from the network's coin", () => {
    expect(transferAmount({ network: "Anvil", requestBody: { kind: "Native", amount: "1500000000000000000" } })).toBe("1.5 ETH");
    expect(transferAmount({ network: "Anvil", requestBody: { kind: "Erc20", amount: "2500000", contract: "0xabc" }, metadata: { asset: { symbol: "USDC", decimals: 6 } } })).toBe("2.5 USDC");
    expect(transferAmount({ network: "Anvil", requestBody: { kind: "Erc20", amount: "7", contract: "0xabc" } })).toBe("7 (smallest unit of token 0xabc)");
  });
});
