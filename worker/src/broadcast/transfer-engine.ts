// The life of one wallet's outgoing transactions, as a state machine over its Durable Object's
// SQLite rows:
//
//   Pending ──▶ Executing ──▶ Broadcasted ──▶ Confirmed
//      │          build         track          │
//      │          sign            └──▶ Failed (reverted on chain, with the reason; replaced)
//      │          send ──▶ Failed (estimation reverted, signing failed, refused by every node)
//      └──▶ Rejected (policy)
//
// Every step is resumable: its inputs and outputs are columns of the row, each written before the
// next step begins, and `next_attempt_at` says when the row wants attention (the Durable Object's
// alarm). A step that cannot reach the chain (RPC down, garbage answers) leaves the row where it
// is, with the reason, and retries with backoff; it never re-signs: once a signed transaction has
// been written it is the only one this request will ever send, and sending it again is idempotent.
//
// Status changes are written together with an outbox row (webhook event, policy commit/release),
// so no change is ever announced twice under two ids, or lost.
import type { Hex } from "viem";
import { toHex } from "viem";
import { describeRpcFailure, hexData, hexQuantity, receiptSchema, RpcError, transactionSchema, txHash, type EvmRpc, type Receipt } from "../networks/evm-rpc.js";
import type { NetworkConfig } from "../networks/networks.js";
import type { SigningAuthorization, SigningCoordinator } from "../signing/authorization.js";
import { estimateFees, type Priority } from "./evm-fees.js";
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
} from "./evm-transaction.js";
import { classifyNodeError } from "./node-refusals.js";
import { NONCE_SCHEMA, NonceAllocator } from "./nonce-allocator.js";
import { Outbox, OUTBOX_SCHEMA } from "./outbox.js";
import type { PolicyVerdict, Reservation } from "./policy-gate.js";
import { REQUEST_SCHEMA, RequestStore, toWire, type RequestKind, type RequestRow } from "./request-store.js";
import type { Sql } from "./sql.js";
import type { WalletRecord } from "./wallet-directory.js";
import type { RequestStatus, Requester } from "./wire.js";
import { decodeFunctionResult, encodeFunctionData, getAddress } from "viem";

/**
 * What the share holders are asked to sign, in the wallet module's intent vocabulary
 * (shared/src/mpc/intent.ts), from which each node recomputes the digest itself:
 *   Transfer     the user's transfer body + the unsigned transaction built for it (nodes check
 *                to / value / data / chain id against the body);
 *   Transaction  the caller-built unsigned transaction, byte for byte as the user signed it;
 *   NonceFill    a zero-value, data-less transaction to the wallet itself at a freed nonce, under
 *                the user action of the request that freed it (nodes must check exactly that shape).
 */
export type EvmSigningIntent =
  | { kind: "Transfer"; network: string; transfer: TransferIntentBody; transaction: Hex }
  | { kind: "Transaction"; transaction: Hex }
  | { kind: "NonceFill"; network: string; transaction: Hex };

export type TransferIntentBody = { kind: "Native"; to: string; amount: string } | { kind: "Erc20"; contract: string; to: string; amount: string };

/** SignatureRequest.derivation as this layer fills it. */
export interface EvmSigningDerivation {
  kind: EvmSigningIntent["kind"];
  /** The user's signed request body (for NonceFill: the body of the request that freed the nonce). */
  requestBody: string;
  intent: EvmSigningIntent;
}

export interface EngineTiming {
  /** First retry delay after a failed step; doubles per attempt up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a freed nonce waits for a new transfer to take it before a zero-value self-transfer fills it. */
  nonceFillDelayMs: number;
}

export const DEFAULT_TIMING: EngineTiming = { retryBaseMs: 500, retryMaxMs: 30_000, nonceFillDelayMs: 10_000 };

