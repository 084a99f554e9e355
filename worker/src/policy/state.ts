// PolicyState: one SQLite Durable Object per organisation (named by org id) holding layer 3's
// state with strong consistency — policies (versioned), velocity usage, approvals and the
// requests they hold.
//
// Atomicity: `evaluate` reads the policies and the wallet's usage, runs the pure engine and writes
// the reservation in one synchronous step (no await in between), and a Durable Object runs one
// such step at a time. So when fifty requests race for a limit that fits ten, each sees the
// reservations of those before it: exactly ten pass. Counting is two-phase: a passing request is
// Reserved at once and counted from then on; the signing layer commits it when the signature
// exists or releases it when signing fails, and a reservation nobody settles lapses after
// LEASE_MS. Blocked and rejected requests never consume the limit.
//
// Approvals: a request that needs approval is held (its full input, user evidence and facts are
// stored) with its usage reserved, so approving it later cannot overrun a limit others already
// counted on. Decisions come through `decideApproval`; quorum → the request is re-checked
// against the policies in force then (a freshly added Block still wins; approvals already
// granted satisfy their policies) and a resume event is queued; denial or timeout (alarm) →
// Rejected and released. Resume events are delivered at least once by the alarm to the handler
// the signing layer registered (resume.ts).
import { DurableObject } from "cloudflare:workers";
import { failure, success, type Outcome } from "../http/errors.js";
import { checkDecision, resolveStatus, type Decider } from "../../../shared/src/policy/approvals.js";
import { approvalJson } from "./wire.js";
import { publishEvent } from "../webhooks/publish.js";
import type { GateInput, Reservation, ResumeEvent, SigningFacts } from "./contract.js";
import { fromBaseUnits, formatDecimal, multiply, parseDecimal } from "../../../shared/src/policy/decimal.js";
import { decide, needsScreening, usageWindowMinutes } from "../../../shared/src/policy/engine.js";
import { priceKey } from "./prices.js";
import { resumeHandler } from "./resume.js";
import type { PolicyBody } from "../../../shared/src/policy/schema.js";
import * as store from "./store.js";
import type { Decision, Facts, GrantedApproval, Policy, PolicyRequest, UsageEntry } from "../../../shared/src/policy/types.js";
import { approvalIdFor } from "../../../shared/src/policy/at-nodes.js";

/** How long an allowed request may take to be signed before its reservation stops counting. */
export const LEASE_MS = 15 * 60_000;
/** The longest velocity window Dfns allows (30 days): older commits are never needed again. */
const MAX_WINDOW_MS = 43_200 * 60_000;
const MAX_DELIVERY_ATTEMPTS = 8;

export interface Actor {
  userId: string;
  userActionId: string | null;
}

export type EvaluateOutcome =
  | { status: "Allowed"; reservation: Reservation; decision: Decision; signingFacts?: SigningFacts }
  | { status: "Blocked"; decision: Decision }
  | { status: "Pending"; approvalId: string; decision: Decision }
  /** A prescreening policy applies: the gate must screen the recipient and ask again. */
  | { status: "NeedsScreening" };

interface AuditLine {
  identityId: string | null;
  userId: string | null;
  method: string;
  path: string;
  decision: "allowed" | "denied";
  reason: string;
}

function nowIso(now = Date.now()): string {
  return new Date(now).toISOString();
}

