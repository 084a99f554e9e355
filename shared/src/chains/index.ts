// Every chain family's node-side rules, found by a wallet's network. A new chain is a new folder
// here (its ChainRules) and one line below.
import { bitcoinRules } from "./bitcoin/rules.js";
import { evmRules } from "./evm/rules.js";
import { solanaRules } from "./solana/rules.js";
import type { ChainRules, RulesContext } from "./family.js";

const FAMILIES: ChainRules[] = [evmRules, solanaRules, bitcoinRules];

/** The family that handles wallets on `network`, or null for a network no family knows. */
export function rulesFor(network: string, ctx: RulesContext): ChainRules | null {
  return FAMILIES.find((f) => f.owns(network, ctx)) ?? null;
}
