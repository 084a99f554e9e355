// Solana's standard JSON-RPC, the few methods a transfer needs, every answer validated with zod.
// The transport (failover across URLs, timeouts, telling a node's refusal from an unreachable
// node) is the shared JSON-RPC client; this file only knows Solana's method names and shapes, so a
// real cluster's URL (or a provider's) works exactly like the local validator's.
import { z } from "zod";
import { EvmRpc as JsonRpc, RpcError } from "../../networks/evm-rpc.js";
import type { NetworkConfig } from "../../networks/networks.js";

export { RpcError };

const u64 = z.union([z.number().int().nonnegative(), z.bigint()]).transform((n) => BigInt(n));
const context = z.object({ slot: u64 });
const withContext = <T extends z.ZodType>(value: T) => z.object({ context, value });

/** A TransactionError as Solana serialises it: a name, or {Name: details}. */
const txError = z.union([z.string(), z.record(z.string(), z.unknown())]);

const signatureStatus = z
  .object({
    slot: u64,
    confirmations: u64.nullable(),
    err: txError.nullable(),
    confirmationStatus: z.enum(["processed", "confirmed", "finalized"]).nullable().optional(),
  })
  .nullable();

const account = z
  .object({
    lamports: u64,
    owner: z.string(),
    data: z.tuple([z.string(), z.literal("base64")]),
    executable: z.boolean(),
  })
  .nullable();

const parsedTokenAccount = z.object({
  pubkey: z.string(),
  account: z.object({
    owner: z.string(),
    data: z.object({
      parsed: z.object({
        info: z.object({ mint: z.string(), tokenAmount: z.object({ amount: z.string().regex(/^\d+$/), decimals: z.number().int().min(0).max(255) }) }),
      }),
    }),
  }),
});

export type SignatureStatus = z.infer<typeof signatureStatus>;
export type TransactionErrorJson = z.infer<typeof txError>;

/** `confirmed` unless the network asks for more than a slot's worth of confirmations. */
export function commitmentOf(network: NetworkConfig): "confirmed" | "finalized" {
  return network.confirmations > 1 ? "finalized" : "confirmed";
}

export class SolanaRpc {
  private readonly rpc: JsonRpc;
  constructor(network: NetworkConfig) {
    this.rpc = new JsonRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });
  }

  async latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: bigint }> {
    const r = await this.rpc.call("getLatestBlockhash", [{ commitment: "confirmed" }], withContext(z.object({ blockhash: z.string(), lastValidBlockHeight: u64 })));
    return r.value;
  }

  async blockHeight(): Promise<bigint> {
    return this.rpc.call("getBlockHeight", [{ commitment: "confirmed" }], u64);
  }

  async balance(address: string): Promise<bigint> {
    return (await this.rpc.call("getBalance", [address, { commitment: "confirmed" }], withContext(u64))).value;
  }

  /** The account's owner program and raw data, or null when it does not exist. */
  async account(address: string): Promise<{ owner: string; data: Uint8Array; lamports: bigint } | null> {
    const r = await this.rpc.call("getAccountInfo", [address, { encoding: "base64", commitment: "confirmed" }], withContext(account));
    if (!r.value) return null;
    const bin = atob(r.value.data[0]);
    return { owner: r.value.owner, lamports: r.value.lamports, data: Uint8Array.from(bin, (c) => c.charCodeAt(0)) };
  }

  async tokenAccounts(owner: string, programId: string) {
    const r = await this.rpc.call("getTokenAccountsByOwner", [owner, { programId }, { encoding: "jsonParsed", commitment: "confirmed" }], withContext(z.array(parsedTokenAccount)));
    return r.value.map((a) => ({ address: a.pubkey, mint: a.account.data.parsed.info.mint, amount: a.account.data.parsed.info.tokenAmount.amount, decimals: a.account.data.parsed.info.tokenAmount.decimals }));
  }

  /** Sends a signed transaction (base64); returns its signature as the node reports it. */
  async send(base64: string, o: { skipPreflight: boolean }): Promise<string> {
    return this.rpc.call("sendTransaction", [base64, { encoding: "base64", skipPreflight: o.skipPreflight, preflightCommitment: "confirmed", maxRetries: 0 }], z.string());
  }

  async status(signature: string): Promise<SignatureStatus> {
    const r = await this.rpc.call("getSignatureStatuses", [[signature], { searchTransactionHistory: true }], withContext(z.array(signatureStatus).length(1)));
    return r.value[0]!;
  }

  /** The fee the transaction paid, from its metadata (null while the node has no record). */
  async fee(signature: string, commitment: "confirmed" | "finalized"): Promise<bigint | null> {
    const r = await this.rpc.call(
      "getTransaction",
      [signature, { encoding: "base64", commitment, maxSupportedTransactionVersion: 0 }],
      z.object({ meta: z.object({ fee: u64 }).nullable() }).nullable(),
    );
    return r?.meta?.fee ?? null;
  }
}

/** The err / logs of a refused sendTransaction (preflight failure: code -32002), when the node gave them. */
export function preflightFailure(err: RpcError): { err: TransactionErrorJson | null; logs: string[] } | null {
  if (err.failure.kind !== "rpc") return null;
  const data = z.object({ err: txError.nullable().optional(), logs: z.array(z.string()).nullable().optional() }).safeParse(err.failure.data);
  if (!data.success) return null;
  return { err: data.data.err ?? null, logs: data.data.logs ?? [] };
}

/** A TransactionError in words: `InstructionError [0, {"Custom":1}]`, `BlockhashNotFound`. */
export function describeTxError(e: TransactionErrorJson): string {
  if (typeof e === "string") return e;
  return Object.entries(e)
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
    .join(", ");
}
