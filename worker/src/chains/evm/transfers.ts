// EVM transfers behind the chain-family interface (../family.ts): EIP-1559 transactions built with
// viem, gas from eth_estimateGas, fees from eth_feeHistory, one nonce per transaction from the
// wallet's own counter (nonce-allocator.ts), keccak256 signed by the share holders, receipts
// tracked to the network's confirmations. Freed nonces that nobody takes are filled with a
// zero-value self-transfer (NonceFill) so later transactions are not stuck behind the gap.
import { decodeFunctionResult, encodeFunctionData, getAddress, parseTransaction, toHex, type Hex } from "viem";
import { describeRpcFailure, hexData, hexQuantity, receiptSchema, RpcError, transactionSchema, txHash, type EvmRpc, type Receipt } from "../../networks/evm-rpc.js";
import type { RequestRow } from "../../broadcast/request-store.js";
import type { WalletRecord } from "../../broadcast/wallet-directory.js";
import type { SigningAuthorization } from "../../signing/authorization.js";
import { normalizeEvmCall, type EvmCallBody, type SigningIntent } from "../../../../shared/src/mpc/intent.js";
import { FinalFailure, type ChainContext, type TransferChain, type Tracked } from "../family.js";
import { estimateFees, type Priority } from "./fees.js";
import { classifyNodeError } from "./node-refusals.js";
import { NONCE_SCHEMA, NonceAllocator } from "./nonce-allocator.js";
import {
  describeRevert,
  ERC20_ABI,
  parseUnsigned,
  serializeSigned,
  serializeUnsigned,
  signerOf,
  signingDigest,
  unsignedTransaction,
  type EcdsaSignature,
  type EvmCall,
} from "./transaction.js";

/**
 * What the share holders are asked to sign, in the wallet module's intent vocabulary
 * (shared/src/mpc/intent.ts), from which each node recomputes the digest itself:
 *   Transfer     the user's transfer body + the unsigned transaction built for it (nodes check
 *                to / value / data / chain id against the body);
 *   Transaction  the caller-built unsigned transaction, byte for byte as the user signed it;
 *   EvmCall      the caller's described call (broadcastTransaction Evm / Eip1559) + the transaction
 *                built for it with the wallet's nonce and the filled-in gas and fees;
 *   NonceFill    a zero-value, data-less transaction to the wallet itself at a freed nonce, under
 *                the user action of the request that freed it (nodes check exactly that shape);
 *   Replacement  a speed-up or cancel at the nonce of a request's first signed transaction.
 */
export type EvmSigningIntent =
  | { kind: "Transfer"; network: string; transfer: TransferIntentBody; transaction: Hex }
  | { kind: "Transaction"; transaction: Hex }
  | { kind: "EvmCall"; network: string; call: EvmCallBody; transaction: Hex }
  | { kind: "NonceFill"; network: string; transaction: Hex }
  | (Omit<Extract<SigningIntent, { kind: "Replacement" }>, "transaction"> & { transaction: Hex });

export type TransferIntentBody = { kind: "Native"; to: string; amount: string } | { kind: "Erc20"; contract: string; to: string; amount: string };

/** SignatureRequest.derivation as this family fills it. */
export interface EvmSigningDerivation {
  kind: EvmSigningIntent["kind"];
  /** The user's signed request body (for NonceFill: the body of the request that freed the nonce). */
  requestBody: string;
  intent: EvmSigningIntent;
}

/**
 * Speed-ups and cancels of a request: each a transaction at the request's nonce, signed under the
 * user's speed-up / cancel action, newest last. The request is final when any of its transactions
 * (the original or one of these) is mined.
 */
export const REPLACEMENT_SCHEMA = `CREATE TABLE IF NOT EXISTS evm_replacements (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, mode TEXT NOT NULL, unsigned_tx TEXT NOT NULL,
  raw_tx TEXT NOT NULL, tx_hash TEXT NOT NULL, created_at INTEGER NOT NULL)`;

interface ReplacementRow {
  [k: string]: string | number;
  seq: number;
  request_id: string;
  mode: "SpeedUp" | "Cancel";
  unsigned_tx: string;
  raw_tx: string;
  tx_hash: string;
}

export class EvmTransfers implements TransferChain {
  readonly schema = [...NONCE_SCHEMA, REPLACEMENT_SCHEMA];
  readonly nonces: NonceAllocator;

  constructor(
    private readonly ctx: ChainContext,
    private readonly rpc: EvmRpc,
  ) {
    this.nonces = new NonceAllocator(ctx.sql);
  }

