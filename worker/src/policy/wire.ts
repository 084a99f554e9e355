// Layer 3's objects in Dfns's JSON shapes (@dfns/sdk 0.8.21 policies types): policies and
// approvals. Extra fields we add (version, approvalGroups, requestId) are ignored by the SDK.
import type { StoredApproval } from "./store.js";
import type { Policy } from "../../../shared/src/policy/types.js";

export function policyJson(p: Policy) {
  return {
    id: p.id,
    name: p.name,
    status: p.status,
    activityKind: p.activityKind,
    rule: p.rule,
    action: p.action,
    filters: p.filters,
    dateCreated: p.dateCreated,
    dateUpdated: p.dateUpdated,
    version: p.version,
  };
}

export function approvalJson(a: StoredApproval) {
  return {
    id: a.approvalId,
    initiatorId: a.initiatorId,
    activity: JSON.parse(a.activityJson) as unknown,
    status: a.status,
    ...(a.expiresAt !== null ? { expirationDate: new Date(a.expiresAt).toISOString() } : {}),
    dateCreated: a.createdAt,
    dateUpdated: a.updatedAt,
    ...(a.resolvedAt ? { dateResolved: a.resolvedAt } : {}),
    policyEvaluations: a.evaluations.map((e) => ({
      policyId: e.policyId,
      triggered: e.triggered,
      reason: e.reason,
      context: { policyName: e.policyName, policyVersion: e.policyVersion, ruleKind: e.ruleKind, actionKind: e.actionKind, ...(e.approvedBy ? { approvedBy: e.approvedBy } : {}) },
    })),
    decisions: a.decisions.map((d) => ({ userId: d.userId, date: d.date, reason: d.reason, value: d.value })),
    approvalGroups: a.groups,
    requestId: a.requestId,
  };
}
