// EVM transactions with viem: what a transfer means on chain (a call), the unsigned EIP-1559
// transaction, the digest the share holders sign, and the signed raw transaction. Nothing here
// talks to a node; fees, gas and nonce come in as numbers.
import {
  decodeErrorResult,
  encodeFunctionData,
  getAddress,
  keccak256,
  parseTransaction,
  recoverAddress,
  serializeTransaction,
  type Address,
  type Hex,
  type TransactionSerializableEIP1559,
} from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** What a transaction does, before gas, fees and nonce are chosen. */
export interface EvmCall {
  to: Address;
  value: bigint;
  data: Hex;
}

export const ERC20_ABI = [
  { type: "function", name: "transfer", stateMutability: "nonpayable", inputs: [{ name: "to", type: "address" }, { name: "amount", type: "uint256" }], outputs: [{ type: "bool" }] },
  { type: "function", name: "balanceOf", stateMutability: "view", inputs: [{ name: "owner", type: "address" }], outputs: [{ type: "uint256" }] },
  { type: "function", name: "decimals", stateMutability: "view", inputs: [], outputs: [{ type: "uint8" }] },
  { type: "function", name: "symbol", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
] as const;

export function nativeTransferCall(to: string, amount: bigint): EvmCall {
  return { to: getAddress(to), value: amount, data: "0x" };
}

export function erc20TransferCall(contract: string, to: string, amount: bigint): EvmCall {
  return { to: getAddress(contract), value: 0n, data: encodeFunctionData({ abi: ERC20_ABI, functionName: "transfer", args: [getAddress(to), amount] }) };
}

export interface Eip1559Fields {
  chainId: number;
  nonce: number;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export type UnsignedEip1559 = TransactionSerializableEIP1559 & { type: "eip1559" };

export function unsignedTransaction(call: EvmCall, fields: Eip1559Fields): UnsignedEip1559 {
  return { type: "eip1559", ...fields, to: call.to, value: call.value, data: call.data };
}

/** 0x02 || rlp([...]): the exact bytes whose keccak256 is signed (what @dfns/lib-viem sends as `transaction`). */
export function serializeUnsigned(tx: UnsignedEip1559): Hex {
  return serializeTransaction(tx);
}

export function signingDigest(unsignedHex: Hex): Hex {
  return keccak256(unsignedHex);
}

export function parseUnsigned(unsignedHex: Hex): UnsignedEip1559 {
  const tx = parseTransaction(unsignedHex);
  if (tx.type !== "eip1559") throw new Error(`expected an EIP-1559 transaction, got ${tx.type}`);
  return tx as UnsignedEip1559;
}

export interface EcdsaSignature {
  /** 0x-prefixed 32-byte hex. */
  r: Hex;
  s: Hex;
  recid: 0 | 1;
}

/** The signed raw transaction (what eth_sendRawTransaction takes) and its hash. */
export function serializeSigned(unsignedHex: Hex, sig: EcdsaSignature): { raw: Hex; hash: Hex } {
  const tx = parseUnsigned(unsignedHex);
  const raw = serializeTransaction(tx, { r: sig.r, s: sig.s, yParity: sig.recid });
  return { raw, hash: keccak256(raw) };
}

/** Who signed: a threshold signature that does not recover to the wallet's address is refused. */
export async function signerOf(unsignedHex: Hex, sig: EcdsaSignature): Promise<Address> {
  return recoverAddress({ hash: signingDigest(unsignedHex), signature: { r: sig.r, s: sig.s, yParity: sig.recid } });
}

/** The EVM address of a secp256k1 public key (hex, compressed or uncompressed, with or without 0x). */
export function evmAddressOf(publicKeyHex: string): Address {
  const hex = publicKeyHex.startsWith("0x") ? publicKeyHex.slice(2) : publicKeyHex;
  return publicKeyToAddress(`0x${secp256k1.Point.fromHex(hex).toHex(false)}`);
}

const ERROR_ABI = [
  { type: "error", name: "Error", inputs: [{ name: "message", type: "string" }] },
  { type: "error", name: "Panic", inputs: [{ name: "code", type: "uint256" }] },
] as const;

/** Human text for revert data: Error(string), Panic(uint256), or the raw selector for custom errors. */
export function describeRevert(data: unknown): string {
  if (typeof data !== "string" || !/^0x[0-9a-fA-F]*$/.test(data) || data === "0x") return "execution reverted";
  try {
    const decoded = decodeErrorResult({ abi: ERROR_ABI, data: data as Hex });
    if (decoded.errorName === "Error") return `execution reverted: ${String(decoded.args[0])}`;
    return `execution reverted: panic 0x${(decoded.args[0] as bigint).toString(16)}`;
  } catch {
    return `execution reverted: custom error ${data.slice(0, 10)}`;
  }
}
