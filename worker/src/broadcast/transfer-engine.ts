// The life of one wallet's outgoing transactions, as a state machine over its Durable Object's
// SQLite rows:
//
//   Pending ──▶ Executing ──▶ Broadcasted ──▶ Confirmed
//      │          build         track          │
//      │          sign            └──▶ Failed (reverted on chain, with the reason; replaced)
//      │          send ──▶ Failed (estimation reverted, signing failed, refused by every node)
//      └──▶ Rejected (policy)
//
// The engine knows no chain: what a step means on chain is the wallet's chain family's business
// (worker/src/chains/<family>/, behind the TransferChain interface in chains/family.ts).
//
// Every step is resumable: its inputs and outputs are columns of the row, each written before the
// next step begins, and `next_attempt_at` says when the row wants attention (the Durable Object's
// alarm). A step that cannot reach the chain (RPC down, garbage answers) leaves the row where it
// is, with the reason, and retries with backoff; it never re-signs: once a signed transaction has
// been written it is the only one this request will ever send, and sending it again is idempotent.
//
// Status changes are written together with an outbox row (webhook event, policy commit/release),
// so no change is ever announced twice under two ids, or lost.
import type { NetworkConfig } from "../networks/networks.js";
import { refusedByPolicy, type SigningAuthorization, type SigningCoordinator } from "../signing/authorization.js";
import { FinalFailure, type TransferChain, type TransferChainFactory, type Tracked } from "../chains/family.js";
import { RpcError } from "../networks/evm-rpc.js";
import { Outbox, OUTBOX_SCHEMA } from "./outbox.js";
import type { PolicyVerdict, Reservation } from "./policy-gate.js";
import { REQUEST_SCHEMA, RequestStore, toWire, type RequestKind, type RequestRow } from "./request-store.js";
import type { Sql } from "./sql.js";
import type { WalletRecord } from "./wallet-directory.js";
import type { RequestStatus, Requester } from "./wire.js";

/** What moves, before the family builds anything: the recipient (or contract), the value in minimum units, call data ("0x" when none). */
export interface TransferCall {
  to: string;
  value: bigint;
  data: string;
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
  /** The wallet's chain family, e.g. evmChain(rpc) from chains/evm. */
  chain: TransferChainFactory;
  signer: SigningCoordinator;
  /**
   * The share holders refused a request under the org's policies: the policy gate's decision
   * again, under the policies in force now (null: they do not explain the refusal). Absent: such
   * a refusal fails the request.
   */
  reconsider?: (row: RequestRow) => Promise<PolicyVerdict | null>;
  newId: (kind: "xfr" | "tx" | "whe") => string;
  now?: () => number;
  timing?: Partial<EngineTiming>;
}

export type Priority = "Slow" | "Standard" | "Fast";

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
  call: TransferCall;
  /** A caller-built unsigned transaction (POST …/transactions), signed byte for byte as given. */
  unsignedTransaction?: string;
  priority: Priority;
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  asset: { symbol?: string; decimals?: number; verified?: boolean };
  verdict: PolicyVerdict;
}

export type SubmitResult = { ok: true; row: RequestRow; created: boolean } | { ok: false; status: 409; message: string };

type StepOutcome = "continue" | "wait";

const ACTIVE: RequestStatus[] = ["Pending", "Executing", "Broadcasted"];

