// The gate decides again when the share holders refused an allowed request under the org's
// policies (a policy landed between the gate and the ceremony; policy/gate.ts reconsiderPolicies):
// RequestApproval → held exactly as if it had been in force (its reservation now the held one, the
// approval id derived from the user action, the resume event on approval); Block → Blocked and
// released; NoAction → Unexplained, nothing changed. Asking again answers the same.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import { approvalIdFor } from "../../shared/src/policy/at-nodes.js";
import type { GateInput, ResumeEvent } from "../../worker/src/policy/contract.js";
import { evaluatePolicies, reconsiderPolicies, registerResumeHandler } from "../../worker/src/policy/gate.js";
import { ConfiguredPrices } from "../../worker/src/policy/prices.js";
import { resumeHandler } from "../../worker/src/policy/resume.js";
import { json, newOrg } from "../api/fixtures.js";
import { newKeyCredential, ApiClient } from "../api/client.js";
import { BASE, fetcher } from "../api/fixtures.js";
import { createPolicy, gateInput, policySql } from "./fixtures.js";

const prices = new ConfiguredPrices({ Ethereum: "2000" });
const delivered: ResumeEvent[] = [];
let previous: ReturnType<typeof resumeHandler> = null;
beforeEach(() => {
  previous = resumeHandler();
  registerResumeHandler(async (_env, event) => {
    delivered.push(event);
  });
});
afterEach(() => registerResumeHandler(previous));

/** An allowed request carrying a user action (only its challenge and id matter to layer 3). */
function allowedInput(initiatorId: string): GateInput {
  const challenge = `ch-${crypto.randomUUID()}`;
  return gateInput({ initiatorId, amount: "100000000000000000" }, { userAction: { challenge, actionId: `ua-${challenge}` } as unknown as UserActionEvidence });
}
const without = ({ request: _judged, ...rest }: GateInput) => rest;

describe("reconsidering a request the share holders refused under the org's policies", () => {
  it("a RequestApproval policy that landed meanwhile: held as if it had been there, resumed on approval with its reservation", async () => {
    const org = await newOrg();
    const orgId = org.boot.orgId;
    const perm = await json<{ id: string }>(await org.sa.signed("POST", "/permissions", { name: "approvers", operations: ["Policies:Approvals:Read", "Policies:Approvals:Approve"] }));
    const key = await newKeyCredential();
    const made = await json<{ userInfo: { userId: string }; accessTokens: { accessToken: string; credId: string }[] }>(await org.sa.signed("POST", "/auth/service-accounts", { name: "alice", publicKey: key.publicKeyPem, permissionId: perm.id }));
    const alice = new ApiClient(fetcher, BASE, made.accessTokens[0]!.accessToken, made.accessTokens[0]!.credId, key);
    const input = allowedInput("us-initiator");
    const allowed = await evaluatePolicies(env, orgId, input, { prices });
    expect(allowed.status).toBe("Allowed");
    // Nothing to explain yet: the policies in force still allow it.
    expect((await reconsiderPolicies(env, orgId, without(input), { prices })).result).toEqual({ status: "Unexplained" });

    await createPolicy(org.sa, {
      name: "everything needs alice",
      activityKind: "Wallets:Sign",
      rule: { kind: "AlwaysTrigger" },
      action: { kind: "RequestApproval", approvalGroups: [{ name: "ops", quorum: 1, approvers: { userId: { in: [made.userInfo.userId] } }, serviceAccountsCanApprove: true }], autoRejectTimeout: 60 },
    });
    const again = await reconsiderPolicies(env, orgId, without(input), { prices });
    const approvalId = approvalIdFor(input.userAction!.challenge);
    expect(again.result).toMatchObject({ status: "Pending", approvalId });
    expect(again.audit?.line.reason).toMatch(/after the share holders refused it .*held for approval/);
    // The allowed reservation is the held one now (no lease), the request held with its input.
    expect(await policySql(orgId, "SELECT state, lease_until, approval_id FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Reserved", lease_until: null, approval_id: approvalId }]);
    expect(await policySql(orgId, "SELECT status FROM held_requests WHERE request_id = ?", input.requestId)).toEqual([{ status: "Held" }]);
    // Asking again (or the gate again) answers the same; no second approval.
    expect((await reconsiderPolicies(env, orgId, without(input), { prices })).result).toMatchObject({ status: "Pending", approvalId });
    expect(await evaluatePolicies(env, orgId, input, { prices })).toMatchObject({ status: "Pending", approvalId });
    expect(await policySql(orgId, "SELECT count(*) AS n FROM approvals WHERE request_id = ?", input.requestId)).toEqual([{ n: 1 }]);

    const approval = await json<Record<string, unknown>>(await alice.get(`/v2/policy-approvals/${approvalId}`));
    expect(approval).toMatchObject({ status: "Pending", initiatorId: "us-initiator", activity: { kind: "Wallets:Sign", transferRequest: { id: input.requestId } } });
    expect(await json(await alice.signed("POST", `/v2/policy-approvals/${approvalId}/decisions`, { value: "Approved" }))).toMatchObject({ status: "Approved" });
    const deadline = Date.now() + 5_000;
    while (!delivered.some((e) => e.requestId === input.requestId) && Date.now() < deadline) {
      await runDurableObjectAlarm(env.POLICY_STATE.getByName(orgId));
      await new Promise((r) => setTimeout(r, 20));
    }
    const event = delivered.find((e) => e.requestId === input.requestId)!;
    expect(event).toMatchObject({ outcome: "Approved", approvalId, input: { request: input.request, resume: input.resume }, policy: { decision: "Approved", approvalId } });
    if (event.outcome !== "Approved") throw new Error();
    expect(event.reservation.reservationId).toBe(allowed.status === "Allowed" ? allowed.reservation.reservationId : "");
  }, 30_000);

  it("a Block that landed meanwhile: Blocked, the reservation released; asked again: nothing more to explain", async () => {
    const org = await newOrg();
    const orgId = org.boot.orgId;
    const input = allowedInput("us-initiator");
    expect((await evaluatePolicies(env, orgId, input, { prices })).status).toBe("Allowed");
    await createPolicy(org.sa, { name: "freeze", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger" }, action: { kind: "Block" } });
    const blocked = await reconsiderPolicies(env, orgId, without(input), { prices });
    expect(blocked.result).toMatchObject({ status: "Blocked", reason: expect.stringMatching(/freeze/) });
    expect(blocked.audit?.line.decision).toBe("denied");
    expect(await policySql(orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Released" }]);
    expect((await reconsiderPolicies(env, orgId, without(input), { prices })).result).toEqual({ status: "Unexplained" });
    expect(await policySql(orgId, "SELECT count(*) AS n FROM approvals")).toEqual([{ n: 0 }]);
  }, 30_000);

  it("a request the gate never judged (no user action on record) is not reconsidered", async () => {
    const org = await newOrg();
    const input = allowedInput("us-initiator");
    expect((await reconsiderPolicies(env, org.boot.orgId, without(input), { prices })).result).toEqual({ status: "Unexplained" });
  }, 30_000);
});
