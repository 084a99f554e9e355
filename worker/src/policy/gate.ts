// The gate the signing layer calls before any signing session starts (see README.md):
//
//   const gate = await evaluatePolicies(env, orgId, input, { waitUntil: c.executionCtx.waitUntil.bind(c.executionCtx) });
//   Allowed → sign with SigningAuthorization.policy = gate.policy, then commitReservation(env,
//             gate.reservation) — or releaseReservation(env, gate.reservation, why) if signing failed;
//   Blocked → answer the request as Rejected/Failed with gate.reason; nothing was reserved;
//   Pending → answer status "Pending" with gate.approvalId; the resume handler registered with
//             registerResumeHandler gets the request back when the approval resolves.
//
// Facts (USD prices, recipient screening) are gathered here, outside the Durable Object, because
// they may need I/O; the PolicyState object then decides and reserves atomically.
import type { Env } from "../env.js";
import type { GateInput, GateResult, Reservation } from "./contract.js";
import { ConfiguredPrices, priceKey, type PriceSource } from "./prices.js";
import { ChainalysisSanctionsApi } from "./screening/chainalysis-api.js";
import { CombinedScreening, screenSafely, type ScreeningProvider } from "./screening/provider.js";
import { SanctionsListScreening } from "./screening/sanctions-list.js";
import type { Facts } from "../../../shared/src/policy/types.js";
import { approvalJson } from "./wire.js";
import type { EvaluateOutcome } from "./state.js";
import { publishEvents } from "../webhooks/publish.js";
import { queueAllowed, recordNow, type Line } from "../audit/record.js";

export type { GateInput, GateResult, Reservation, ResumeEvent, ResumeHandler, SigningFacts } from "./contract.js";
export { registerResumeHandler } from "./resume.js";

