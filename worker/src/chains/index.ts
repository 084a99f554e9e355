// Every chain family the edge knows, by the `family` of a network's configuration
// (../networks/networks.ts). A new chain is a new folder here plus its networks there.
import type { NetworkConfig } from "../networks/networks.js";
import { bitcoinFamily } from "./bitcoin/index.js";
import { evmFamily } from "./evm/index.js";
import { solanaFamily } from "./solana/index.js";
import type { ChainFamily, FamilyName } from "./family.js";

const FAMILIES: Partial<Record<FamilyName, ChainFamily>> = {
  evm: evmFamily,
  solana: solanaFamily,
  bitcoin: bitcoinFamily,
};

/** The family that handles `network`'s transfers. */
export function familyOf(network: NetworkConfig): ChainFamily {
  const family = FAMILIES[network.family];
  if (!family) throw new Error(`no chain family ${network.family} in this build`);
  return family;
}

/** Could `address` be a recipient on any network this deployment knows? (checked before the wallet is read) */
export function isKnownAddress(address: string): boolean {
  return Object.values(FAMILIES).some((f) => f.isAddress(address));
}
