// One wallet's outgoing transactions as a SQLite Durable Object (named `<orgId>:<walletId>`): its
// nonce counter, its transfers and broadcast transactions, and the alarm that moves them along.
// Because every request of a wallet goes through this one object, nonces are handed out in one
// place, one synchronous section at a time (see chains/evm/nonce-allocator.ts).
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { familyOf } from "../chains/index.js";
import { networkFor } from "../networks/networks.js";
import { newId } from "../orgs/ids.js";
import type { SigningAuthorization } from "../signing/authorization.js";
import { outboxHandlers, policyReconsideration, signingCoordinatorFor } from "./collaborators.js";
import { drainOutbox } from "./outbox.js";
import type { Reservation } from "./policy-gate.js";
import { REQUEST_SCHEMA, RequestStore, toWire, type RequestKind } from "./request-store.js";
import { TransferEngine, WALLET_SCHEMA, type Submission } from "./transfer-engine.js";
import type { WalletRecord } from "./wallet-directory.js";
import type { TransactionRequest, TransferRequest } from "./wire.js";

const SAFETY_WAKE_MS = 60_000;

export function walletTransfersName(orgId: string, walletId: string): string {
  return `${orgId}:${walletId}`;
}

export class WalletTransfers extends DurableObject<Env> {
  private engine: TransferEngine | null = null;
  private readonly store: RequestStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const stmt of [...REQUEST_SCHEMA, WALLET_SCHEMA]) ctx.storage.sql.exec(stmt);
    this.store = new RequestStore(ctx.storage.sql);
  }

  /** Records a transfer / transaction and wakes the alarm to carry it out. */
  async submit(s: Submission): Promise<Outcome<TransferRequest | TransactionRequest>> {
    const engine = this.engineFor(s.wallet);
    if (!engine.ok) return engine;
    const result = engine.value.submit(s);
    if (!result.ok) return failure(result.status, result.message);
    await this.schedule();
    return success(engine.value.wire(result.row));
  }

  get(kind: RequestKind, id: string): TransferRequest | TransactionRequest | null {
    const row = this.store.get(id);
    return row && row.kind === kind ? toWire(row, this.networkConfig()) : null;
  }

  list(kind: RequestKind, limit: number, before?: number): { items: (TransferRequest | TransactionRequest)[]; nextPageToken?: string } {
    const page = this.store.list(kind, limit, before);
    const network = this.networkConfig();
    return { items: page.rows.map((r) => toWire(r, network)), ...(page.nextBefore !== null ? { nextPageToken: String(page.nextBefore) } : {}) };
  }

  /**
   * Speed-up or cancel (POST …/{transfers,transactions}/:id/{speed-up,cancel}): a request that was
   * broadcast and has not confirmed gets a replacement at its nonce; the alarm then follows both.
   */
  async replace(kind: RequestKind, id: string, mode: "SpeedUp" | "Cancel", userAction: SigningAuthorization["userAction"]): Promise<Outcome<TransferRequest | TransactionRequest>> {
    const wallet = this.storedWallet();
    const row = this.store.get(id);
    if (!wallet || !row || row.kind !== kind) return failure(404, `${kind} not found`);
    const engine = this.engineFor(wallet);
    if (!engine.ok) return engine;
    const chain = engine.value.chain;
    if (!chain.replace) return failure(400, `Transactions on ${wallet.network} cannot be ${mode === "Cancel" ? "cancelled" : "sped up"}`);
    if (row.status !== "Broadcasted") return failure(409, `Only a broadcast, unconfirmed ${kind.toLowerCase()} can be ${mode === "Cancel" ? "cancelled" : "sped up"}; this one is ${row.status}`);
    try {
      await chain.replace(row, mode, userAction);
    } catch (err) {
      return failure(409, `${mode === "Cancel" ? "Cancel" : "Speed-up"} failed: ${(err as Error).message}`);
    }
    const updated = this.store.update(id, { reason: mode === "Cancel" ? "Cancel requested: replaced by a zero-value transaction to the wallet itself" : "Sped up: replaced at the same nonce with higher fees", next_attempt_at: Date.now() });
    await this.schedule();
    return success(engine.value.wire(updated));
  }

  /** ERC-20 contracts this wallet has sent, for the assets endpoint. */
  erc20Contracts(): string[] {
    return this.ctx.storage.sql
      .exec<{ contract: string }>("SELECT DISTINCT json_extract(request_body, '$.contract') AS contract FROM chain_requests WHERE kind = 'Transfer' AND json_extract(request_body, '$.kind') = 'Erc20'")
      .toArray()
      .map((r) => r.contract);
  }

  /** The policy engine resumed a request that waited for approval (idempotent). */
  async resolveApproval(
    id: string,
    decision: { approved: true; outcome: SigningAuthorization["policy"]; reservation?: Reservation } | { approved: false; reason: string },
  ): Promise<boolean> {
    const wallet = this.storedWallet();
    if (!wallet) return false;
    const engine = this.engineFor(wallet);
    if (!engine.ok) throw new Error(engine.message);
    const row = engine.value.resolveApproval(id, decision);
    await this.schedule();
    return row !== null;
  }

  override async alarm(): Promise<void> {
    const wallet = this.storedWallet();
    if (!wallet) return;
    // A wake-up in case this run is cut short (eviction, deploy): rows it was working on are
    // still due, and the next run picks them up where their last written step left them.
    await this.ctx.storage.setAlarm(Date.now() + SAFETY_WAKE_MS);
    const engine = this.engineFor(wallet);
    if (!engine.ok) {
      // The deployment lost this network's configuration: keep waking rather than fail transfers.
      console.error("wallet transfers paused:", engine.message);
      return;
    }
    await engine.value.runDue();
    await drainOutbox(engine.value.outbox, outboxHandlers(this.env, wallet.orgId), Date.now());
    const next = engine.value.nextWakeAt();
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** Brings the alarm forward when new work is due sooner than it would fire. */
  private async schedule(): Promise<void> {
    const next = this.engine?.nextWakeAt() ?? null;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  private engineFor(wallet: WalletRecord): Outcome<TransferEngine> {
    if (this.engine) return success(this.engine);
    const network = networkFor(this.env, wallet.network);
    if (!network.ok) return failure(400, network.reason);
    const config = network.config;
    this.engine = new TransferEngine({
      sql: this.ctx.storage.sql,
      network: config,
      chain: familyOf(config).transfers(config),
      signer: signingCoordinatorFor(this.env, wallet.orgId),
      reconsider: policyReconsideration(this.env, wallet.orgId),
      newId,
    });
    return success(this.engine);
  }

  private storedWallet(): WalletRecord | null {
    const row = this.ctx.storage.sql.exec<{ wallet: string }>("SELECT wallet FROM wallet_record WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.wallet) as WalletRecord) : null;
  }

  private networkConfig() {
    const wallet = this.storedWallet();
    if (!wallet) return null;
    const n = networkFor(this.env, wallet.network);
    return n.ok ? n.config : null;
  }
}