export interface GateDeps {
  prices: PriceSource;
  screening: ScreeningProvider;
  /** Lets the allowed-request audit line join the request's batch and commit after the response (c.executionCtx.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
}

let localList: SanctionsListScreening | null = null;

/**
 * Providers from configuration: prices from POLICY_USD_PRICES; screening by the bundled OFAC list,
 * plus Chainalysis's sanctions API when CHAINALYSIS_API_KEY is set.
 */
export function defaultGateDeps(env: Env): GateDeps {
  localList ??= new SanctionsListScreening();
  const screening = env.CHAINALYSIS_API_KEY
    ? new CombinedScreening([localList, new ChainalysisSanctionsApi({ apiKey: env.CHAINALYSIS_API_KEY, ...(env.CHAINALYSIS_API_URL ? { baseUrl: env.CHAINALYSIS_API_URL } : {}) })])
    : localList;
  return { prices: ConfiguredPrices.fromVariable(env.POLICY_USD_PRICES), screening };
}

/**
 * The decision's audit line: `now` — written before the request is answered, after the org's
 * queued allowed lines (Blocked, held); otherwise it joins the org's batch of allowed lines.
 */
export interface GateAudit {
  line: Line;
  now: boolean;
}

export async function evaluatePolicies(env: Env, orgId: string, input: GateInput, deps: Partial<GateDeps> = {}): Promise<GateResult> {
  const { result, audit } = await judgePolicies(env, orgId, input, deps);
  await recordGateAudit(env, orgId, audit, deps.waitUntil);
  return result;
}

/** Writes the gate's audit line by its rule (see GateAudit); without waitUntil an allowed line is written at once. */
export async function recordGateAudit(env: Env, orgId: string, audit: GateAudit, waitUntil?: (p: Promise<unknown>) => void): Promise<void> {
  if (audit.now) return recordNow(env, orgId, audit.line);
  // Joins the request's batch of allowed lines (one audit write per request, not two).
  if (waitUntil) queueAllowed(env, orgId, audit.line, waitUntil);
  else await recordNow(env, orgId, audit.line).catch((err: Error) => console.error("audit write failed", err.message));
}

/**
 * The decision without its audit line written: for a caller that runs the gate away from the
 * request (the wallet's registry object, one call for a whole signature request) and hands the
 * line back to the request's isolate, whose batch of the org's allowed lines it belongs to.
 */
export async function judgePolicies(env: Env, orgId: string, input: GateInput, deps: Partial<Omit<GateDeps, "waitUntil">> = {}): Promise<{ result: GateResult; audit: GateAudit }> {
  const state = env.POLICY_STATE.getByName(orgId);
  const outcome = await decideWithFacts(env, input, deps, async (facts) => (await state.evaluate({ orgId, input, facts })) as Judged);
  if (outcome.status === "Unexplained") throw new Error("the policy object answered an evaluation with a reconsideration");
  return settle(env, orgId, input, outcome, "");
}

/**
 * The share holders refused a request the gate allowed, under the org's policies (the nodes judge
 * by the newest signed governance: a policy may have landed between the gate and the ceremony).
 * The gate decides once more under the policies in force now, as it would have had they been in
 * force when the request came: RequestApproval → held (Pending, the same approval object, webhooks
 * and resume path as any held request); Block → Blocked (its reservation released); NoAction →
 * `Unexplained` (nothing changed: the request fails as before). `input` is the request's as the
 * gate was given it, but for `request`: the policy request it judged then, kept by PolicyState.
 */
export async function reconsiderPolicies(
  env: Env,
  orgId: string,
  input: Omit<GateInput, "request">,
  deps: Partial<Omit<GateDeps, "waitUntil">> = {},
): Promise<{ result: Exclude<GateResult, { status: "Allowed" }>; audit: GateAudit } | { result: { status: "Unexplained" }; audit: null }> {
  const state = env.POLICY_STATE.getByName(orgId);
  const judged = input.userAction ? (await state.signingFacts(input.userAction.challenge)).request : null;
  if (!judged) return { result: { status: "Unexplained" }, audit: null };
  const full: GateInput = { ...input, request: judged };
  const outcome = await decideWithFacts(env, full, deps, async (facts) => (await state.reconsider({ orgId, input: full, facts })) as Judged);
  if (outcome.status === "Unexplained" || outcome.status === "Allowed") return { result: { status: "Unexplained" }, audit: null };
  const settled = await settle(env, orgId, full, outcome, "after the share holders refused it under policies newer than the first decision: ");
  return settled as { result: Exclude<GateResult, { status: "Allowed" }>; audit: GateAudit };
}

/** The facts a decision needs (prices; the recipient's screening when a prescreening policy applies, asked for by `decideOnce`), then the decision. */
type Judged = EvaluateOutcome | { status: "Unexplained" };

async function decideWithFacts(env: Env, input: GateInput, deps: Partial<Omit<GateDeps, "waitUntil">>, decideOnce: (facts: Facts) => Promise<Judged>): Promise<Exclude<Judged, { status: "NeedsScreening" }>> {
  const { prices, screening } = { ...defaultGateDeps(env), ...deps };
  const facts: Facts = {};
  const { asset, network } = input.request;
  if (asset) {
    const price = await prices.usdPrice(network, asset);
    if (price !== null) facts.usdPrices = { [priceKey(network, asset)]: price };
  }
  // One round trip in the common case; a second, with the screening, when a prescreening policy
  // applies (the object says so rather than the gate reading the policies first).
  let outcome = await decideOnce(facts);
  if (outcome.status === "NeedsScreening") {
    facts.screening = await screenSafely(screening, input.request);
    outcome = await decideOnce(facts);
  }
  if (outcome.status === "NeedsScreening") throw new Error("screening result not accepted");
  return outcome;
}

/** PolicyState's outcome as the gate answers it, with its audit line; a hold announces its approval. */
async function settle(env: Env, orgId: string, input: GateInput, outcome: Exclude<EvaluateOutcome, { status: "NeedsScreening" }>, context: string): Promise<{ result: GateResult; audit: GateAudit }> {
  const state = env.POLICY_STATE.getByName(orgId);
  const lineOf = (decision: "allowed" | "denied", reason: string): Line => ({
    identityId: input.requester.identityId,
    userId: input.requester.userId,
    tokenId: input.requester.tokenId,
    method: input.http.method,
    path: input.http.path,
    operation: null,
    decision,
    reason: `policy: ${context}${reason}`.slice(0, 512),
    userActionId: input.userAction?.actionId ?? null,
    at: new Date().toISOString(),
  });
  // A refusal or a hold is written after the org's queued allowed lines (the request's own permit line among them), so the log keeps the order.
  switch (outcome.status) {
    case "Blocked":
      return { result: { status: "Blocked", reason: outcome.decision.reason, decision: outcome.decision }, audit: { line: lineOf("denied", outcome.decision.reason), now: true } };
    case "Pending": {
      const approval = await state.getApproval(outcome.approvalId);
      const data = approval.ok ? { approval: approvalJson(approval.value) } : { approvalId: outcome.approvalId };
      await publishEvents(env, orgId, [
        { kind: "policy.triggered", data, id: `whe-triggered-${outcome.approvalId}` },
        { kind: "policy.approval.pending", data, id: `whe-pending-${outcome.approvalId}` },
      ]);
      return {
        result: { status: "Pending", approvalId: outcome.approvalId, reason: outcome.decision.reason, decision: outcome.decision },
        audit: { line: lineOf("allowed", `held for approval ${outcome.approvalId}: ${outcome.decision.reason}`), now: true },
      };
    }
    case "Allowed":
      return {
        result: {
          status: "Allowed",
          reservation: outcome.reservation,
          policy: { decision: "NoAction" },
          reason: outcome.decision.reason,
          decision: outcome.decision,
          ...(outcome.signingFacts ? { signingFacts: outcome.signingFacts } : {}),
        },
        audit: { line: lineOf("allowed", outcome.decision.reason), now: false },
      };
  }
}

/** The request was signed: its amount/count now counts at signing time. Idempotent. */
export async function commitReservation(env: Env, reservation: Reservation): Promise<void> {
  const r = await env.POLICY_STATE.getByName(reservation.orgId).commitReservation(reservation.reservationId);
  if (!r.ok) throw new Error(`commitReservation ${reservation.reservationId}: ${r.message}`);
}

/** Signing failed or was abandoned: the request stops counting. Idempotent; refused once committed. */
export async function releaseReservation(env: Env, reservation: Reservation, reason: string): Promise<void> {
  const r = await env.POLICY_STATE.getByName(reservation.orgId).releaseReservation(reservation.reservationId, reason);
  if (!r.ok) throw new Error(`releaseReservation ${reservation.reservationId}: ${r.message}`);
}
