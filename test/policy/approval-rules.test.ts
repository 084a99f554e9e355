// The pure approval rules: who may decide, initiator exclusion, service accounts, quorum per group.
import { describe, expect, it } from "vitest";
import { checkDecision, resolveStatus, type ApprovalRules } from "../../shared/src/policy/approvals.js";
import type { RequiredApprovalGroup } from "../../shared/src/policy/types.js";

const group = (quorum: number, users?: string[], extra: Partial<RequiredApprovalGroup> = {}): RequiredApprovalGroup => ({
  policyId: "pl-1",
  quorum,
  approvers: users ? { userId: { in: users } } : {},
  ...extra,
});
const human = (userId: string) => ({ userId, isServiceAccount: false });

function approval(groups: RequiredApprovalGroup[], decisions: ApprovalRules["decisions"] = []): ApprovalRules {
  return { status: "Pending", initiatorId: "us-init", groups, decisions };
}

describe("approval rules", () => {
  it("refuses the initiator's approval unless the group allows it; the initiator may deny", () => {
    const a = approval([group(1, ["us-init", "us-a"])]);
    expect(checkDecision(a, human("us-init"), "Approved")).toEqual({ ok: false, status: 403, message: "The initiator of a request cannot approve it" });
    expect(checkDecision(a, human("us-init"), "Denied")).toEqual({ ok: true });
    expect(checkDecision(approval([group(1, ["us-init"], { initiatorCanApprove: true })]), human("us-init"), "Approved")).toEqual({ ok: true });
    // In an open group the initiator is still excluded.
    expect(checkDecision(approval([group(1)]), human("us-init"), "Approved")).toMatchObject({ ok: false, status: 403 });
  });

  it("only named approvers (or anyone in an open group); service accounts only when allowed", () => {
    const named = approval([group(1, ["us-a"])]);
    expect(checkDecision(named, human("us-b"), "Approved")).toMatchObject({ ok: false, status: 403, message: "You are not an approver of this approval" });
    expect(checkDecision(named, human("us-b"), "Denied")).toMatchObject({ ok: false, status: 403 });
    expect(checkDecision(approval([group(1)]), human("us-b"), "Approved")).toEqual({ ok: true });
    expect(checkDecision(approval([group(1)]), { userId: "us-sa", isServiceAccount: true }, "Approved")).toMatchObject({ ok: false });
    expect(checkDecision(approval([group(1, undefined, { serviceAccountsCanApprove: true })]), { userId: "us-sa", isServiceAccount: true }, "Approved")).toEqual({ ok: true });
  });

  it("one decision per user, none after resolution", () => {
    expect(checkDecision(approval([group(2)], [{ ...human("us-a"), value: "Approved" }]), human("us-a"), "Denied")).toMatchObject({ status: 409 });
    expect(checkDecision({ ...approval([group(1)]), status: "Expired" }, human("us-a"), "Approved")).toMatchObject({ status: 409, message: "Approval is already Expired" });
  });

  it("every group must reach its quorum of eligible approvers; any denial rejects", () => {
    const groups = [group(2, ["us-a", "us-b", "us-c"]), group(1, ["us-d"])];
    const approve = (...ids: string[]) => ids.map((id) => ({ ...human(id), value: "Approved" as const }));
    expect(resolveStatus(approval(groups, approve("us-a")))).toBe("Pending");
    expect(resolveStatus(approval(groups, approve("us-a", "us-b")))).toBe("Pending"); // second group still open
    expect(resolveStatus(approval(groups, approve("us-a", "us-b", "us-d")))).toBe("Approved");
    expect(resolveStatus(approval(groups, [...approve("us-a", "us-b"), { ...human("us-d"), value: "Denied" }]))).toBe("Denied");
    // The initiator's recorded approval would not count where the initiator is excluded.
    expect(resolveStatus(approval([group(1, ["us-init", "us-a"])], approve("us-init")))).toBe("Pending");
    // One person in two groups counts for both.
    expect(resolveStatus(approval([group(1, ["us-a"]), group(1, ["us-a", "us-b"])], approve("us-a")))).toBe("Approved");
  });
});
