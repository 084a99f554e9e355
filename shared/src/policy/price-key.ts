// How a USD price is looked up: by network and token contract, never by symbol (a token anyone
// deployed under the symbol "USDC" must not borrow USDC's price). Edge and nodes key their price
// tables the same way (worker/src/policy/prices.ts, the nodes' `policyPrices`).
import { canonicalAddress } from "./addresses.js";
import type { AssetRef } from "./types.js";

/** "Ethereum" for the native asset, "Ethereum:0xa0b8…" (canonical contract) for a token. */
export function priceKey(network: string, asset: AssetRef): string {
  return asset.contract ? `${network}:${canonicalAddress(asset.contract)}` : network;
}