  built(row: RequestRow): boolean {
    return row.unsigned_tx !== null && row.nonce !== null;
  }

  // ------------------------------------------------------------ build

  /** Gas, fees and nonce → the unsigned transaction. */
  async build(row: RequestRow): Promise<void> {
    if (row.unsigned_tx !== null) return this.claimCallerNonce(row);
    const { store } = this.ctx;
    const wallet = this.ctx.wallet();
    const call = callOf(row);
    const gas = row.gas_limit !== null ? BigInt(row.gas_limit) : await this.estimateGas(wallet.address, call);
    const fees = await this.fees(row);
    const chainPending = row.nonce === null ? Number(await this.rpc.call("eth_getTransactionCount", [wallet.address, "pending"], hexQuantity)) : null;
    const asset = row.kind === "Transfer" && row.asset === "{}" ? await this.erc20Metadata(call.to) : null;

    // From here on synchronous: the nonce is taken and the transaction written in one go.
    const fresh = store.get(row.id)!;
    if (fresh.status !== "Executing" || this.built(fresh)) return;
    const nonce = fresh.nonce ?? this.nonces.allocate(chainPending!);
    const unsigned = serializeUnsigned(unsignedTransaction(call, { chainId: this.ctx.network.chainId, nonce, gas, ...fees }));
    store.update(row.id, {
      nonce,
      unsigned_tx: unsigned,
      gas_limit: gas.toString(),
      max_fee: fees.maxFeePerGas.toString(),
      max_priority_fee: fees.maxPriorityFeePerGas.toString(),
      ...(asset ? { asset: JSON.stringify(asset) } : {}),
      attempts: 0,
      reason: null,
    });
  }

  /**
   * A caller-built transaction is signed exactly as the user signed it, nonce included, so its nonce
   * must be the wallet's next one (or one freed earlier): anything else would either wait forever
   * behind a gap or collide with another of this wallet's transactions.
   */
  private async claimCallerNonce(row: RequestRow): Promise<void> {
    const chainPending = Number(await this.rpc.call("eth_getTransactionCount", [this.ctx.wallet().address, "pending"], hexQuantity));
    const fresh = this.ctx.store.get(row.id)!;
    if (fresh.status !== "Executing" || fresh.nonce !== null) return;
    const wanted = parseUnsigned(row.unsigned_tx as Hex).nonce ?? 0;
    const claimed = this.nonces.claimExact(wanted, chainPending);
    if (!claimed.ok) throw new FinalFailure(claimed.reason);
    this.ctx.store.update(row.id, { nonce: wanted, attempts: 0, reason: null });
  }

  // ------------------------------------------------------------ sign

  /** The share holders sign the transaction's digest; the signature must recover to the wallet. */
  async sign(row: RequestRow): Promise<{ raw: string; hash: string }> {
    const wallet = this.ctx.wallet();
    const unsigned = row.unsigned_tx as Hex;
    const authorization = JSON.parse(row.authorization!) as SigningAuthorization;
    let signature: EcdsaSignature;
    try {
      const intent = intentOf(row, wallet);
      const derivation: EvmSigningDerivation = { kind: intent.kind, requestBody: row.request_body, intent };
      const sig = await this.ctx.signer.sign({ keyId: wallet.signingKey.id, message: signingDigest(unsigned).slice(2), derivation, authorization });
      signature = await normalizeSignature(unsigned, sig, wallet.address);
    } catch (err) {
      throw new FinalFailure(`Signing failed: ${(err as Error).message}`, { cause: err });
    }
    return serializeSigned(unsigned, signature);
  }

  // ------------------------------------------------------------ broadcast

