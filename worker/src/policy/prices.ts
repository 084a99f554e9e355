// USD prices for amount rules (Dfns limits are in USD). Prices are keyed by network and token
// contract, never by symbol: a token anyone deployed under the symbol "USDC" must not borrow
// USDC's price. The engine never fetches: the gate looks a price up here and passes it in, and
// an asset without a price makes every USD rule that needs it trigger (fail closed).
import { canonicalAddress } from "../../../shared/src/policy/addresses.js";
import { DecimalError, parseDecimal } from "../../../shared/src/policy/decimal.js";
import { priceKey } from "../../../shared/src/policy/price-key.js";
import type { AssetRef } from "../../../shared/src/policy/types.js";

export { priceKey };

export interface PriceSource {
  /** USD per whole unit of the asset (decimal string), or null when unknown. */
  usdPrice(network: string, asset: AssetRef): Promise<string | null>;
}

/**
 * Operator-configured reference prices, e.g. the POLICY_USD_PRICES variable:
 * `{"Ethereum": "3150.25", "Ethereum:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": "1"}`.
 * A hosted price feed implements the same interface.
 */
export class ConfiguredPrices implements PriceSource {
  private readonly prices: Map<string, string>;

  constructor(prices: Record<string, string | number>) {
    this.prices = new Map();
    for (const [key, value] of Object.entries(prices)) {
      const price = parseDecimal(value);
      if (price.units < 0n) throw new DecimalError(`negative price for ${key}`);
      const [network, contract] = key.split(":", 2);
      this.prices.set(contract ? `${network}:${canonicalAddress(contract)}` : network!, String(value));
    }
  }

  /** Reads POLICY_USD_PRICES (JSON object); unset means no prices at all. */
  static fromVariable(json: string | undefined): ConfiguredPrices {
    if (!json) return new ConfiguredPrices({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error("POLICY_USD_PRICES is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("POLICY_USD_PRICES must be a JSON object");
    return new ConfiguredPrices(parsed as Record<string, string | number>);
  }

  async usdPrice(network: string, asset: AssetRef): Promise<string | null> {
    return this.prices.get(priceKey(network, asset)) ?? null;
  }
}
