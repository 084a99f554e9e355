// EVM transactions other than transfers, as the nodes check them: a contract call the user
// described (broadcastTransaction kinds Evm / Eip1559), a zero-value self-transfer that fills or
// cancels a nonce, and the transaction that replaces another at the same nonce (speed-up, cancel).
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { getAddress, keccak256, type parseTransaction } from "viem";
import { IntentError, type RulesContext } from "../family.js";
import { unsignedEvmTransaction } from "./rules.js";

type UnsignedTx = ReturnType<typeof parseTransaction>;

/** A contract call or value transfer the caller described, normalized (absent value "0", data "0x"). */
export interface EvmCallBody {
  kind: "Evm" | "Eip1559";
  to: string;
  value: string;
  data: string;
  gasLimit?: string | undefined;
  maxFeePerGas?: string | undefined;
  maxPriorityFeePerGas?: string | undefined;
}

/** The transaction is for the wallet's chain and carries no EIP-7702 authorizations. */
export function checkChain(tx: UnsignedTx, network: string, chainIdOf: RulesContext["chainIdOf"]): void {
  const chainId = chainIdOf(network);
  if (chainId === undefined) throw new IntentError(`network ${network} is not a known EVM network`);
  if (tx.chainId !== chainId) throw new IntentError(`the transaction is for chain ${tx.chainId ?? "(none)"}, the wallet's network ${network} is chain ${chainId}`);
  if (tx.type === "eip7702" || (tx as { authorizationList?: unknown[] }).authorizationList?.length) throw new IntentError("the transaction must not carry EIP-7702 authorizations");
}

/** The transaction the edge built must make exactly the call the user described, with the user's gas and fees where given. */
export function checkCallTransaction(call: EvmCallBody, transaction: string, network: string, chainIdOf: RulesContext["chainIdOf"]): void {
  const tx = unsignedEvmTransaction(transaction);
  checkChain(tx, network, chainIdOf);
  if (tx.type !== "eip1559") throw new IntentError(`the transaction is ${tx.type}, not EIP-1559`);
  if (tx.to?.toLowerCase() !== call.to.toLowerCase()) throw new IntentError(`the transaction calls ${tx.to ?? "(contract creation)"}, the user asked for ${call.to}`);
  if ((tx.value ?? 0n) !== BigInt(call.value)) throw new IntentError(`the transaction sends ${tx.value ?? 0n}, the user asked for ${call.value}`);
  if ((tx.data ?? "0x").toLowerCase() !== call.data.toLowerCase()) throw new IntentError("the call data is not the user's");
  if (call.gasLimit !== undefined && tx.gas !== BigInt(call.gasLimit)) throw new IntentError(`the gas limit is ${tx.gas}, the user set ${call.gasLimit}`);
  if (call.maxFeePerGas !== undefined && tx.maxFeePerGas !== BigInt(call.maxFeePerGas)) throw new IntentError(`maxFeePerGas is ${tx.maxFeePerGas}, the user set ${call.maxFeePerGas}`);
  if (call.maxPriorityFeePerGas !== undefined && tx.maxPriorityFeePerGas !== BigInt(call.maxPriorityFeePerGas)) {
    throw new IntentError(`maxPriorityFeePerGas is ${tx.maxPriorityFeePerGas}, the user set ${call.maxPriorityFeePerGas}`);
  }
}

/** The EVM address of a secp256k1 public key (hex, compressed or not). */
export function evmAddressOfKey(publicKeyHex: string): string {
  const point = secp256k1.Point.fromHex(publicKeyHex.startsWith("0x") ? publicKeyHex.slice(2) : publicKeyHex);
  return getAddress(`0x${keccak256(point.toBytes(false).slice(1)).slice(-40)}`);
}

/** A zero-value, data-less, 21000-gas transaction from the wallet to itself. */
export function checkSelfTransfer(tx: UnsignedTx, own: string): void {
  if (tx.to?.toLowerCase() !== own.toLowerCase()) throw new IntentError(`the transaction pays ${tx.to ?? "(contract creation)"}, not the wallet itself (${own})`);
  if ((tx.value ?? 0n) !== 0n) throw new IntentError("a self-transfer that fills or cancels a nonce sends no value");
  if ((tx.data ?? "0x") !== "0x") throw new IntentError("a self-transfer that fills or cancels a nonce carries no call data");
  if (tx.gas !== 21_000n) throw new IntentError(`a self-transfer uses 21000 gas, not ${tx.gas}`);
}

/** Did the key sign `digest`? (r, s as 0x-hex; the recovery bit is not needed to verify.) */
export function signedByKey(signature: { r: string; s: string }, digest: Uint8Array, publicKeyHex: string): boolean {
  const compact = hexToBytes(signature.r.slice(2) + signature.s.slice(2));
  const pub = hexToBytes(publicKeyHex.startsWith("0x") ? publicKeyHex.slice(2) : publicKeyHex);
  try {
    return secp256k1.verify(compact, digest, pub, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

/**
 * `after` may take `before`'s place: the same chain and nonce; a speed-up makes the same call with
 * the same gas, a cancel pays nothing to the wallet itself; both raise each fee by at least 10%
 * (less would not replace the original in a node's pool anyway).
 */
export function checkReplacement(mode: "SpeedUp" | "Cancel", beforeHex: string, afterHex: string, network: string, ownAddress: string, chainIdOf: RulesContext["chainIdOf"]): void {
  const before = unsignedEvmTransaction(beforeHex);
  const after = unsignedEvmTransaction(afterHex);
  checkChain(after, network, chainIdOf);
  if (after.nonce !== before.nonce || after.chainId !== before.chainId) throw new IntentError(`the replacement is at nonce ${after.nonce}, the original at ${before.nonce}`);
  if (mode === "Cancel") {
    checkSelfTransfer(after, ownAddress);
  } else {
    if (after.to?.toLowerCase() !== before.to?.toLowerCase() || (after.value ?? 0n) !== (before.value ?? 0n) || (after.data ?? "0x").toLowerCase() !== (before.data ?? "0x").toLowerCase()) {
      throw new IntentError("a speed-up must make the same call as the original");
    }
    if (after.gas !== before.gas) throw new IntentError("a speed-up keeps the original's gas limit");
  }
  const bumped = (a: bigint | undefined, b: bigint | undefined) => (a ?? 0n) * 10n >= (b ?? 0n) * 11n;
  if (!bumped(after.maxFeePerGas, before.maxFeePerGas) || !bumped(after.maxPriorityFeePerGas, before.maxPriorityFeePerGas)) throw new IntentError("a replacement must raise both fees by at least 10%");
}
