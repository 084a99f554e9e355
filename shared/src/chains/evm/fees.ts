// Fees and nonces of the EVM transactions the share holders sign: the edge chooses gas, fees and
// the nonce of every transaction it builds, so a compromised edge could burn a wallet's balance as
// fees (paid to a proposer it colludes with) or have the nodes pre-sign transactions at far-future
// nonces to broadcast later. Each node therefore checks, on every EVM transaction it signs:
//   - the org's fee ceiling for the transaction's chain, set by a governance entry the org's users
//     signed (PUT /tessera/fee-ceilings/:network): gas × maxFeePerGas (or gasPrice) ≤ maxFee and
//     maxPriorityFeePerGas (or, for a legacy transaction, gasPrice) ≤ maxPriorityFeePerGas;
//   - the nonce rule: no nonce more than NONCE_WINDOW past the next one after the highest this node
//     knows was signed for that key on that chain. A node learns a nonce by signing it, or from a
//     proof the edge attaches: a transaction at that nonce on that chain with a valid signature by
//     the key — which only a quorum of nodes can have produced. The window exists because the edge
//     signs a wallet's transactions concurrently (20 transfers at once get 20 consecutive nonces,
//     and reach each node in any order); strictly "the next nonce only" would refuse all but one.
//     So a compromised edge holding a genuine user action can get that one transaction signed at
//     most NONCE_WINDOW nonces ahead, never further, and each such nonce needs its own user action.
// Pure functions: the nodes run them in shared/src/mpc/authorization.ts; tests and the edge alike.
import { hexToBytes } from "@noble/hashes/utils.js";
import { keccak256, type Hex } from "viem";
import { signedByKey } from "./calls.js";
import { unsignedEvmTransaction } from "./rules.js";

/** A network's ceiling, in wei as decimal strings; null: that dimension is not capped. */
export interface FeeCeiling {
  /** Largest total fee one transaction may commit to: gas limit × maxFeePerGas (or gasPrice). */
  maxFee: string | null;
  /** Largest tip per gas: maxPriorityFeePerGas (EIP-1559) or, for a legacy transaction, gasPrice. */
  maxPriorityFeePerGas: string | null;
}

type UnsignedTx = ReturnType<typeof unsignedEvmTransaction>;

/** The fee the transaction commits to at most, and its tip per gas. */
export function feesOf(tx: UnsignedTx): { maxFee: bigint; priorityFeePerGas: bigint } {
  const perGas = tx.maxFeePerGas ?? tx.gasPrice ?? 0n;
  return { maxFee: (tx.gas ?? 0n) * perGas, priorityFeePerGas: tx.maxPriorityFeePerGas ?? tx.gasPrice ?? 0n };
}

/** Why the transaction exceeds the ceiling, or null. */
export function feeCeilingProblem(tx: UnsignedTx, ceiling: FeeCeiling | undefined, network: string): string | null {
  if (!ceiling) return null;
  const fees = feesOf(tx);
  if (ceiling.maxFee !== null && fees.maxFee > BigInt(ceiling.maxFee)) {
    return `the transaction may pay ${fees.maxFee} wei in fees (gas ${tx.gas ?? 0n} × ${tx.maxFeePerGas ?? tx.gasPrice ?? 0n}), above the org's ceiling of ${ceiling.maxFee} on ${network}`;
  }
  if (ceiling.maxPriorityFeePerGas !== null && fees.priorityFeePerGas > BigInt(ceiling.maxPriorityFeePerGas)) {
    return `the transaction tips ${fees.priorityFeePerGas} wei per gas, above the org's ceiling of ${ceiling.maxPriorityFeePerGas} on ${network}`;
  }
  return null;
}

/** The ceiling that applies to a transaction on `chainId`: the strictest of the networks with that chain id. */
export function ceilingForChain(ceilings: Readonly<Record<string, FeeCeiling>> | undefined, chainId: number | undefined, chainIdOf: (network: string) => number | undefined): { network: string; ceiling: FeeCeiling } | null {
  if (!ceilings || chainId === undefined) return null;
  let out: { network: string; ceiling: FeeCeiling } | null = null;
  const min = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : BigInt(a) <= BigInt(b) ? a : b);
  for (const [network, c] of Object.entries(ceilings)) {
    if (chainIdOf(network) !== chainId) continue;
    out = out ? { network: out.network, ceiling: { maxFee: min(out.ceiling.maxFee, c.maxFee), maxPriorityFeePerGas: min(out.ceiling.maxPriorityFeePerGas, c.maxPriorityFeePerGas) } } : { network, ceiling: c };
  }
  return out;
}

/** What nonces of one key on one chain a node counts together. */
export function nonceScope(keyId: string, chainId: number): string {
  return `${keyId}:${chainId}`;
}

/** A transaction signed by the key: the unsigned serialization and the 64-byte (r ‖ s) signature, hex. */
export interface NonceProof {
  transaction: string;
  signature: string;
}

/**
 * The nonce a proof shows the key signed on `chainId`, or null if it shows nothing (not a
 * transaction on that chain, or not signed by `publicKey` over its keccak256).
 */
export function provenNonce(proof: NonceProof, chainId: number, publicKey: string): number | null {
  let tx: UnsignedTx;
  try {
    tx = unsignedEvmTransaction(proof.transaction);
  } catch {
    return null;
  }
  if (tx.chainId !== chainId || tx.nonce === undefined || !/^[0-9a-f]{128}$/.test(proof.signature)) return null;
  const digest = hexToBytes(keccak256((proof.transaction.startsWith("0x") ? proof.transaction : `0x${proof.transaction}`) as Hex).slice(2));
  return signedByKey({ r: `0x${proof.signature.slice(0, 64)}`, s: `0x${proof.signature.slice(64)}` }, digest, publicKey) ? tx.nonce : null;
}

/** How many nonces from the next one a node signs ahead of what it knows signed: the edge's concurrent transactions of one wallet. */
export const NONCE_WINDOW = 32;

/**
 * The nonce rule: `nonce` must be below next + NONCE_WINDOW, next being one past the highest nonce
 * known signed (`seen`, from this node's own record or a valid proof), or 0 with nothing known.
 */
export function nonceGapProblem(nonce: number, seen: number | null): string | null {
  const next = seen === null ? 0 : seen + 1;
  return nonce >= next + NONCE_WINDOW
    ? `the transaction's nonce ${nonce} skips ahead: the highest nonce this node knows signed for the key on this chain is ${seen ?? "none"}, so nonces from ${next} to ${next + NONCE_WINDOW - 1} may be signed`
    : null;
}