export class PolicyState extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    store.migrate(this.sql);
  }

  /** Remembers which org this object belongs to (the alarm needs it for audit lines). */
  private bind(orgId: string): void {
    const known = store.getMeta(this.sql, "org_id");
    if (known === null) store.setMeta(this.sql, "org_id", orgId);
    else if (known !== orgId) throw new Error("PolicyState addressed with another org id");
  }

  /** Parsed active policies, kept while their version stands (every change bumps it). */
  private cache: { version: number; policies: Policy[] } | null = null;

  private active(): Policy[] {
    const version = this.policiesVersion();
    if (this.cache?.version !== version) this.cache = { version, policies: store.activePolicies(this.sql) };
    return this.cache.policies;
  }

  private policiesVersion(): number {
    return Number(store.getMeta(this.sql, "policies_version") ?? "0");
  }

  private bumpPoliciesVersion(): void {
    store.setMeta(this.sql, "policies_version", String(this.policiesVersion() + 1));
  }

  /** When this instance last set the alarm for (only this object sets it); null = unknown or none. */
  private alarmAt: number | null = null;

  /** Sets the alarm for the earliest pending work, unless it is already set at or before that. */
  private scheduleAlarm(): void {
    const next = store.nextAlarmAt(this.sql);
    if (next === null) return;
    const at = Math.max(next, Date.now());
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  // ── policies ──────────────────────────────────────────────────────────────────────────────

  createPolicy(orgId: string, body: PolicyBody, actor: Actor): Policy {
    this.bind(orgId);
    const id = store.layer3Id("pl");
    return this.ctx.storage.transactionSync(() => {
      store.writePolicy(this.sql, { id, version: 1, status: "Active", body, changedBy: actor.userId, userActionId: actor.userActionId, now: nowIso() });
      this.bumpPoliciesVersion();
      return store.getPolicy(this.sql, id)!;
    });
  }

  getPolicy(policyId: string): Outcome<Policy> {
    const p = store.getPolicy(this.sql, policyId);
    return p ? success(p) : failure(404, "Policy not found");
  }

  listPolicies(q: { limit: number; before?: number; status?: string }): { items: Policy[]; nextPageToken?: string } {
    return store.listPolicies(this.sql, q);
  }

  updatePolicy(orgId: string, policyId: string, body: PolicyBody, actor: Actor): Outcome<Policy> {
    this.bind(orgId);
    return this.ctx.storage.transactionSync(() => {
      const current = store.getPolicy(this.sql, policyId);
      if (!current) return failure(404, "Policy not found");
      if (current.status === "Archived") return failure(409, "Policy is archived");
      store.writePolicy(this.sql, { id: policyId, version: current.version + 1, status: "Active", body, changedBy: actor.userId, userActionId: actor.userActionId, now: nowIso() });
      this.bumpPoliciesVersion();
      return success(store.getPolicy(this.sql, policyId)!);
    });
  }

  archivePolicy(orgId: string, policyId: string, actor: Actor): Outcome<Policy> {
    this.bind(orgId);
    return this.ctx.storage.transactionSync(() => {
      const current = store.getPolicy(this.sql, policyId);
      if (!current) return failure(404, "Policy not found");
      if (current.status === "Archived") return failure(409, "Policy is already archived");
      store.writePolicy(this.sql, {
        id: policyId,
        version: current.version + 1,
        status: "Archived",
        body: store.policyBody(current),
        changedBy: actor.userId,
        userActionId: actor.userActionId,
        now: nowIso(),
      });
      this.bumpPoliciesVersion();
      return success(store.getPolicy(this.sql, policyId)!);
    });
  }

  // ── evaluation and reservations ───────────────────────────────────────────────────────────

  /** Decide and reserve, atomically. Idempotent per requestId. */
  evaluate(args: { orgId: string; input: GateInput; facts: Facts }): EvaluateOutcome {
    this.bind(args.orgId);
    const { input, facts } = args;
    const policies = this.active();

    // A retried request gets the answer it already got.
    const held = store.getHeld(this.sql, input.requestId);
    if (held) {
      const decision = JSON.parse(held.facts).decision as Decision;
      return { status: "Pending", approvalId: held.approval_id, decision };
    }
    const previous = store.reservationOfRequest(this.sql, input.requestId);
    if (previous && (previous.state === "Reserved" || previous.state === "Committed")) {
      return { status: "Allowed", reservation: { orgId: args.orgId, reservationId: previous.reservationId, requestId: input.requestId }, decision: { outcome: "Allowed", evaluations: [], reason: "Allowed earlier (same request id)" } };
    }

    // Screening may need I/O, which must not happen inside this atomic step: the gate does it
    // only when a prescreening policy applies, and asks again with the result.
    if (facts.screening === undefined && needsScreening(input.request, policies)) return { status: "NeedsScreening" };

    const now = Date.now();
    const usage = this.usageFor(input.request, policies, now);
    const decision = decide(input.request, policies, usage, [], now, facts);
    if (decision.outcome === "Blocked") return { status: "Blocked", decision };
    if (input.userAction) {
      this.sql.exec("INSERT OR IGNORE INTO signing_requests (challenge, request_id, request, at) VALUES (?, ?, ?, ?)", input.userAction.challenge, input.requestId, JSON.stringify(input.request), now);
    }

    const reservationId = store.layer3Id("rs");
    const usdValue = this.usdValue(input, facts);
    const reservation = {
      id: reservationId,
      requestId: input.requestId,
      walletId: input.request.walletId,
      at: now,
      network: input.request.network,
      ...(input.request.asset ? { asset: input.request.asset } : {}),
      ...(input.request.amount !== undefined ? { amount: input.request.amount } : {}),
      ...(usdValue ? { usdValue } : {}),
    };
    if (decision.outcome === "Allowed") {
      store.insertReservation(this.sql, { ...reservation, leaseUntil: now + LEASE_MS, approvalId: null });
      this.scheduleAlarm();
      // What signingFacts would answer the coordinator next, in the same step: it is handed along instead.
      const signing = input.userAction ? { signingFacts: this.signingFacts(input.userAction.challenge) } : {};
      return { status: "Allowed", reservation: { orgId: args.orgId, reservationId, requestId: input.requestId }, decision, ...signing };
    }

    // Derived from the initiator's user action: the share holders tell by it which request an
    // approver's signed decision is about (shared/src/policy/at-nodes.ts).
    const derived = input.userAction ? approvalIdFor(input.userAction.challenge) : null;
    const approvalId = derived && !store.getApproval(this.sql, derived) ? derived : store.layer3Id("ap");
    this.ctx.storage.transactionSync(() => {
      store.insertReservation(this.sql, { ...reservation, leaseUntil: null, approvalId });
      this.openApproval(approvalId, input, decision, now);
      this.sql.exec(
        "INSERT INTO held_requests (request_id, approval_id, reservation_id, status, input, facts, granted, created_at) VALUES (?, ?, ?, 'Held', ?, ?, '[]', ?)",
        input.requestId,
        approvalId,
        reservationId,
        JSON.stringify(input),
        JSON.stringify({ facts, decision }),
        nowIso(now),
      );
      this.scheduleAlarm();
    });
    return { status: "Pending", approvalId, decision };
  }

  /**
   * The share holders refused a request this object allowed, under the org's policies: they judge
   * by the newest signed governance, and a policy may have landed between the gate's decision and
   * the ceremony. Decides the request again under the policies in force now, its own reservation
   * aside:
   *   RequestApproval → held exactly as if the policy had been in force when it came (its
   *     reservation, now held; the approval id derived from the initiator's user action);
   *   Block → Blocked, its reservation released;
   *   NoAction → Unexplained: the edge's policies do not explain the refusal; nothing changes and
   *     the caller fails the request as before.
   * Asking again answers the same (held: Pending; released: Unexplained). The signing layer asks
   * once per request: one resumed after approval that the nodes refuse again just fails.
   */
  reconsider(args: { orgId: string; input: GateInput; facts: Facts }): EvaluateOutcome | { status: "Unexplained" } {
    this.bind(args.orgId);
    const { input, facts } = args;
    const held = store.getHeld(this.sql, input.requestId);
    if (held) return { status: "Pending", approvalId: held.approval_id, decision: JSON.parse(held.facts).decision as Decision };
    // Only a request allowed here and not signed: a released one was settled already.
    const previous = store.reservationOfRequest(this.sql, input.requestId);
    if (!previous || previous.state === "Committed" || previous.state === "Released") return { status: "Unexplained" };
    const policies = this.active();
    if (facts.screening === undefined && needsScreening(input.request, policies)) return { status: "NeedsScreening" };
    const now = Date.now();
    const decision = decide(input.request, policies, this.usageFor(input.request, policies, now, previous.reservationId), [], now, facts);
    if (decision.outcome === "Allowed") return { status: "Unexplained" };
    if (decision.outcome === "Blocked") {
      store.setUsageState(this.sql, previous.reservationId, { state: "Released", leaseUntil: null, reason: `blocked when re-checked after the share holders' refusal: ${decision.reason}`.slice(0, 512) });
      return { status: "Blocked", decision };
    }
    const derived = input.userAction ? approvalIdFor(input.userAction.challenge) : null;
    const approvalId = derived && !store.getApproval(this.sql, derived) ? derived : store.layer3Id("ap");
    this.ctx.storage.transactionSync(() => {
      // The allowed reservation becomes the held one: it keeps counting while the request waits.
      this.sql.exec("UPDATE usage SET state = 'Reserved', lease_until = NULL, approval_id = ? WHERE reservation_id = ?", approvalId, previous.reservationId);
      this.openApproval(approvalId, input, decision, now);
      this.sql.exec(
        "INSERT INTO held_requests (request_id, approval_id, reservation_id, status, input, facts, granted, created_at) VALUES (?, ?, ?, 'Held', ?, ?, '[]', ?)",
        input.requestId,
        approvalId,
        previous.reservationId,
        JSON.stringify(input),
        JSON.stringify({ facts, decision }),
        nowIso(now),
      );
      this.scheduleAlarm();
    });
    return { status: "Pending", approvalId, decision };
  }

  /**
   * What the share holders need to judge a signing request under the org's policies themselves:
   * the request as the gate saw it (by its initiator's user action), the user actions of the
   * approvals granted to it, and the longest velocity window of the org's active policies.
   */
  signingFacts(challenge: string): SigningFacts {
    const row = this.sql.exec<{ request_id: string; request: string }>("SELECT request_id, request FROM signing_requests WHERE challenge = ?", challenge).toArray()[0];
    let windowMinutes = 0;
    for (const p of this.active()) if (p.rule.kind === "TransactionAmountVelocity" || p.rule.kind === "TransactionCountVelocity") windowMinutes = Math.max(windowMinutes, p.rule.configuration.timeframe);
    if (!row) return { request: null, approvalActionIds: [], usageWindowMs: windowMinutes * 60_000 };
    const actions = this.sql
      .exec<{ user_action_id: string }>(
        "SELECT d.user_action_id FROM approval_decisions d JOIN approvals a ON a.approval_id = d.approval_id WHERE a.request_id = ? AND d.value = 'Approved' AND d.user_action_id IS NOT NULL ORDER BY d.decided_at",
        row.request_id,
      )
      .toArray()
      .map((r) => r.user_action_id);
    return { request: JSON.parse(row.request) as PolicyRequest, approvalActionIds: actions, usageWindowMs: windowMinutes * 60_000 };
  }

  private openApproval(approvalId: string, input: GateInput, decision: Extract<Decision, { outcome: "RequestApproval" }>, now: number): void {
    store.insertApproval(this.sql, {
      id: approvalId,
      requestId: input.requestId,
      initiatorId: input.request.initiatorId,
      groups: decision.groups,
      policyIds: decision.policyIds,
      evaluations: decision.evaluations,
      activity: input.activity,
      expiresAt: decision.autoRejectTimeout !== null ? now + decision.autoRejectTimeout * 60_000 : null,
      now: nowIso(now),
    });
  }

  /** The wallet's usage the applicable velocity policies can see (none when no velocity policy applies). */
  private usageFor(request: GateInput["request"], policies: Policy[], now: number, excludeReservation?: string): UsageEntry[] {
    const minutes = usageWindowMinutes(request, policies);
    return minutes === 0 ? [] : store.walletUsage(this.sql, request.walletId, now - minutes * 60_000, excludeReservation);
  }

  private usdValue(input: GateInput, facts: Facts): string | undefined {
    const { asset, amount, network } = input.request;
    const price = asset ? facts.usdPrices?.[priceKey(network, asset)] : undefined;
    if (!asset || amount === undefined || price === undefined) return undefined;
    return formatDecimal(multiply(fromBaseUnits(amount, asset.decimals), parseDecimal(price)));
  }

  /** The signature exists: the reservation now counts at signing time. Idempotent. */
  commitReservation(reservationId: string): Outcome<{ state: "Committed" }> {
    const r = store.getReservation(this.sql, reservationId);
    if (!r) return failure(404, "Reservation not found");
    if (r.state === "Released") return failure(409, "Reservation was released (signing reported as failed)");
    if (r.state !== "Committed") store.setUsageState(this.sql, reservationId, { state: "Committed", at: Date.now(), leaseUntil: null });
    return success({ state: "Committed" });
  }

  /** Signing failed or was abandoned: the request no longer counts. Idempotent. */
  releaseReservation(reservationId: string, reason: string): Outcome<{ state: "Released" }> {
    const r = store.getReservation(this.sql, reservationId);
    if (!r) return failure(404, "Reservation not found");
    if (r.state === "Committed") return failure(409, "Reservation is already committed (the request was signed)");
    if (r.state !== "Released") store.setUsageState(this.sql, reservationId, { state: "Released", leaseUntil: null, reason: reason.slice(0, 512) });
    return success({ state: "Released" });
  }

  // ── approvals ─────────────────────────────────────────────────────────────────────────────

  getApproval(approvalId: string): Outcome<store.StoredApproval> {
    const a = store.getApproval(this.sql, approvalId);
    return a ? success(a) : failure(404, "Approval not found");
  }

  listApprovals(q: { status?: string; initiatorId?: string; before?: number }): store.StoredApproval[] {
    return store.listApprovals(this.sql, q);
  }

  /** An approver's decision; resolves the approval when it is the last one needed or a denial. */
  async decideApproval(
    orgId: string,
    approvalId: string,
    d: Decider & { value: "Approved" | "Denied"; reason: string | null; userActionId: string | null },
  ): Promise<Outcome<store.StoredApproval>> {
    this.bind(orgId);
    const result = this.ctx.storage.transactionSync((): Outcome<AuditLine[]> => {
      const a = store.getApproval(this.sql, approvalId);
      if (!a) return failure(404, "Approval not found");
      const check = checkDecision(a, d, d.value);
      if (!check.ok) return failure(check.status, check.message);
      const now = Date.now();
      store.insertDecision(this.sql, { approvalId, userId: d.userId, isServiceAccount: d.isServiceAccount, value: d.value, reason: d.reason, userActionId: d.userActionId, now: nowIso(now) });
      store.touchApproval(this.sql, approvalId, nowIso(now));
      const status = resolveStatus(store.getApproval(this.sql, approvalId)!);
      if (status === "Pending") return success([]);
      return success(this.resolve(approvalId, status, now, d.value === "Denied" ? `denied by ${d.userId}${d.reason ? `: ${d.reason}` : ""}` : `approved by quorum`));
    });
    if (!result.ok) return result;
    this.scheduleAlarm();
    await this.audit(orgId, result.value);
    return success(store.getApproval(this.sql, approvalId)!);
  }

  /**
   * Closes an approval and settles the request it holds. Runs inside a transaction. Returns the
   * audit lines to write once committed.
   */
  private resolve(approvalId: string, status: "Approved" | "Denied" | "Expired", now: number, why: string): AuditLine[] {
    const orgId = store.getMeta(this.sql, "org_id")!;
    store.setApprovalStatus(this.sql, approvalId, status, nowIso(now));
    const path = `/v2/policy-approvals/${approvalId}`;
    const lines: AuditLine[] = [];
    const held = store.heldByApproval(this.sql, approvalId);
    if (!held || held.status !== "Held") return lines;
    const input = JSON.parse(held.input) as GateInput;
    const line = (decision: "allowed" | "denied", reason: string): AuditLine => ({ identityId: input.requester.identityId, userId: input.requester.userId, method: "POLICY", path, decision, reason });

    const reject = (reason: string) => {
      this.sql.exec("UPDATE held_requests SET status = 'Rejected', outcome_reason = ?, resolved_at = ? WHERE request_id = ?", reason, nowIso(now), held.request_id);
      store.setUsageState(this.sql, held.reservation_id, { state: "Released", leaseUntil: null, reason: `rejected: ${reason}`.slice(0, 512) });
      const event: ResumeEvent = { outcome: "Rejected", orgId, requestId: held.request_id, approvalId, input, reason };
      store.enqueueResume(this.sql, held.request_id, event, now);
      lines.push(line("denied", `policy: request ${held.request_id} Rejected (${approvalId}): ${reason}`));
    };

    if (status !== "Approved") {
      reject(status === "Expired" ? "approval expired (auto-reject timeout)" : why);
      return lines;
    }

    // Quorum: re-check against the policies in force now, this request's own reservation aside.
    const granted: GrantedApproval[] = [...(JSON.parse(held.granted) as GrantedApproval[]), { approvalId, policyIds: store.getApproval(this.sql, approvalId)!.policyIds }];
    const { facts } = JSON.parse(held.facts) as { facts: Facts };
    const policies = this.active();
    const usage = this.usageFor(input.request, policies, now, held.reservation_id);
    const decision = decide(input.request, policies, usage, granted, now, facts);
    if (decision.outcome === "Blocked") {
      reject(`approved, but blocked when re-checked: ${decision.reason}`);
      return lines;
    }
    if (decision.outcome === "RequestApproval") {
      // A policy added while this one was pending asks too: hold the request for it as well.
      const round = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM approvals WHERE request_id = ?", held.request_id).one().n;
      const derived = input.userAction ? approvalIdFor(input.userAction.challenge, round) : null;
      const next = derived && !store.getApproval(this.sql, derived) ? derived : store.layer3Id("ap");
      this.openApproval(next, input, decision, now);
      this.sql.exec("UPDATE held_requests SET approval_id = ?, granted = ? WHERE request_id = ?", next, JSON.stringify(granted), held.request_id);
      this.sql.exec("UPDATE usage SET approval_id = ? WHERE reservation_id = ?", next, held.reservation_id);
      lines.push(line("allowed", `policy: ${approvalId} approved; request ${held.request_id} now also needs ${next}: ${decision.reason}`));
      return lines;
    }
    this.sql.exec("UPDATE held_requests SET status = 'Approved', granted = ?, outcome_reason = ?, resolved_at = ? WHERE request_id = ?", JSON.stringify(granted), decision.reason, nowIso(now), held.request_id);
    store.setUsageState(this.sql, held.reservation_id, { state: "Reserved", leaseUntil: now + LEASE_MS });
    const approverIds = [
      ...new Set(granted.flatMap((g) => store.getApproval(this.sql, g.approvalId)?.decisions.filter((x) => x.value === "Approved").map((x) => x.userId) ?? [])),
    ];
    const event: ResumeEvent = {
      outcome: "Approved",
      orgId,
      requestId: held.request_id,
      approvalId,
      input,
      reservation: { orgId, reservationId: held.reservation_id, requestId: held.request_id },
      policy: { decision: "Approved", approvalId, approverIds },
    };
    store.enqueueResume(this.sql, held.request_id, event, now);
    lines.push(line("allowed", `policy: request ${held.request_id} Approved (${approvalId}, approvers ${approverIds.join(", ")}): ${decision.reason}`));
    return lines;
  }

  // ── the alarm: timeouts, leases, resume delivery ──────────────────────────────────────────

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const orgId = store.getMeta(this.sql, "org_id");
    if (!orgId) return;
    let now = Date.now();
    const lines: AuditLine[] = [];
    const expired = store.pendingApprovalsExpiringBy(this.sql, now);
    for (const approvalId of expired) {
      lines.push(...this.ctx.storage.transactionSync(() => this.resolve(approvalId, "Expired", now, "expired")));
    }
    // The same event, and id, a decision raises (policy/routes.ts): once per approval.
    for (const approvalId of expired) {
      const approval = store.getApproval(this.sql, approvalId);
      if (approval) await publishEvent(this.env, orgId, "policy.approval.resolved", { approval: approvalJson(approval) }, `whe-resolved-${approvalId}`);
    }
    this.sql.exec("UPDATE usage SET state = 'Lapsed', lease_until = NULL WHERE state = 'Reserved' AND lease_until IS NOT NULL AND lease_until <= ?", now);
    this.sql.exec("DELETE FROM usage WHERE (state = 'Committed' AND at <= ?) OR (state IN ('Released', 'Lapsed') AND at <= ?)", now - MAX_WINDOW_MS, now - MAX_WINDOW_MS);
    await this.audit(orgId, lines);

    const due = this.sql
      .exec<{ request_id: string; event: string; attempts: number }>(
        "SELECT request_id, event, attempts FROM resumes WHERE delivered_at IS NULL AND next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT 25",
        now,
      )
      .toArray();
    for (const r of due) {
      const event = JSON.parse(r.event) as ResumeEvent;
      const handler = resumeHandler();
      try {
        if (!handler) throw new Error("no resume handler registered by the signing layer");
        await handler(this.env, event);
        this.sql.exec("UPDATE resumes SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE request_id = ?", nowIso(), r.request_id);
      } catch (err) {
        now = Date.now();
        const attempts = r.attempts + 1;
        const message = (err instanceof Error ? err.message : String(err)).slice(0, 512);
        if (attempts >= MAX_DELIVERY_ATTEMPTS) {
          this.sql.exec("UPDATE resumes SET attempts = ?, next_at = NULL, last_error = ? WHERE request_id = ?", attempts, message, r.request_id);
          if (event.outcome === "Approved") this.releaseReservation(event.reservation.reservationId, `resume undeliverable: ${message}`);
          await this.audit(orgId, [
            { identityId: event.input.requester.identityId, userId: event.input.requester.userId, method: "POLICY", path: `/v2/policy-approvals/${event.approvalId}`, decision: "denied", reason: `policy: resume of ${event.requestId} undeliverable after ${attempts} attempts: ${message}` },
          ]);
        } else {
          this.sql.exec("UPDATE resumes SET attempts = ?, next_at = ?, last_error = ? WHERE request_id = ?", attempts, now + 1000 * 2 ** (attempts - 1), message, r.request_id);
        }
      }
    }
    this.scheduleAlarm();
  }

  private async audit(orgId: string, lines: AuditLine[]): Promise<void> {
    const log = this.env.AUDIT.getByName(orgId);
    for (const l of lines) {
      await log
        .record({ identityId: l.identityId, userId: l.userId, tokenId: null, method: l.method, path: l.path, operation: null, decision: l.decision, reason: l.reason, userActionId: null })
        .catch((err: Error) => console.error("audit write failed", err.message));
    }
  }
}