  /** eth_sendRawTransaction with the one signed transaction of this request. */
  async broadcast(row: RequestRow): Promise<void> {
    const { store } = this.ctx;
    store.update(row.id, { broadcasts: row.broadcasts + 1 });
    try {
      const hash = await this.rpc.call("eth_sendRawTransaction", [row.raw_tx], txHash);
      if (hash.toLowerCase() !== row.tx_hash!.toLowerCase()) {
        store.update(row.id, { maybe_sent: 1 });
        throw new Error(`the RPC acknowledged transaction ${hash}, not ${row.tx_hash}`);
      }
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) {
        // Unknown whether the node took it: from now on the nonce is never given back.
        store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      const failure = err.failure as Extract<RpcError["failure"], { kind: "rpc" }>;
      const refusal = classifyNodeError(failure.message, failure.code);
      if (refusal === "temporary") {
        store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      if ((refusal === "rejected" || refusal === "insufficient-funds" || refusal === "reverted") && row.maybe_sent === 0) {
        throw new FinalFailure(`Broadcast refused: ${failure.message}`);
      }
      // already known, nonce used, underpriced replacement, or a refusal after an earlier attempt
      // may have gone through: the tracker finds out from the chain what became of this nonce.
    }
  }

  // ------------------------------------------------------------ track

  /** Receipt → confirmations → Confirmed / Failed; no receipt → replaced, or re-broadcast the same bytes. */
  async track(row: RequestRow): Promise<Tracked> {
    const rpc = this.rpc;
    const replacements = this.replacementsOf(row.id);
    if (replacements.length > 0) {
      const replaced = await this.trackReplacements(row, replacements);
      if (replaced) return replaced;
    }
    const hash = row.tx_hash!;
    const receipt = await rpc.call("eth_getTransactionReceipt", [hash], receiptSchema);
    if (receipt) return this.onReceipt(row, receipt);

    const mined = await rpc.call("eth_getTransactionCount", [this.ctx.wallet().address, "latest"], hexQuantity);
    if (mined > BigInt(row.nonce!)) {
      // The nonce is spent. By this transaction (or a replacement), mined between the calls? Ask once more.
      const again = await rpc.call("eth_getTransactionReceipt", [hash], receiptSchema);
      if (again) return this.onReceipt(row, again);
      if (replacements.length > 0) {
        const late = await this.trackReplacements(row, replacements);
        if (late) return late;
      }
      return { status: "Failed", reason: `Replaced: nonce ${row.nonce} was used by another transaction` };
    }
    // Still pending: the newest of its transactions is the one to keep in the node's pool.
    const newest = replacements[replacements.length - 1];
    const pending = newest ? { hash: newest.tx_hash, raw: newest.raw_tx } : { hash, raw: row.raw_tx! };
    const known = await rpc.call("eth_getTransactionByHash", [pending.hash], transactionSchema);
    if (known === null) {
      // Dropped from the node's pool (restart, eviction): send the same signed bytes again.
      try {
        await rpc.call("eth_sendRawTransaction", [pending.raw], txHash);
      } catch (err) {
        if (!(err instanceof RpcError) || !err.isNodeError) throw err;
        const f = err.failure as Extract<RpcError["failure"], { kind: "rpc" }>;
        const refusal = classifyNodeError(f.message, f.code);
        if (refusal !== "already-known" && refusal !== "nonce-used") throw err;
      }
      this.ctx.store.update(row.id, { broadcasts: row.broadcasts + 1 });
      return { status: "waiting", reason: `Not in the node's pool: re-broadcast the same signed transaction (${row.broadcasts + 1} sends)` };
    }
    return { status: "waiting" };
  }

  private async onReceipt(row: RequestRow, receipt: Receipt): Promise<Tracked> {
    const latest = await this.rpc.call("eth_blockNumber", [], hexQuantity);
    const confirmations = latest - receipt.blockNumber + 1n;
    const blockNumber = Number(receipt.blockNumber);
    if (confirmations < BigInt(this.ctx.network.confirmations)) return { status: "waiting", blockNumber };
    const fee = (receipt.gasUsed * receipt.effectiveGasPrice).toString();
    if (receipt.status === "0x1") return { status: "Confirmed", fee, blockNumber };
    const why = await this.revertReason(row, receipt.blockNumber);
    return { status: "Failed", reason: `Transaction reverted on chain: ${why}`, fee, blockNumber };
  }

  // ------------------------------------------------------------ speed-up and cancel

  private replacementsOf(requestId: string): ReplacementRow[] {
    return this.ctx.sql.exec<ReplacementRow>("SELECT seq, request_id, mode, unsigned_tx, raw_tx, tx_hash FROM evm_replacements WHERE request_id = ? ORDER BY seq", requestId).toArray();
  }

  /** A replacement that was mined decides the request: a speed-up confirms it, a cancel fails it. */
  private async trackReplacements(row: RequestRow, replacements: ReplacementRow[]): Promise<Tracked | null> {
    for (const r of [...replacements].reverse()) {
      const receipt = await this.rpc.call("eth_getTransactionReceipt", [r.tx_hash], receiptSchema);
      if (!receipt) continue;
      // The request now shows the transaction that was mined.
      this.ctx.store.update(row.id, { tx_hash: r.tx_hash, raw_tx: r.raw_tx, unsigned_tx: r.unsigned_tx });
      const outcome = await this.onReceipt({ ...row, tx_hash: r.tx_hash, unsigned_tx: r.unsigned_tx }, receipt);
      if (outcome.status !== "Confirmed" || r.mode === "SpeedUp") return outcome;
      return { status: "Failed", reason: `Cancelled: nonce ${row.nonce} was spent on a zero-value transaction to the wallet itself (${r.tx_hash})`, fee: outcome.fee, blockNumber: outcome.blockNumber };
    }
    return null;
  }

  /**
   * Replaces a broadcast, unconfirmed request's transaction at the same nonce: `SpeedUp` makes the
   * same call with fees raised to at least the current estimate for Fast and 12.5% over the last
   * attempt (a node's pool wants 10%); `Cancel` sends nothing to the wallet itself with those fees.
   * Signed under the user's speed-up / cancel action; the share holders check it against the
   * original request (its user action, intent and signature: see shared/src/mpc/intent.ts).
   */
  async replace(row: RequestRow, mode: "SpeedUp" | "Cancel", userAction: SigningAuthorization["userAction"]): Promise<{ hash: string }> {
    if (row.kind === "NonceFill" || row.raw_tx === null || row.unsigned_tx === null || row.nonce === null) throw new FinalFailure("this request has no transaction to replace yet");
    const wallet = this.ctx.wallet();
    const original = parseUnsigned(row.unsigned_tx as Hex);
    const previous = this.replacementsOf(row.id);
    const last = previous.length ? parseUnsigned(previous[previous.length - 1]!.unsigned_tx as Hex) : original;
    const estimate = await estimateFees(this.rpc, "Fast");
    const bump = (v: bigint | undefined) => ((v ?? 0n) * 1125n) / 1000n + 1n;
    const tip = estimate.maxPriorityFeePerGas > bump(last.maxPriorityFeePerGas) ? estimate.maxPriorityFeePerGas : bump(last.maxPriorityFeePerGas);
    let cap = estimate.maxFeePerGas > bump(last.maxFeePerGas) ? estimate.maxFeePerGas : bump(last.maxFeePerGas);
    if (cap < tip) cap = tip;
    const call: EvmCall = mode === "SpeedUp" ? { to: getAddress(original.to!), value: original.value ?? 0n, data: original.data ?? "0x" } : { to: getAddress(wallet.address), value: 0n, data: "0x" };
    const unsigned = serializeUnsigned(
      unsignedTransaction(call, { chainId: this.ctx.network.chainId, nonce: row.nonce, gas: mode === "SpeedUp" ? original.gas! : 21_000n, maxFeePerGas: cap, maxPriorityFeePerGas: tip }),
    );
    const firstSig = parseTransaction(row.raw_tx as Hex);
    const authorization = JSON.parse(row.authorization!) as SigningAuthorization;
    const intent: EvmSigningIntent = {
      kind: "Replacement",
      network: wallet.network,
      mode,
      original: {
        userAction: authorization.userAction as unknown as Record<string, unknown>,
        intent: intentOf(row, wallet) as Extract<SigningIntent, { kind: "Replacement" }>["original"]["intent"],
        signature: { r: firstSig.r!, s: firstSig.s!, yParity: (firstSig.yParity ?? 0) as 0 | 1 },
      },
      transaction: unsigned,
    };
    const sig = await this.ctx.signer.sign({
      keyId: wallet.signingKey.id,
      message: signingDigest(unsigned).slice(2),
      derivation: { kind: "Replacement", requestBody: userAction.payload, intent } as EvmSigningDerivation,
      authorization: { ...authorization, userAction },
    });
    const signed = serializeSigned(unsigned, await normalizeSignature(unsigned, sig, wallet.address));
    this.ctx.sql.exec(
      "INSERT INTO evm_replacements (request_id, mode, unsigned_tx, raw_tx, tx_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      row.id,
      mode,
      unsigned,
      signed.raw,
      signed.hash,
      this.ctx.now(),
    );
    try {
      await this.rpc.call("eth_sendRawTransaction", [signed.raw], txHash);
    } catch (err) {
      // Kept either way: the tracker re-sends it while the request is pending, and a mined
      // original still settles the request.
      console.error(`${mode} of ${row.id}: broadcast: ${(err as Error).message}`);
    }
    return { hash: signed.hash };
  }

  // ------------------------------------------------------------ release

  /** Final failure before the transaction could reach the chain: its nonce (if any) goes back. */
  release(row: RequestRow): void {
    if (row.nonce === null) return;
    const origin = row.kind === "NonceFill" ? (row.origin_id ?? row.id) : row.id;
    this.nonces.release(row.nonce, origin, this.ctx.now(), row.kind === "NonceFill" ? row.fill_round + 1 : 0);
    this.ctx.store.update(row.id, { nonce: null });
  }

  unbuild(row: RequestRow): Partial<RequestRow> {
    this.release(row);
    // What the caller gave stays (a caller-built transaction, its gas and fees); the rest is built again.
    const body = JSON.parse(row.request_body) as { kind?: string; gasLimit?: string | number; maxFeePerGas?: string | number; maxPriorityFeePerGas?: string | number };
    const given = (v: string | number | undefined) => (v === undefined ? null : BigInt(v).toString());
    return {
      nonce: null,
      unsigned_tx: body.kind === "Transaction" ? row.unsigned_tx : null,
      gas_limit: given(body.gasLimit),
      max_fee: body.kind === "Eip1559" ? given(body.maxFeePerGas) : null,
      max_priority_fee: body.kind === "Eip1559" ? given(body.maxPriorityFeePerGas) : null,
    };
  }

  // ------------------------------------------------------------ nonce gaps

  readonly housekeeping = {
    run: (now: number) => this.fillNonceGaps(now),
    nextWakeAt: (): number | null => {
      if (this.ctx.store.countAwaitingNonce() > 0) return null;
      const times = this.nonces.free().map((f) => f.releasedAt + this.fillDelay(f.attempts));
      return times.length ? Math.min(...times) : null;
    },
    busy: () => this.nonces.free().length > 0,
  };

  /**
   * A freed nonce that no new request has taken within the delay is spent on a zero-value
   * transfer to the wallet itself, signed under the authorization of the request that freed it,
   * so that transactions queued behind it execute. (Requests still waiting for a nonce take free
   * ones first, so no fill is made while there are any.)
   */
  private fillNonceGaps(now: number): void {
    const { store } = this.ctx;
    if (store.countAwaitingNonce() > 0) return;
    for (const free of this.nonces.free()) {
      if (free.releasedAt + this.fillDelay(free.attempts) > now) continue;
      const origin = store.get(free.originId);
      if (!origin) continue;
      this.nonces.claim(free.nonce);
      store.insert({
        id: this.ctx.newId("tx"),
        kind: "NonceFill",
        wallet_id: origin.wallet_id,
        network: origin.network,
        external_id: null,
        status: "Executing",
        reason: null,
        request_body: origin.request_body,
        requester: origin.requester,
        authorization: origin.authorization,
        reservation_id: null,
        approval_id: null,
        origin_id: origin.kind === "NonceFill" ? origin.origin_id : origin.id,
        fill_round: free.attempts,
        call_to: getAddress(this.ctx.wallet().address),
        call_value: "0",
        call_data: "0x",
        gas_limit: "21000",
        max_fee: null,
        max_priority_fee: null,
        priority: "Fast",
        asset: "{}",
        nonce: free.nonce,
        next_attempt_at: now,
        date_requested: new Date(now).toISOString(),
        date_policy_resolved: null,
      });
    }
  }

  private fillDelay(attempts: number): number {
    return Math.min(this.ctx.timing.nonceFillDelayMs * 2 ** attempts, 10 * 60_000);
  }

  // ------------------------------------------------------------ chain reads

  private async estimateGas(from: string, call: EvmCall): Promise<bigint> {
    try {
      const gas = await this.rpc.call("eth_estimateGas", [{ from, to: call.to, value: toHex(call.value), data: call.data }], hexQuantity);
      // Plain value transfers cost exactly what is estimated; calls get headroom for state changes.
      return call.data === "0x" ? gas : (gas * 120n) / 100n;
    } catch (err) {
      if (err instanceof RpcError && err.failure.kind === "rpc") {
        const refusal = classifyNodeError(err.failure.message, err.failure.code);
        if (refusal === "reverted") throw new FinalFailure(revertText(err.failure.message, err.failure.data));
        if (refusal === "insufficient-funds") throw new FinalFailure(`Insufficient funds: ${err.failure.message}`);
      }
      throw err;
    }
  }

  private async fees(row: RequestRow): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    if (row.max_fee !== null && row.max_priority_fee !== null) return { maxFeePerGas: BigInt(row.max_fee), maxPriorityFeePerGas: BigInt(row.max_priority_fee) };
    const estimated = await estimateFees(this.rpc, row.priority as Priority);
    if (row.max_fee !== null) {
      const cap = BigInt(row.max_fee);
      return { maxFeePerGas: cap, maxPriorityFeePerGas: estimated.maxPriorityFeePerGas < cap ? estimated.maxPriorityFeePerGas : cap };
    }
    if (row.max_priority_fee !== null) {
      const tip = BigInt(row.max_priority_fee);
      return { maxPriorityFeePerGas: tip, maxFeePerGas: estimated.maxFeePerGas - estimated.maxPriorityFeePerGas + tip };
    }
    return estimated;
  }

