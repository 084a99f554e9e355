// What the broadcast layer needs to know about a wallet, and where it learns it. Wallets are
// created by the wallet module (DKG through the share-holder nodes); this layer only reads them.
import type { SignatureScheme } from "../signing/authorization.js";

export interface WalletRecord {
  id: string;
  orgId: string;
  /** Dfns network name, e.g. "Ethereum", "EthereumSepolia", "Anvil". */
  network: string;
  /** The EVM address derived from the key (checksummed or lower case). */
  address: string;
  status: "Active" | "Inactive" | "Archived";
  tags?: string[];
  signingKey: { id: string; publicKey: string } & SignatureScheme;
}

export interface WalletDirectory {
  /** The wallet if it exists in this org, else null (the route answers 404). */
  get(orgId: string, walletId: string): Promise<WalletRecord | null>;
}
