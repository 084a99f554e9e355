// Layer 3, the policy engine: a pure function. Given a request, the org's policies, the wallet's
// earlier usage, approvals already granted to this request, the time and facts gathered outside
// (prices, screening), it decides Allowed / Blocked / RequestApproval and says why. No I/O, no
// clock, no randomness: the same inputs always give the same decision, which is what lets the
// Durable Object run it inside one synchronous step (decide-and-reserve is atomic) and lets
// tests pin every edge.
//
// Combination (Dfns semantics): every active Wallets:Sign policy whose filters match the request
// is evaluated; Block wins over RequestApproval, which wins over NoAction. Several triggered
// RequestApproval policies all need their approval groups satisfied. A RequestApproval policy
// already satisfied by an approval granted to this request does not ask again.
import { evaluateRule } from "./rules.js";
import type { Filters } from "./schema.js";
import type { Decision, Facts, GrantedApproval, Policy, PolicyEvaluation, PolicyRequest, RequiredApprovalGroup, UsageEntry } from "./types.js";
import { UsageWindow } from "./usage-window.js";

export function matchesFilters(filters: Filters, request: PolicyRequest): boolean {
  if (filters.walletId && !filters.walletId.in.includes(request.walletId)) return false;
  if (filters.network && !filters.network.in.includes(request.network)) return false;
  const tags = filters.walletTags;
  if (tags?.hasAny && !tags.hasAny.some((t) => request.walletTags.includes(t))) return false;
  if (tags?.hasAll && !tags.hasAll.every((t) => request.walletTags.includes(t))) return false;
  return true;
}

/** The active Wallets:Sign policies that apply to this request (filters matched). */
export function applicablePolicies(request: PolicyRequest, policies: Policy[]): Policy[] {
  return policies.filter((p) => p.status === "Active" && p.activityKind === "Wallets:Sign" && matchesFilters(p.filters, request));
}

/** Whether deciding this request needs a recipient screening (so the gate fetches one only then). */
export function needsScreening(request: PolicyRequest, policies: Policy[]): boolean {
  return applicablePolicies(request, policies).some((p) => p.rule.kind === "ChainalysisTransactionPrescreening");
}

/**
 * The longest velocity window (minutes) among the policies that apply to this request, or 0 when
 * none does — so the caller loads only the usage the decision can look at.
 */
export function usageWindowMinutes(request: PolicyRequest, policies: Policy[]): number {
  let minutes = 0;
  for (const p of applicablePolicies(request, policies)) {
    if (p.rule.kind === "TransactionAmountVelocity" || p.rule.kind === "TransactionCountVelocity") minutes = Math.max(minutes, p.rule.configuration.timeframe);
  }
  return minutes;
}

const label = (e: PolicyEvaluation) => `policy "${e.policyName}" (${e.policyId} v${e.policyVersion}) ${e.ruleKind}: ${e.reason}`;

export function decide(request: PolicyRequest, policies: Policy[], counters: UsageEntry[], approvals: GrantedApproval[], now: number, facts: Facts = {}): Decision {
  const usage = new UsageWindow(
    counters.every((e) => e.walletId === request.walletId) ? counters : counters.filter((e) => e.walletId === request.walletId),
    now,
    facts,
  );
  // Stable order (creation, then id) so reasons and approval groups read the same every time.
  const applicable = applicablePolicies(request, policies).sort((a, b) => a.dateCreated.localeCompare(b.dateCreated) || a.id.localeCompare(b.id));

  const evaluations: PolicyEvaluation[] = applicable.map((p) => {
    const result = evaluateRule(p.rule, { request, usage, facts });
    const grant = result.triggered && p.action.kind === "RequestApproval" ? approvals.find((a) => a.policyIds.includes(p.id)) : undefined;
    return {
      policyId: p.id,
      policyName: p.name,
      policyVersion: p.version,
      ruleKind: p.rule.kind,
      actionKind: p.action.kind,
      triggered: result.triggered,
      reason: result.reason,
      ...(grant ? { approvedBy: grant.approvalId } : {}),
    };
  });

  const fired = evaluations.filter((e) => e.triggered);
  const blocking = fired.filter((e) => e.actionKind === "Block");
  if (blocking.length > 0) {
    return { outcome: "Blocked", evaluations, blockedBy: blocking.map((e) => e.policyId), reason: `Blocked by ${blocking.map(label).join("; ")}` };
  }

  const awaiting = fired.filter((e) => e.actionKind === "RequestApproval" && !e.approvedBy);
  if (awaiting.length > 0) {
    const groups: RequiredApprovalGroup[] = [];
    const timeouts: number[] = [];
    for (const e of awaiting) {
      const action = applicable.find((p) => p.id === e.policyId)!.action;
      if (action.kind !== "RequestApproval") continue;
      for (const g of action.approvalGroups) groups.push({ ...g, policyId: e.policyId });
      if (action.autoRejectTimeout != null) timeouts.push(action.autoRejectTimeout);
    }
    return {
      outcome: "RequestApproval",
      evaluations,
      policyIds: awaiting.map((e) => e.policyId),
      groups,
      autoRejectTimeout: timeouts.length ? Math.min(...timeouts) : null,
      reason: `Approval required by ${awaiting.map(label).join("; ")}`,
    };
  }

  const approved = fired.filter((e) => e.approvedBy);
  const noted = fired.filter((e) => e.actionKind === "NoAction");
  const parts = [
    ...(approved.length ? [`approved in ${[...new Set(approved.map((e) => e.approvedBy))].join(", ")} for ${approved.map((e) => e.policyId).join(", ")}`] : []),
    ...(noted.length ? [`triggered without action: ${noted.map(label).join("; ")}`] : []),
  ];
  const reason =
    applicable.length === 0 ? "Allowed: no policy applies" : parts.length ? `Allowed: ${parts.join("; ")}` : `Allowed: ${applicable.length} policies evaluated, none triggered`;
  return { outcome: "Allowed", evaluations, reason };
}