  /** Replays a reverted transaction on the state before its block to learn the revert reason. */
  private async revertReason(row: RequestRow, blockNumber: bigint): Promise<string> {
    const call = callOf(row);
    try {
      await this.rpc.call(
        "eth_call",
        [{ from: this.ctx.wallet().address, to: call.to, value: toHex(call.value), data: call.data, gas: toHex(BigInt(row.gas_limit!)) }, toHex(blockNumber - 1n)],
        hexData,
      );
      return "execution reverted (replaying it gave no reason)";
    } catch (err) {
      if (err instanceof RpcError && err.failure.kind === "rpc") return revertText(err.failure.message, err.failure.data);
      return `execution reverted (reason unavailable: ${err instanceof RpcError ? describeRpcFailure(err.failure) : (err as Error).message})`;
    }
  }

  /** Symbol and decimals of an ERC-20, for the transfer's metadata (best effort: absent if unreadable). */
  private async erc20Metadata(contract: string): Promise<{ symbol?: string; decimals?: number }> {
    const read = async (functionName: "symbol" | "decimals") => {
      const data = encodeFunctionData({ abi: ERC20_ABI, functionName });
      const out = await this.rpc.call("eth_call", [{ to: contract, data }, "latest"], hexData);
      return decodeFunctionResult({ abi: ERC20_ABI, functionName, data: out });
    };
    try {
      const [symbol, decimals] = await Promise.all([read("symbol"), read("decimals")]);
      return { symbol: String(symbol), decimals: Number(decimals) };
    } catch (err) {
      if (err instanceof RpcError && !err.isNodeError) throw err; // the chain is unreachable: retry the step
      return {};
    }
  }
}