export interface TransferEngineDeps {
  sql: Sql;
  network: NetworkConfig;
  rpc: EvmRpc;
  signer: SigningCoordinator;
  newId: (kind: "xfr" | "tx" | "whe") => string;
  now?: () => number;
  timing?: Partial<EngineTiming>;
}

export interface Submission {
  /** The request id when the caller already chose it (the policy gate's idempotency key); else one is made. */
  id?: string;
  kind: "Transfer" | "Transaction";
  wallet: WalletRecord;
  requester: Requester;
  /** Evidence and policy outcome the share holders will check before signing. */
  authorization: SigningAuthorization;
  /** The request body exactly as the user signed it. */
  bodyText: string;
  externalId: string | null;
  call: EvmCall;
  /** A caller-built unsigned transaction (POST …/transactions), signed byte for byte as given. */
  unsignedTransaction?: Hex;
  priority: Priority;
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  asset: { symbol?: string; decimals?: number; verified?: boolean };
  verdict: PolicyVerdict;
}

export type SubmitResult = { ok: true; row: RequestRow; created: boolean } | { ok: false; status: 409; message: string };

/** Thrown by a step for a failure that is final for this request. */
class FinalFailure extends Error {}

type StepOutcome = "continue" | "wait";

const ACTIVE: RequestStatus[] = ["Pending", "Executing", "Broadcasted"];

