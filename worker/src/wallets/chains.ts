// Which key a wallet on a network needs, and how its address follows from the group public key.
// The address is computed here from the public key the share holders returned; nobody ever
// holds the private key, so this is the only place an address comes from.
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { base58, bech32m } from "@scure/base";
import { publicKeyToAddress } from "viem/accounts";
import type { Scheme as MpcScheme } from "../../../wasm/index.js";
import { EVM_NETWORKS, type EvmNetworkId } from "../networks/networks.js";

export type KeyScheme = "ECDSA" | "EdDSA" | "Schnorr";
export type KeyCurve = "secp256k1" | "ed25519";

export interface ChainFamily {
  scheme: KeyScheme;
  curve: KeyCurve;
  mpcScheme: MpcScheme;
  /** Hex public key (no 0x) as the share holders return it → the network's address, or null. */
  address(publicKeyHex: string): string | null;
}

const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

const evm: ChainFamily = {
  scheme: "ECDSA",
  curve: "secp256k1",
  mpcScheme: "ecdsa-secp256k1",
  address: (pk) => publicKeyToAddress(`0x${secp256k1.Point.fromHex(pk).toHex(false)}`),
};

const solana: ChainFamily = {
  scheme: "EdDSA",
  curve: "ed25519",
  mpcScheme: "frost-ed25519",
  address: (pk) => base58.encode(hexToBytes(pk)),
};

/**
 * Bitcoin Taproot (BIP341 key-path only, no script tree): the output key is the internal
 * key tweaked by H_TapTweak(P); the address is its x coordinate in bech32m, witness v1.
 */
function taproot(hrp: string): ChainFamily {
  return {
    scheme: "Schnorr",
    curve: "secp256k1",
    mpcScheme: "frost-bip340",
    address: (pk) => {
      const x = hexToBytes(pk);
      const P = secp256k1.Point.fromBytes(Uint8Array.from([0x02, ...x])); // BIP340: the even-y point
      const t = schnorr.utils.taggedHash("TapTweak", x);
      const Q = P.add(secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(t)));
      return bech32m.encode(hrp, [1, ...bech32m.toWords(Q.toBytes(true).slice(1))]);
    },
  };
}

const keyOnly = (scheme: KeyScheme, curve: KeyCurve, mpcScheme: MpcScheme): ChainFamily => ({ scheme, curve, mpcScheme, address: () => null });

const evmNetworks = Object.fromEntries(EVM_NETWORKS.map((n) => [n, evm])) as Record<EvmNetworkId, ChainFamily>;

/**
 * Networks a wallet may be created on (Dfns names): every Dfns EVM network (they transfer once the
 * deployment configures an RPC for them, worker/src/networks), and the others below.
 */
export const WALLET_NETWORKS = {
  ...evmNetworks,
  Solana: solana,
  SolanaDevnet: solana,
  SolanaLocal: solana,
  Bitcoin: taproot("bc"),
  BitcoinSignet: taproot("tb"),
  BitcoinTestnet3: taproot("tb"),
  KeyECDSA: keyOnly("ECDSA", "secp256k1", "ecdsa-secp256k1"),
  KeyEdDSA: keyOnly("EdDSA", "ed25519", "frost-ed25519"),
} as const satisfies Record<string, ChainFamily>;

export type WalletNetwork = keyof typeof WALLET_NETWORKS;
export const WALLET_NETWORK_NAMES = Object.keys(WALLET_NETWORKS) as [WalletNetwork, ...WalletNetwork[]];

export const isEvm = (network: WalletNetwork) => WALLET_NETWORKS[network] === evm;
