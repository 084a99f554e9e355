// Approval rules, pure: who may decide, and when an approval is resolved (Dfns semantics).
//  - A decision comes from an approver of at least one group: named in `approvers.userId.in`, or
//    anyone when the group lists nobody; service accounts only where `serviceAccountsCanApprove`.
//  - The initiator of the request cannot approve it unless the group sets `initiatorCanApprove`;
//    the initiator (like any approver) may always deny.
//  - One decision per user. Any denial rejects the request. It is approved when every group has
//    reached its quorum of distinct eligible approvers.
import type { RequiredApprovalGroup } from "./types.js";

export type ApprovalStatus = "Pending" | "Approved" | "Denied" | "Expired";

export interface Decider {
  userId: string;
  isServiceAccount: boolean;
}

export interface RecordedDecision extends Decider {
  value: "Approved" | "Denied";
}

export interface ApprovalRules {
  status: ApprovalStatus;
  initiatorId: string;
  groups: RequiredApprovalGroup[];
  decisions: RecordedDecision[];
}

function isApprover(group: RequiredApprovalGroup, d: Decider): boolean {
  if (d.isServiceAccount && !group.serviceAccountsCanApprove) return false;
  const named = group.approvers.userId?.in;
  return named === undefined || named.includes(d.userId);
}

/** Groups in which this decider's approval counts. */
export function groupsApprovableBy(groups: RequiredApprovalGroup[], d: Decider, initiatorId: string): number[] {
  const out: number[] = [];
  groups.forEach((g, i) => {
    if (isApprover(g, d) && (d.userId !== initiatorId || g.initiatorCanApprove === true)) out.push(i);
  });
  return out;
}

export function isEligibleApprover(groups: RequiredApprovalGroup[], d: Decider, initiatorId: string): boolean {
  return d.userId === initiatorId || groups.some((g) => isApprover(g, d));
}

/** Whether a user could decide this approval at all (named in a group, or a group open to anyone). */
export function mayDecide(groups: RequiredApprovalGroup[], userId: string): boolean {
  return groups.some((g) => g.approvers.userId === undefined || g.approvers.userId.in.includes(userId));
}

export type DecisionCheck = { ok: true } | { ok: false; status: 403 | 409; message: string };

export function checkDecision(a: ApprovalRules, d: Decider, value: "Approved" | "Denied"): DecisionCheck {
  if (a.status !== "Pending") return { ok: false, status: 409, message: `Approval is already ${a.status}` };
  if (a.decisions.some((x) => x.userId === d.userId)) return { ok: false, status: 409, message: "You have already decided on this approval" };
  if (value === "Denied") {
    if (d.userId === a.initiatorId || a.groups.some((g) => isApprover(g, d))) return { ok: true };
    return { ok: false, status: 403, message: "You are not an approver of this approval" };
  }
  if (groupsApprovableBy(a.groups, d, a.initiatorId).length > 0) return { ok: true };
  if (d.userId === a.initiatorId && a.groups.some((g) => isApprover(g, d))) {
    return { ok: false, status: 403, message: "The initiator of a request cannot approve it" };
  }
  return { ok: false, status: 403, message: "You are not an approver of this approval" };
}

/** The status the recorded decisions lead to (Expired is set by the clock, not by decisions). */
export function resolveStatus(a: ApprovalRules): ApprovalStatus {
  if (a.status !== "Pending") return a.status;
  if (a.decisions.some((d) => d.value === "Denied")) return "Denied";
  const approvers = a.decisions.filter((d) => d.value === "Approved");
  const met = a.groups.every((g, i) => approvers.filter((d) => groupsApprovableBy(a.groups, d, a.initiatorId).includes(i)).length >= g.quorum);
  return met ? "Approved" : "Pending";
}
