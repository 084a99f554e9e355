// Dfns wire shapes for transfers and broadcast transactions (@dfns/sdk 0.8.21,
// generated/wallets/types.d.ts): the request bodies as zod schemas, the responses as types.
import { z } from "zod";
import { isKnownAddress } from "../chains/index.js";

const evmAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte EVM address");
/** Any family's address here; the wallet's own family checks it against its network once the wallet is known. */
const recipient = z.string().min(1).max(128).refine(isKnownAddress, "must be an address on a supported network");
const MAX_UINT256 = (1n << 256n) - 1n;
/** Dfns amounts are decimal strings in the asset's minimum unit. */
const uint256 = z
  .string()
  .regex(/^[0-9]{1,78}$/, "must be a decimal string of the amount in minimum units")
  // zod runs every check even after one failed: only parse what the pattern accepted.
  .refine((s) => !/^[0-9]{1,78}$/.test(s) || BigInt(s) <= MAX_UINT256, "exceeds uint256");
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex").max(2 * 128 * 1024);
const externalId = z.string().min(1).max(256);
const priority = z.enum(["Slow", "Standard", "Fast"]);

const base58Address = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "must be a base58 address");
const memo = z.string().max(256).optional();

export const transferBody = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("Native"),
    to: recipient,
    amount: uint256,
    priority: priority.optional(),
    memo,
    createDestinationAccount: z.boolean().optional(),
    useDurableNonce: z.boolean().optional(),
    externalId: externalId.optional(),
  }),
  z.object({ kind: z.literal("Erc20"), contract: evmAddress, to: recipient, amount: uint256, priority: priority.optional(), externalId: externalId.optional() }),
  /** Solana tokens: the mint, and whether to create the recipient's associated token account. */
  z.object({
    kind: z.enum(["Spl", "Spl2022"]),
    mint: base58Address,
    to: recipient,
    amount: uint256,
    memo,
    createDestinationAccount: z.boolean().optional(),
    useDurableNonce: z.boolean().optional(),
    externalId: externalId.optional(),
  }),
]);
export type TransferBody = z.infer<typeof transferBody>;

const callFields = {
  to: evmAddress,
  value: uint256.optional(),
  data: hex.optional(),
  gasLimit: uint256.optional(),
  // The nonce is the wallet's own business (allocated in its Durable Object): a caller-chosen one
  // could silently replace or block another pending transfer, so it is refused with a clear 400.
  nonce: z.never({ error: "nonce is managed per wallet by Tessera; omit it" }).optional(),
  externalId: externalId.optional(),
};

export const broadcastBody = z.discriminatedUnion("kind", [
  /** An unsigned EIP-1559 transaction, serialized (0x02…), signed exactly as given: its nonce must be the wallet's next. */
  z.object({ kind: z.literal("Transaction"), transaction: hex, externalId: externalId.optional() }),
  z.object({ kind: z.literal("Evm"), ...callFields }),
  z.object({ kind: z.literal("Eip1559"), ...callFields, maxFeePerGas: uint256.optional(), maxPriorityFeePerGas: uint256.optional() }),
]);
export type BroadcastBody = z.infer<typeof broadcastBody>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  paginationToken: z.string().max(64).optional(),
});

export type RequestStatus = "Pending" | "Executing" | "Broadcasted" | "Confirmed" | "Failed" | "Rejected";

export interface Requester {
  userId: string;
  tokenId?: string;
}

/** Fields common to TransferRequest and TransactionRequest. */
interface ChainRequest {
  id: string;
  walletId: string;
  network: string;
  requester: Requester;
  status: RequestStatus;
  reason?: string;
  txHash?: string;
  fee?: string;
  dateRequested: string;
  datePolicyResolved?: string;
  dateBroadcasted?: string;
  dateConfirmed?: string;
  approvalId?: string;
  externalId?: string;
  details?: Record<string, string | number>;
}

export interface TransferRequest extends ChainRequest {
  requestBody: TransferBody;
  metadata: { asset: { symbol?: string; decimals?: number; verified?: boolean } };
}

export interface TransactionRequest extends ChainRequest {
  requestBody: BroadcastBody;
}