async function normalizeSignature(unsigned: Hex, sig: { r: string; s: string; recid?: 0 | 1 }, address: string): Promise<EcdsaSignature> {
  const pad = (h: string) => `0x${(h.startsWith("0x") ? h.slice(2) : h).padStart(64, "0")}` as Hex;
  const candidates: (0 | 1)[] = sig.recid === undefined ? [0, 1] : [sig.recid];
  for (const recid of candidates) {
    const s = { r: pad(sig.r), s: pad(sig.s), recid };
    if ((await signerOf(unsigned, s)).toLowerCase() === address.toLowerCase()) return s;
  }
  throw new Error("the threshold signature does not recover to the wallet's address");
}

function intentOf(row: RequestRow, wallet: WalletRecord): EvmSigningIntent {
  const transaction = row.unsigned_tx as Hex;
  if (row.kind === "Transaction") {
    const body = JSON.parse(row.request_body) as { kind: string };
    if (body.kind === "Evm" || body.kind === "Eip1559") return { kind: "EvmCall", network: wallet.network, call: normalizeEvmCall(body as Parameters<typeof normalizeEvmCall>[0]), transaction };
    return { kind: "Transaction", transaction };
  }
  if (row.kind === "NonceFill") return { kind: "NonceFill", network: wallet.network, transaction };
  const body = JSON.parse(row.request_body) as TransferIntentBody;
  const transfer: TransferIntentBody =
    body.kind === "Native" ? { kind: "Native", to: body.to, amount: body.amount } : { kind: "Erc20", contract: body.contract, to: body.to, amount: body.amount };
  return { kind: "Transfer", network: wallet.network, transfer, transaction };
}

function callOf(row: RequestRow): EvmCall {
  return { to: getAddress(row.call_to), value: BigInt(row.call_value), data: row.call_data as Hex };
}

function revertText(message: string, data: unknown): string {
  const decoded = describeRevert(data);
  return decoded === "execution reverted" && /revert/i.test(message) ? message : decoded;
}

/** The EVM family's transfer logic for one wallet's object, on this RPC. */
export const evmTransfers = (rpc: EvmRpc) => (ctx: ChainContext) => new EvmTransfers(ctx, rpc);