export class TransferEngine {
  readonly store: RequestStore;
  readonly outbox: Outbox;
  readonly chain: TransferChain;
  private readonly timing: EngineTiming;
  private readonly now: () => number;
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: TransferEngineDeps) {
    this.store = new RequestStore(deps.sql);
    this.outbox = new Outbox(deps.sql);
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.now = deps.now ?? Date.now;
    this.chain = deps.chain({
      sql: deps.sql,
      store: this.store,
      network: deps.network,
      signer: deps.signer,
      wallet: () => this.wallet(),
      now: () => this.now(),
      newId: deps.newId,
      timing: this.timing,
    });
    for (const stmt of [...REQUEST_SCHEMA, ...OUTBOX_SCHEMA, WALLET_SCHEMA, ...this.chain.schema]) deps.sql.exec(stmt);
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
      reason: null,
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
    this.chain.housekeeping?.run(now);
    const due = this.store.dueIds(now).filter((id) => !this.inFlight.has(id));
    await Promise.all(due.map((id) => this.drive(id)));
  }

  /** When the alarm should fire next (null: nothing to do until a new request arrives). */
  nextWakeAt(): number | null {
    const times: number[] = [];
    const due = this.store.nextDueAt();
    if (due !== null) times.push(due);
    const chain = this.chain.housekeeping?.nextWakeAt() ?? null;
    if (chain !== null) times.push(chain);
    const out = this.outbox.nextDueAt();
    if (out !== null) times.push(out);
    return times.length ? Math.min(...times) : null;
  }

  /** True while any request is still on its way (tests and benchmarks wait on this). */
  busy(): boolean {
    return this.store.nextDueAt() !== null || (this.chain.housekeeping?.busy() ?? false);
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

  private phaseOf(row: RequestRow): Phase {
    if (!ACTIVE.includes(row.status)) return "idle";
    if (row.status === "Pending") return row.next_attempt_at === null ? "idle" : "start";
    if (row.status === "Broadcasted") return "track";
    if (!this.chain.built(row)) return "build";
    if (row.raw_tx === null) return "sign";
    return "send";
  }

  private async step(row: RequestRow): Promise<StepOutcome> {
    const phase = this.phaseOf(row);
    try {
      switch (phase) {
        case "start":
          this.transition(row, "Executing", {});
          return "continue";
        case "build":
          await this.chain.build(row);
          return "continue";
        case "sign":
          return await this.sign(row);
        case "send":
          return await this.send(row);
        case "track":
          return this.tracked(row, await this.chain.track(row));
        case "idle":
          return "wait";
      }
    } catch (err) {
      if (err instanceof FinalFailure) {
        if (phase === "sign" && refusedByPolicy(err) && (await this.reconsidered(row))) return "wait";
        this.failBeforeChain(this.store.get(row.id)!, err.message);
        return "wait";
      }
      // Anything else is temporary by construction: keep the row where it is, say why, retry.
      const message = err instanceof RpcError ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      this.retryLater(this.store.get(row.id)!, `${PHASE_LABEL[phase]}: ${message}`);
      return "wait";
    }
  }

  // ------------------------------------------------------------ steps

  /** The family has the share holders sign; the signed bytes are written before any send. */
  private async sign(row: RequestRow): Promise<StepOutcome> {
    const { raw, hash } = await this.chain.sign(row);
    const fresh = this.store.get(row.id)!;
    if (this.phaseOf(fresh) !== "sign") return "continue";
    this.store.update(row.id, { raw_tx: raw, tx_hash: hash, attempts: 0, reason: null });
    // The signature exists: the policy engine's reservation now counts for good.
    if (row.reservation_id !== null) this.outbox.add("policy-commit", { reservation: JSON.parse(row.reservation_id) }, this.now());
    return "continue";
  }

  /**
   * The share holders refused to sign under the org's policies, which they read from the org's
   * newest signed governance: a policy may have landed after the gate allowed this request. The
   * gate decides again, once, and the request goes where that decision says, as if the policy had
   * been in force when it came: held for approval (Pending with the approval; what `build`
   * reserved given back, built afresh once approved) or Rejected. Never for a request that was
   * held before (its approval was judged at its own time): that one fails. False: the decision
   * does not explain the refusal, and the request fails as before.
   */
  private async reconsidered(row: RequestRow): Promise<boolean> {
    if (!this.deps.reconsider || row.approval_id !== null || row.kind === "NonceFill") return false;
    let verdict: PolicyVerdict | null;
    try {
      verdict = await this.deps.reconsider(row);
    } catch (err) {
      console.error(`reconsidering ${row.id} after a policy refusal:`, (err as Error).message);
      return false;
    }
    const fresh = this.store.get(row.id)!;
    if (!verdict || verdict.kind === "Allowed" || fresh.status !== "Executing" || fresh.raw_tx !== null) return false;
    const date = new Date(this.now()).toISOString();
    if (verdict.kind === "Blocked") {
      if (fresh.maybe_sent === 0) this.chain.release(fresh);
      this.transition(this.store.get(row.id)!, "Rejected", { reason: `Blocked by policy: ${verdict.reason}`, next_attempt_at: null, attempts: 0, date_policy_resolved: date });
      return true;
    }
    const unbuilt = this.chain.unbuild(fresh);
    this.transition(this.store.get(row.id)!, "Pending", {
      ...unbuilt,
      approval_id: verdict.approvalId,
      reason: "Held for approval: a policy requiring approval came in force before it was signed",
      next_attempt_at: null,
      attempts: 0,
      date_policy_resolved: null,
    });
    return true;
  }

  /** Sends the one signed transaction of this request. */
  private async send(row: RequestRow): Promise<StepOutcome> {
    await this.chain.broadcast(row);
    this.transition(this.store.get(row.id)!, "Broadcasted", {
      date_broadcasted: new Date(this.now()).toISOString(),
      reached_chain: 1,
      maybe_sent: 1,
      attempts: 0,
      reason: null,
      next_attempt_at: this.now() + this.deps.network.pollIntervalMs,
    });
    return "wait";
  }

  /** What the family found on chain: poll again, or the final status. */
  private tracked(row: RequestRow, t: Tracked): StepOutcome {
    const blockNumber = t.blockNumber !== undefined ? { block_number: t.blockNumber } : {};
    if (t.status === "waiting") {
      this.store.update(row.id, { ...blockNumber, attempts: 0, reason: t.reason ?? null, next_attempt_at: this.now() + this.deps.network.pollIntervalMs });
      return "wait";
    }
    const final = { ...blockNumber, ...(t.fee !== undefined ? { fee: t.fee } : {}), next_attempt_at: null, attempts: 0 };
    if (t.status === "Confirmed") this.transition(row, "Confirmed", { ...final, reason: null, date_confirmed: new Date(this.now()).toISOString() });
    else this.transition(row, "Failed", { ...final, reason: t.reason });
    return "wait";
  }

  // ------------------------------------------------------------ transitions

  /** Final failure before the transaction could reach the chain: what it reserved goes back. */
  private failBeforeChain(row: RequestRow, reason: string): void {
    if (row.maybe_sent === 0) this.chain.release(row);
    this.transition(this.store.get(row.id)!, "Failed", { reason, next_attempt_at: null, attempts: 0 });
  }

  private transition(row: RequestRow, status: RequestStatus, changes: Partial<RequestRow>): RequestRow {
    const updated = this.store.update(row.id, { ...changes, status });
    if (row.kind === "NonceFill") return updated;
    // Pending is entered again only by a request held after the share holders' policy refusal
    // (reconsidered): "requested" was said when it was created, and Dfns says it once per request.
    // The hold itself is announced by the policy's events for its approval (policy.triggered,
    // policy.approval.pending), and the approved request by "executing" again.
    if (status !== "Pending") this.announce(updated);
    // Ended before a signature existed: the reservation stops counting.
    if (updated.reservation_id !== null && (status === "Failed" || status === "Rejected") && updated.raw_tx === null) {
      this.outbox.add("policy-release", { reservation: JSON.parse(updated.reservation_id), reason: updated.reason ?? status }, this.now());
    }
    return updated;
  }

  /** One webhook event per status a request enters (requested: once, at creation), with an id fixed when the status is written. */
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

export type { RequestKind };