export class TransferEngine {
  readonly store: RequestStore;
  readonly nonces: NonceAllocator;
  readonly outbox: Outbox;
  private readonly timing: EngineTiming;
  private readonly now: () => number;
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: TransferEngineDeps) {
    for (const stmt of [...REQUEST_SCHEMA, ...NONCE_SCHEMA, ...OUTBOX_SCHEMA, WALLET_SCHEMA]) deps.sql.exec(stmt);
    this.store = new RequestStore(deps.sql);
    this.nonces = new NonceAllocator(deps.sql);
    this.outbox = new Outbox(deps.sql);
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.now = deps.now ?? Date.now;
  }

  // ------------------------------------------------------------ requests in

  /** Records a new request (synchronously: no other request can interleave). */
  submit(s: Submission): SubmitResult {
    this.rememberWallet(s.wallet);
    if (s.externalId !== null) {
      const existing = this.store.byExternalId(s.kind, s.externalId);
      if (existing) {
        if (existing.request_body === s.bodyText) return { ok: true, row: existing, created: false };
        return { ok: false, status: 409, message: `externalId ${s.externalId} was already used for a different ${s.kind.toLowerCase()}` };
      }
    }
    const now = this.now();
    const date = new Date(now).toISOString();
    const verdict = s.verdict;
    const authorization: SigningAuthorization =
      verdict.kind === "Allowed" ? { ...s.authorization, policy: verdict.outcome } : s.authorization;
    const row = this.store.insert({
      id: s.id ?? this.deps.newId(s.kind === "Transfer" ? "xfr" : "tx"),
      kind: s.kind,
      wallet_id: s.wallet.id,
      network: s.wallet.network,
      external_id: s.externalId,
      status: "Pending",
      reason: null,
      request_body: s.bodyText,
      requester: JSON.stringify(s.requester),
      authorization: JSON.stringify(authorization),
      reservation_id: verdict.kind === "Allowed" && verdict.reservation ? JSON.stringify(verdict.reservation) : null,
      approval_id: verdict.kind === "ApprovalRequired" ? verdict.approvalId : null,
      origin_id: null,
      fill_round: 0,
      call_to: s.call.to,
      call_value: s.call.value.toString(),
      call_data: s.call.data,
      gas_limit: s.gasLimit?.toString() ?? null,
      max_fee: s.maxFeePerGas?.toString() ?? null,
      max_priority_fee: s.maxPriorityFeePerGas?.toString() ?? null,
      priority: s.priority,
      asset: JSON.stringify(s.asset),
      nonce: null,
      ...(s.unsignedTransaction ? { unsigned_tx: s.unsignedTransaction } : {}),
      // Allowed: start at once. Waiting for an approval: no alarm until it is decided.
      next_attempt_at: verdict.kind === "Allowed" ? now : null,
      date_requested: date,
      date_policy_resolved: verdict.kind === "ApprovalRequired" ? null : date,
    });
    this.announce(row);
    if (verdict.kind === "Blocked") return { ok: true, row: this.transition(row, "Rejected", { reason: `Blocked by policy: ${verdict.reason}`, next_attempt_at: null }), created: true };
    return { ok: true, row, created: true };
  }

  /** The policy engine's decision on a request that was waiting for approval. */
  resolveApproval(
    id: string,
    decision: { approved: true; outcome: SigningAuthorization["policy"]; reservation?: Reservation } | { approved: false; reason: string },
  ): RequestRow | null {
    const row = this.store.get(id);
    if (!row || row.status !== "Pending" || row.approval_id === null || row.next_attempt_at !== null) return row;
    const date = new Date(this.now()).toISOString();
    if (!decision.approved) return this.transition(row, "Rejected", { reason: decision.reason, date_policy_resolved: date });
    const auth = JSON.parse(row.authorization!) as SigningAuthorization;
    return this.store.update(id, {
      authorization: JSON.stringify({ ...auth, policy: decision.outcome }),
      reservation_id: decision.reservation ? JSON.stringify(decision.reservation) : null,
      date_policy_resolved: date,
      next_attempt_at: this.now(),
    });
  }

  get(id: string): RequestRow | null {
    const row = this.store.get(id);
    return row && row.kind !== "NonceFill" ? row : null;
  }

  wire(row: RequestRow) {
    return toWire(row, this.deps.network);
  }

  // ------------------------------------------------------------ the alarm

  /** Runs every step that is due now (in parallel across requests); call again at nextWakeAt(). */
  async runDue(): Promise<void> {
    const now = this.now();
    this.fillNonceGaps(now);
    const due = this.store.dueIds(now).filter((id) => !this.inFlight.has(id));
    await Promise.all(due.map((id) => this.drive(id)));
  }

  /** When the alarm should fire next (null: nothing to do until a new request arrives). */
  nextWakeAt(): number | null {
    const times: number[] = [];
    const due = this.store.nextDueAt();
    if (due !== null) times.push(due);
    if (this.store.countAwaitingNonce() === 0) for (const f of this.nonces.free()) times.push(f.releasedAt + this.fillDelay(f.attempts));
    const out = this.outbox.nextDueAt();
    if (out !== null) times.push(out);
    return times.length ? Math.min(...times) : null;
  }

  /** True while any request is still on its way (tests and benchmarks wait on this). */
  busy(): boolean {
    return this.store.nextDueAt() !== null || this.nonces.free().length > 0;
  }

  private async drive(id: string): Promise<void> {
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    try {
      // A few steps per wake: build → sign → send usually run back to back.
      for (let i = 0; i < 6; i++) {
        const row = this.store.get(id);
        if (!row || row.next_attempt_at === null || row.next_attempt_at > this.now()) return;
        if ((await this.step(row)) === "wait") return;
      }
    } finally {
      this.inFlight.delete(id);
    }
  }

  private async step(row: RequestRow): Promise<StepOutcome> {
    const phase = phaseOf(row);
    try {
      switch (phase) {
        case "start":
          this.transition(row, "Executing", {});
          return "continue";
        case "build":
          return await this.build(row);
        case "sign":
          return await this.sign(row);
        case "send":
          return await this.send(row);
        case "track":
          return await this.track(row);
        case "idle":
          return "wait";
      }
    } catch (err) {
      if (err instanceof FinalFailure) {
        this.failBeforeChain(this.store.get(row.id)!, err.message);
        return "wait";
      }
      // Anything else is temporary by construction: keep the row where it is, say why, retry.
      const message = err instanceof RpcError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      this.retryLater(row, `${PHASE_LABEL[phase]}: ${message}`);
      return "wait";
    }
  }

  // ------------------------------------------------------------ steps

  /** Gas, fees and nonce → the unsigned transaction. */
  private async build(row: RequestRow): Promise<StepOutcome> {
    if (row.unsigned_tx !== null) return this.claimCallerNonce(row);
    const wallet = this.wallet();
    const call = callOf(row);
    const gas = row.gas_limit !== null ? BigInt(row.gas_limit) : await this.estimateGas(wallet.address, call);
    const fees = await this.fees(row);
    const chainPending = row.nonce === null ? Number(await this.deps.rpc.call("eth_getTransactionCount", [wallet.address, "pending"], hexQuantity)) : null;
    const asset = row.kind === "Transfer" && row.asset === "{}" ? await this.erc20Metadata(call.to) : null;

    // From here on synchronous: the nonce is taken and the transaction written in one go.
    const fresh = this.store.get(row.id)!;
    if (phaseOf(fresh) !== "build") return "continue";
    const nonce = fresh.nonce ?? this.nonces.allocate(chainPending!);
    const unsigned = serializeUnsigned(unsignedTransaction(call, { chainId: this.deps.network.chainId, nonce, gas, ...fees }));
    this.store.update(row.id, {
      nonce,
      unsigned_tx: unsigned,
      gas_limit: gas.toString(),
      max_fee: fees.maxFeePerGas.toString(),
      max_priority_fee: fees.maxPriorityFeePerGas.toString(),
      ...(asset ? { asset: JSON.stringify(asset) } : {}),
      attempts: 0,
      reason: null,
    });
    return "continue";
  }

  /**
   * A caller-built transaction is signed exactly as the user signed it, nonce included, so its nonce
   * must be the wallet's next one (or one freed earlier): anything else would either wait forever
   * behind a gap or collide with another of this wallet's transactions.
   */
  private async claimCallerNonce(row: RequestRow): Promise<StepOutcome> {
    const chainPending = Number(await this.deps.rpc.call("eth_getTransactionCount", [this.wallet().address, "pending"], hexQuantity));
    const fresh = this.store.get(row.id)!;
    if (phaseOf(fresh) !== "build" || fresh.nonce !== null) return "continue";
    const wanted = parseUnsigned(row.unsigned_tx as Hex).nonce ?? 0;
    const claimed = this.nonces.claimExact(wanted, chainPending);
    if (!claimed.ok) throw new FinalFailure(claimed.reason);
    this.store.update(row.id, { nonce: wanted, attempts: 0, reason: null });
    return "continue";
  }

  /** The share holders sign the transaction's digest; the signed bytes are written before any send. */
  private async sign(row: RequestRow): Promise<StepOutcome> {
    const wallet = this.wallet();
    const unsigned = row.unsigned_tx as Hex;
    const authorization = JSON.parse(row.authorization!) as SigningAuthorization;
    let signature: EcdsaSignature;
    try {
      const intent = intentOf(row, wallet);
      const derivation: EvmSigningDerivation = { kind: intent.kind, requestBody: row.request_body, intent };
      const sig = await this.deps.signer.sign({
        keyId: wallet.signingKey.id,
        message: signingDigest(unsigned).slice(2),
        derivation,
        authorization,
      });
      signature = await this.normalizeSignature(unsigned, sig, wallet.address);
    } catch (err) {
      throw new FinalFailure(`Signing failed: ${(err as Error).message}`);
    }
    const { raw, hash } = serializeSigned(unsigned, signature);
    const fresh = this.store.get(row.id)!;
    if (phaseOf(fresh) !== "sign") return "continue";
    this.store.update(row.id, { raw_tx: raw, tx_hash: hash, attempts: 0, reason: null });
    // The signature exists: the policy engine's reservation now counts for good.
    if (row.reservation_id !== null) this.outbox.add("policy-commit", { reservation: JSON.parse(row.reservation_id) }, this.now());
    return "continue";
  }

  /** eth_sendRawTransaction with the one signed transaction of this request. */
  private async send(row: RequestRow): Promise<StepOutcome> {
    const raw = row.raw_tx as Hex;
    this.store.update(row.id, { broadcasts: row.broadcasts + 1 });
    try {
      const hash = await this.deps.rpc.call("eth_sendRawTransaction", [raw], txHash);
      if (hash.toLowerCase() !== row.tx_hash!.toLowerCase()) {
        this.store.update(row.id, { maybe_sent: 1 });
        throw new Error(`the RPC acknowledged transaction ${hash}, not ${row.tx_hash}`);
      }
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) {
        // Unknown whether the node took it: from now on the nonce is never given back.
        this.store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      const failure = err.failure as Extract<RpcError["failure"], { kind: "rpc" }>;
      const refusal = classifyNodeError(failure.message, failure.code);
      if (refusal === "temporary") {
        this.store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      if ((refusal === "rejected" || refusal === "insufficient-funds" || refusal === "reverted") && row.maybe_sent === 0) {
        throw new FinalFailure(`Broadcast refused: ${failure.message}`);
      }
      // already known, nonce used, underpriced replacement, or a refusal after an earlier attempt
      // may have gone through: the tracker finds out from the chain what became of this nonce.
    }
    this.transition(row, "Broadcasted", {
      date_broadcasted: new Date(this.now()).toISOString(),
      reached_chain: 1,
      maybe_sent: 1,
      attempts: 0,
      reason: null,
      next_attempt_at: this.now() + this.deps.network.pollIntervalMs,
    });
    return "wait";
  }

  /** Receipt → confirmations → Confirmed / Failed; no receipt → replaced, or re-broadcast the same bytes. */
  private async track(row: RequestRow): Promise<StepOutcome> {
    const rpc = this.deps.rpc;
    const hash = row.tx_hash!;
    const receipt = await rpc.call("eth_getTransactionReceipt", [hash], receiptSchema);
    if (receipt) return this.onReceipt(row, receipt);

    const wallet = this.wallet();
    const mined = await rpc.call("eth_getTransactionCount", [wallet.address, "latest"], hexQuantity);
    if (mined > BigInt(row.nonce!)) {
      // The nonce is spent. By this transaction, mined between the two calls? Ask once more.
      const again = await rpc.call("eth_getTransactionReceipt", [hash], receiptSchema);
      if (again) return this.onReceipt(row, again);
      this.transition(row, "Failed", { reason: `Replaced: nonce ${row.nonce} was used by another transaction`, next_attempt_at: null, attempts: 0 });
      return "wait";
    }
    const known = await rpc.call("eth_getTransactionByHash", [hash], transactionSchema);
    if (known === null) {
      // Dropped from the node's pool (restart, eviction): send the same signed bytes again.
      try {
        await rpc.call("eth_sendRawTransaction", [row.raw_tx], txHash);
      } catch (err) {
        if (!(err instanceof RpcError) || !err.isNodeError) throw err;
        const f = err.failure as Extract<RpcError["failure"], { kind: "rpc" }>;
        const refusal = classifyNodeError(f.message, f.code);
        if (refusal !== "already-known" && refusal !== "nonce-used") throw err;
      }
      this.store.update(row.id, {
        broadcasts: row.broadcasts + 1,
        reason: `Not in the node's pool: re-broadcast the same signed transaction (${row.broadcasts + 1} sends)`,
        attempts: 0,
        next_attempt_at: this.now() + this.deps.network.pollIntervalMs,
      });
      return "wait";
    }
    this.store.update(row.id, { attempts: 0, reason: null, next_attempt_at: this.now() + this.deps.network.pollIntervalMs });
    return "wait";
  }

  private async onReceipt(row: RequestRow, receipt: Receipt): Promise<StepOutcome> {
    const latest = await this.deps.rpc.call("eth_blockNumber", [], hexQuantity);
    const confirmations = latest - receipt.blockNumber + 1n;
    if (confirmations < BigInt(this.deps.network.confirmations)) {
      this.store.update(row.id, {
        block_number: Number(receipt.blockNumber),
        attempts: 0,
        reason: null,
        next_attempt_at: this.now() + this.deps.network.pollIntervalMs,
      });
      return "wait";
    }
    const fee = (receipt.gasUsed * receipt.effectiveGasPrice).toString();
    const final = { fee, block_number: Number(receipt.blockNumber), next_attempt_at: null, attempts: 0 };
    if (receipt.status === "0x1") {
      this.transition(row, "Confirmed", { ...final, reason: null, date_confirmed: new Date(this.now()).toISOString() });
    } else {
      const why = await this.revertReason(row, receipt.blockNumber);
      this.transition(row, "Failed", { ...final, reason: `Transaction reverted on chain: ${why}` });
    }
    return "wait";
  }

  // ------------------------------------------------------------ nonce gaps

  /**
   * A freed nonce that no new request has taken within the delay is spent on a zero-value
   * transfer to the wallet itself, signed under the authorization of the request that freed it,
   * so that transactions queued behind it execute. (Requests still waiting for a nonce take free
   * ones first, so no fill is made while there are any.)
   */
  private fillNonceGaps(now: number): void {
    if (this.store.countAwaitingNonce() > 0) return;
    for (const free of this.nonces.free()) {
      if (free.releasedAt + this.fillDelay(free.attempts) > now) continue;
      const origin = this.store.get(free.originId);
      if (!origin) continue;
      this.nonces.claim(free.nonce);
      const wallet = this.wallet();
      this.store.insert({
        id: this.deps.newId("tx"),
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
        call_to: getAddress(wallet.address),
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
    return Math.min(this.timing.nonceFillDelayMs * 2 ** attempts, 10 * 60_000);
  }

  // ------------------------------------------------------------ transitions

  /** Final failure before the transaction could reach the chain: its nonce (if any) goes back. */
  private failBeforeChain(row: RequestRow, reason: string): void {
    if (row.nonce !== null && row.maybe_sent === 0) {
      const origin = row.kind === "NonceFill" ? (row.origin_id ?? row.id) : row.id;
      this.nonces.release(row.nonce, origin, this.now(), row.kind === "NonceFill" ? row.fill_round + 1 : 0);
    }
    this.transition(row, "Failed", { reason, next_attempt_at: null, attempts: 0, ...(row.maybe_sent === 0 ? { nonce: null } : {}) });
  }

  private transition(row: RequestRow, status: RequestStatus, changes: Partial<RequestRow>): RequestRow {
    const updated = this.store.update(row.id, { ...changes, status });
    if (row.kind === "NonceFill") return updated;
    this.announce(updated);
    // Ended before a signature existed: the reservation stops counting.
    if (updated.reservation_id !== null && (status === "Failed" || status === "Rejected") && updated.raw_tx === null) {
      this.outbox.add("policy-release", { reservation: JSON.parse(updated.reservation_id), reason: updated.reason ?? status }, this.now());
    }
    return updated;
  }

  /** One webhook event per status a request enters, with an id fixed when the status is written. */
  private announce(row: RequestRow): void {
    const noun = row.kind === "Transfer" ? "transfer" : "transaction";
    const verb = row.status === "Pending" ? "requested" : row.status.toLowerCase();
    const wire = this.wire(row);
    this.outbox.add(
      "webhook",
      {
        id: this.deps.newId("whe"),
        kind: `wallet.${noun}.${verb}`,
        date: new Date(this.now()).toISOString(),
        data: row.kind === "Transfer" ? { transferRequest: wire } : { transactionRequest: wire },
      },
      this.now(),
    );
  }

  private retryLater(row: RequestRow, reason: string): void {
    const attempts = row.attempts + 1;
    const delay = Math.min(this.timing.retryBaseMs * 2 ** (attempts - 1), this.timing.retryMaxMs);
    this.store.update(row.id, { attempts, reason: `Retrying (attempt ${attempts}, next in ${Math.round(delay)} ms): ${reason}`, next_attempt_at: this.now() + delay });
  }

  // ------------------------------------------------------------ chain reads

  private async estimateGas(from: string, call: EvmCall): Promise<bigint> {
    try {
      const gas = await this.deps.rpc.call("eth_estimateGas", [{ from, to: call.to, value: toHex(call.value), data: call.data }], hexQuantity);
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
    const estimated = await estimateFees(this.deps.rpc, row.priority as Priority);
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
      await this.deps.rpc.call(
        "eth_call",
        [{ from: this.wallet().address, to: call.to, value: toHex(call.value), data: call.data, gas: toHex(BigInt(row.gas_limit!)) }, toHex(blockNumber - 1n)],
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
      const out = await this.deps.rpc.call("eth_call", [{ to: contract, data }, "latest"], hexData);
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

  private async normalizeSignature(unsigned: Hex, sig: { r: string; s: string; recid?: 0 | 1 }, address: string): Promise<EcdsaSignature> {
    const pad = (h: string) => `0x${(h.startsWith("0x") ? h.slice(2) : h).padStart(64, "0")}` as Hex;
    const candidates: (0 | 1)[] = sig.recid === undefined ? [0, 1] : [sig.recid];
    for (const recid of candidates) {
      const s = { r: pad(sig.r), s: pad(sig.s), recid };
      if ((await signerOf(unsigned, s)).toLowerCase() === address.toLowerCase()) return s;
    }
    throw new Error("the threshold signature does not recover to the wallet's address");
  }

  // ------------------------------------------------------------ the wallet this object serves

  private rememberWallet(wallet: WalletRecord): void {
    const known = this.deps.sql.exec<{ wallet: string }>("SELECT wallet FROM wallet_record WHERE id = 1").toArray()[0];
    if (known) {
      const w = JSON.parse(known.wallet) as WalletRecord;
      if (w.id !== wallet.id) throw new Error(`this object serves wallet ${w.id}, not ${wallet.id}`);
    }
    this.deps.sql.exec("INSERT INTO wallet_record (id, wallet) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET wallet = excluded.wallet", JSON.stringify(wallet));
  }

  wallet(): WalletRecord {
    const row = this.deps.sql.exec<{ wallet: string }>("SELECT wallet FROM wallet_record WHERE id = 1").toArray()[0];
    if (!row) throw new Error("no wallet recorded yet");
    return JSON.parse(row.wallet) as WalletRecord;
  }

  hasWallet(): boolean {
    return this.deps.sql.exec("SELECT 1 AS x FROM wallet_record WHERE id = 1").toArray().length > 0;
  }
}

export const WALLET_SCHEMA = `CREATE TABLE IF NOT EXISTS wallet_record (id INTEGER PRIMARY KEY CHECK (id = 1), wallet TEXT NOT NULL)`;

type Phase = "start" | "build" | "sign" | "send" | "track" | "idle";

const PHASE_LABEL: Record<Phase, string> = {
  start: "Starting",
  build: "Building the transaction",
  sign: "Signing",
  send: "Broadcasting",
  track: "Waiting for confirmation",
  idle: "Idle",
};

function phaseOf(row: RequestRow): Phase {
  if (!ACTIVE.includes(row.status)) return "idle";
  if (row.status === "Pending") return row.next_attempt_at === null ? "idle" : "start";
  if (row.status === "Broadcasted") return "track";
  if (row.unsigned_tx === null || row.nonce === null) return "build";
  if (row.raw_tx === null) return "sign";
  return "send";
}

function intentOf(row: RequestRow, wallet: WalletRecord): EvmSigningIntent {
  const transaction = row.unsigned_tx as Hex;
  if (row.kind === "Transaction") return { kind: "Transaction", transaction };
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

export type { RequestKind };
