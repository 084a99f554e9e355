// Which key a wallet on a network needs, and how its address follows from the group public key.
// The address is computed here from the public key the share holders returned; nobody ever
// holds the private key, so this is the only place an address comes from.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { base58 } from "@scure/base";
import { publicKeyToAddress } from "viem/accounts";
import { walletAddress } from "../../../shared/src/chains/bitcoin/rules.js";
import type { Scheme as MpcScheme } from "../../../wasm/index.js";
import { EVM_NETWORKS, type EvmNetworkId } from "../networks/networks.js";

export type KeyScheme = "ECDSA" | "EdDSA" | "Schnorr";
export type KeyCurve = "secp256k1" | "ed25519";

/** A kind of key a wallet on a network may have, and the address it gives there. */
export interface KeyKind {
  scheme: KeyScheme;
  curve: KeyCurve;
  mpcScheme: MpcScheme;
  /** Hex public key (no 0x) as the share holders return it → the network's address, or null. */
  address(publicKeyHex: string): string | null;
}

/** A network's default key kind, and the other kinds a caller may ask for (`signingKey.scheme`). */
export type WalletNetworkSpec = KeyKind & { others?: readonly KeyKind[] };

/**
 * The address a key has on a network, remembered per isolate: every request that names a wallet
 * checks its stored address against it, and deriving it (a point decompression and a hash) is
 * pure, so the answer for the same network, scheme and key never changes.
 */
const derived = new Map<string, string | null>();
function derivedAddress(w: { network: string; scheme: KeyScheme; publicKey: string }): string | null {
  const k = `${w.network} ${w.scheme} ${w.publicKey}`;
  const known = derived.get(k);
  if (known !== undefined) return known;
  const kind = walletKeyKind(w);
  let address: string | null = null;
  try {
    address = kind ? kind.address(w.publicKey) : null;
  } catch {
    address = null;
  }
  if (derived.size >= 4096) derived.clear();
  derived.set(k, address);
  return address;
}

const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

const evm: KeyKind = {
  scheme: "ECDSA",
  curve: "secp256k1",
  mpcScheme: "ecdsa-secp256k1",
  address: (pk) => publicKeyToAddress(`0x${secp256k1.Point.fromHex(pk).toHex(false)}`),
};

const solana: KeyKind = {
  scheme: "EdDSA",
  curve: "ed25519",
  mpcScheme: "frost-ed25519",
  address: (pk) => base58.encode(hexToBytes(pk)),
};

/**
 * Bitcoin as Dfns has it: ECDSA (DKLs23) → P2WPKH, the default; Schnorr (FROST BIP340) → Taproot
 * key path, whose address is the group key as the share holders return it (frost-secp256k1-tr
 * applies the BIP341 tweak at keygen; see shared/src/chains/bitcoin/rules.ts).
 */
function bitcoin(network: string): WalletNetworkSpec {
  return {
    scheme: "ECDSA",
    curve: "secp256k1",
    mpcScheme: "ecdsa-secp256k1",
    address: (pk) => walletAddress("ecdsa-secp256k1", pk, network),
    others: [{ scheme: "Schnorr", curve: "secp256k1", mpcScheme: "frost-bip340", address: (pk) => walletAddress("frost-bip340", pk, network) }],
  };
}

const keyOnly = (scheme: KeyScheme, curve: KeyCurve, mpcScheme: MpcScheme): KeyKind => ({ scheme, curve, mpcScheme, address: () => null });

const evmNetworks = Object.fromEntries(EVM_NETWORKS.map((n) => [n, evm])) as Record<EvmNetworkId, KeyKind>;

/**
 * Networks a wallet may be created on (Dfns names): every Dfns EVM network (they transfer once the
 * deployment configures an RPC for them, worker/src/networks), and the others below.
 */
export const WALLET_NETWORKS = {
  ...evmNetworks,
  Solana: solana,
  SolanaDevnet: solana,
  SolanaLocal: solana,
  Bitcoin: bitcoin("Bitcoin"),
  BitcoinSignet: bitcoin("BitcoinSignet"),
  BitcoinTestnet3: bitcoin("BitcoinTestnet3"),
  BitcoinRegtest: bitcoin("BitcoinRegtest"),
  KeyECDSA: keyOnly("ECDSA", "secp256k1", "ecdsa-secp256k1"),
  KeyEdDSA: keyOnly("EdDSA", "ed25519", "frost-ed25519"),
} as const satisfies Record<string, WalletNetworkSpec>;

export type WalletNetwork = keyof typeof WALLET_NETWORKS;
export const WALLET_NETWORK_NAMES = Object.keys(WALLET_NETWORKS) as [WalletNetwork, ...WalletNetwork[]];

export const isEvm = (network: WalletNetwork) => WALLET_NETWORKS[network] === evm;

/** The key kind for a wallet on `network`: the default, or the one with `scheme`; null when the network has none such. */
export function keyKindFor(network: WalletNetwork, scheme?: KeyScheme): KeyKind | null {
  const spec: WalletNetworkSpec = WALLET_NETWORKS[network];
  if (scheme === undefined || scheme === spec.scheme) return spec;
  return spec.others?.find((k) => k.scheme === scheme) ?? null;
}

/** The kind of an existing wallet's key (its network and scheme). */
export function walletKeyKind(w: { network: string; scheme: KeyScheme }): KeyKind | null {
  return Object.hasOwn(WALLET_NETWORKS, w.network) ? keyKindFor(w.network as WalletNetwork, w.scheme) : null;
}

/**
 * Why a stored wallet's address must not be shown, or null. Bitcoin Taproot wallets made before
 * the double-tweak fix carry an address nobody can sign for: they are refused, never displayed.
 */
export function walletAddressProblem(w: { id: string; network: string; scheme: KeyScheme; publicKey: string; address: string | null }): string | null {
  if (w.address === null) return null;
  if (derivedAddress(w) === w.address) return null;
  return `Wallet ${w.id} was created with an address its key cannot spend from (${w.network} Taproot addresses were tweaked twice before this was fixed); it cannot be used. Create a new wallet and move nothing to ${w.address}.`;
}
