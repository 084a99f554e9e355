// EVM transfers as the nodes check them: the user's body is {kind: "Native", to, amount} or
// {kind: "Erc20", contract, to, amount}; the edge's unsigned EIP-1559 transaction must pay exactly
// that (recipient, value, call data, the wallet's chain id) and is signed as keccak256 of its bytes.
import { hexToBytes } from "@noble/hashes/utils.js";
import { encodeFunctionData, erc20Abi, isAddress, keccak256, parseTransaction, type Hex } from "viem";
import { z } from "zod";
import { EVM_CHAIN_ID_DEFAULTS } from "../../dfns/evm-networks.js";
import { IntentError, type ChainRules, type JsonObject, type RulesContext } from "../family.js";

/**
 * EVM chain ids by Dfns network name (shared/src/dfns/evm-networks.ts). The local Anvil chain is
 * left out: a node accepts it only when its configuration names it (evmChainIds).
 */
export const EVM_CHAIN_IDS: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(EVM_CHAIN_ID_DEFAULTS).filter(([name]) => name !== "Anvil"));

const address = z.string().refine((a) => isAddress(a, { strict: false }), "must be an EVM address");
const amount = z.string().regex(/^[0-9]{1,78}$/, "must be a decimal integer in the token's smallest unit");
const transferBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("Native"), to: address, amount }),
  z.object({ kind: z.literal("Erc20"), contract: address, to: address, amount }),
]);
export type EvmTransferBody = z.infer<typeof transferBody>;

const as0x = (h: string): Hex => (h.startsWith("0x") ? h : `0x${h}`) as Hex;

export function unsignedEvmTransaction(hex: string) {
  let tx: ReturnType<typeof parseTransaction>;
  try {
    tx = parseTransaction(as0x(hex));
  } catch (e) {
    throw new IntentError(`not a serialized EVM transaction: ${(e as Error).message.split("\n")[0]}`);
  }
  if (tx.r !== undefined || tx.s !== undefined || tx.yParity !== undefined) throw new IntentError("the transaction is already signed");
  return tx;
}

/** The transaction the edge built must do exactly what the user's transfer body says. */
export function checkTransferTransaction(transfer: EvmTransferBody, transaction: string, network: string, chainIdOf: RulesContext["chainIdOf"]): void {
  const tx = unsignedEvmTransaction(transaction);
  const chainId = chainIdOf(network);
  if (chainId === undefined) throw new IntentError(`network ${network} is not a known EVM network`);
  if (tx.chainId !== chainId) throw new IntentError(`the transaction is for chain ${tx.chainId ?? "(none)"}, the wallet's network ${network} is chain ${chainId}`);
  if (tx.type === "eip7702" || (tx as { authorizationList?: unknown[] }).authorizationList?.length) throw new IntentError("a transfer must not carry EIP-7702 authorizations");
  const to = tx.to?.toLowerCase();
  const value = tx.value ?? 0n;
  const data = (tx.data ?? "0x").toLowerCase();
  if (transfer.kind === "Native") {
    if (to !== transfer.to.toLowerCase()) throw new IntentError(`the transaction pays ${tx.to ?? "(contract creation)"}, the user asked to pay ${transfer.to}`);
    if (value !== BigInt(transfer.amount)) throw new IntentError(`the transaction sends ${value}, the user asked for ${transfer.amount}`);
    if (data !== "0x") throw new IntentError("a native transfer carries no call data");
    return;
  }
  if (to !== transfer.contract.toLowerCase()) throw new IntentError(`the transaction calls ${tx.to ?? "(contract creation)"}, the user's token is ${transfer.contract}`);
  if (value !== 0n) throw new IntentError("a token transfer sends no native value");
  const expected = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [transfer.to as Hex, BigInt(transfer.amount)] }).toLowerCase();
  if (data !== expected) throw new IntentError(`the call data is not transfer(${transfer.to}, ${transfer.amount})`);
}

export const evmRules: ChainRules = {
  owns: (network, ctx) => ctx.chainIdOf(network) !== undefined,
  schemes: () => ["ecdsa-secp256k1"],
  transferBody(body): JsonObject {
    const parsed = transferBody.safeParse(body);
    if (!parsed.success) throw new IntentError(`user's transfer request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
    const b = parsed.data;
    return b.kind === "Native" ? { kind: "Native", to: b.to, amount: b.amount } : { kind: "Erc20", contract: b.contract, to: b.to, amount: b.amount };
  },
  transferMessage(intent, key, ctx) {
    if (key.scheme !== "ecdsa-secp256k1") throw new IntentError(`EVM transfers are signed with ECDSA, not ${key.scheme}`);
    if (intent.index !== undefined) throw new IntentError("an EVM transaction has one signature");
    const transfer = this.transferBody(intent.transfer, intent.network) as EvmTransferBody;
    checkTransferTransaction(transfer, intent.transaction, intent.network, ctx.chainIdOf);
    return hexToBytes(keccak256(as0x(intent.transaction)).slice(2));
  },
};
