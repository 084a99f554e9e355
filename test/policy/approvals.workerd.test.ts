// Human approvals in workerd: a held request, user-action-signed decisions through the routes,
// the initiator refused, quorum of two → Approved and the resume handler gets the request back
// (with its reservation); a denial or the auto-reject timeout (the Durable Object's alarm) →
// Rejected and released, never resumed for signing.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ResumeEvent } from "../../worker/src/policy/contract.js";
import { commitReservation, evaluatePolicies, registerResumeHandler } from "../../worker/src/policy/gate.js";
import { ConfiguredPrices } from "../../worker/src/policy/prices.js";
import { resumeHandler } from "../../worker/src/policy/resume.js";
import type { PolicyState } from "../../worker/src/policy/state.js";
import { ApiClient, newKeyCredential } from "../api/client.js";
import { BASE, fetcher, json, newOrg, type TestOrg } from "../api/fixtures.js";
import { auditLines, createPolicy, gateInput, policySql } from "./fixtures.js";

const prices = new ConfiguredPrices({ Ethereum: "2000" });
// Alarms of earlier tests' objects may still fire in the background: look at one org's events only.
const delivered: ResumeEvent[] = [];
const eventsOf = (orgId: string) => delivered.filter((e) => e.orgId === orgId);
// The signing layer's own handler (if this build registers one) is put back after each test.
let previous: ReturnType<typeof resumeHandler> = null;
beforeEach(() => {
  previous = resumeHandler();
  registerResumeHandler(async (_env, event) => {
    delivered.push(event);
  });
});
afterEach(() => registerResumeHandler(previous));

/** A service account allowed to read and decide approvals. */
async function approver(org: TestOrg, name: string, permissionId: string): Promise<{ client: ApiClient; userId: string }> {
  const key = await newKeyCredential();
  const created = await json<{ userInfo: { userId: string }; accessTokens: { accessToken: string; credId: string }[] }>(
    await org.sa.signed("POST", "/auth/service-accounts", { name, publicKey: key.publicKeyPem, permissionId }),
  );
  return { client: new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key), userId: created.userInfo.userId };
}

async function setUp() {
  const org = await newOrg();
  const perm = await json<{ id: string }>(await org.sa.signed("POST", "/permissions", { name: "approvers", operations: ["Policies:Approvals:Read", "Policies:Approvals:Approve"] }));
  const [initiator, alice, bob, carol] = await Promise.all(["initiator", "alice", "bob", "carol"].map((n) => approver(org, n, perm.id)));
  const policy = await createPolicy(org.sa, {
    name: "over 1000 USD needs two",
    activityKind: "Wallets:Sign",
    rule: { kind: "TransactionAmountLimit", configuration: { limit: 1000, currency: "USD" } },
    action: {
      kind: "RequestApproval",
      approvalGroups: [{ name: "treasury", quorum: 2, approvers: { userId: { in: [initiator!.userId, alice!.userId, bob!.userId] } }, serviceAccountsCanApprove: true }],
      autoRejectTimeout: 60,
    },
  });
  return { org, initiator: initiator!, alice: alice!, bob: bob!, carol: carol!, policy };
}

/**
 * Runs the org's alarm until `count` resume events reached the handler. The runtime may also fire
 * the alarm on its own, so a manual run can find it already in progress: poll briefly.
 */
async function deliver(orgId: string, count: number): Promise<ResumeEvent[]> {
  const deadline = Date.now() + 5_000;
  while (eventsOf(orgId).length < count && Date.now() < deadline) {
    await runDurableObjectAlarm(env.POLICY_STATE.getByName(orgId));
    if (eventsOf(orgId).length < count) await new Promise((r) => setTimeout(r, 20));
  }
  return eventsOf(orgId);
}

const decide = (who: ApiClient, approvalId: string, value: "Approved" | "Denied", reason?: string) =>
  who.signed("POST", `/v2/policy-approvals/${approvalId}/decisions`, { value, ...(reason ? { reason } : {}) });

describe("approvals", () => {
  it("quorum of two: the initiator is refused, two approvers approve, the held request resumes with its reservation", async () => {
    const { org, initiator, alice, bob, carol, policy } = await setUp();
    const events = () => eventsOf(org.boot.orgId);
    const input = gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" }); // 1 ETH = 2000 USD
    const held = await evaluatePolicies(env, org.boot.orgId, input, { prices });
    expect(held.status).toBe("Pending");
    if (held.status !== "Pending") throw new Error();
    expect(held.reason).toMatch(/Approval required by policy "over 1000 USD needs two".*amount 2000 USD exceeds the limit of 1000 USD/);
    // Retrying the same request does not open a second approval.
    expect(await evaluatePolicies(env, org.boot.orgId, input, { prices })).toMatchObject({ status: "Pending", approvalId: held.approvalId });

    const approval = await json<Record<string, unknown>>(await alice.client.get(`/v2/policy-approvals/${held.approvalId}`));
    expect(approval).toMatchObject({
      id: held.approvalId,
      initiatorId: initiator.userId,
      status: "Pending",
      activity: { kind: "Wallets:Sign", transferRequest: { id: input.requestId } },
      policyEvaluations: [{ policyId: policy.id, triggered: true, reason: "amount 2000 USD exceeds the limit of 1000 USD" }],
      decisions: [],
    });
    expect(approval.expirationDate).toEqual(expect.any(String));
    expect((await json<{ items: { id: string }[] }>(await bob.client.get(`/v2/policy-approvals?approverId=${bob.userId}&status=Pending`))).items.map((a) => a.id)).toEqual([held.approvalId]);
    expect((await json<{ items: unknown[] }>(await bob.client.get(`/v2/policy-approvals?approverId=${carol.userId}`))).items).toEqual([]);

    // The initiator is a named approver, but may not approve their own request.
    const own = await decide(initiator.client, held.approvalId, "Approved");
    expect(own.status).toBe(403);
    expect((await json<{ error: { message: string } }>(own)).error.message).toBe("The initiator of a request cannot approve it");
    // Carol is no approver of this group; the root service account neither.
    expect((await decide(carol.client, held.approvalId, "Approved")).status).toBe(403);
    expect((await decide(org.sa, held.approvalId, "Approved")).status).toBe(403);

    expect(await json(await decide(alice.client, held.approvalId, "Approved", "checked the invoice"))).toMatchObject({ status: "Pending", decisions: [{ userId: alice.userId, value: "Approved", reason: "checked the invoice" }] });
    expect((await decide(alice.client, held.approvalId, "Approved")).status).toBe(409); // one decision per user
    expect(events()).toEqual([]);

    const done = await json<{ status: string; dateResolved: string }>(await decide(bob.client, held.approvalId, "Approved"));
    expect(done).toMatchObject({ status: "Approved", dateResolved: expect.any(String) });
    expect((await decide(initiator.client, held.approvalId, "Denied")).status).toBe(409); // already resolved

    // The resume event goes out through the alarm, with the original request and its reservation.
    expect(await deliver(org.boot.orgId, 1)).toHaveLength(1);
    const event = events()[0]!;
    expect(event).toMatchObject({ outcome: "Approved", requestId: input.requestId, approvalId: held.approvalId, input: { request: input.request, resume: input.resume } });
    if (event.outcome !== "Approved") throw new Error();
    expect(event.policy).toEqual({ decision: "Approved", approvalId: held.approvalId, approverIds: [alice.userId, bob.userId] });
    await commitReservation(env, event.reservation);
    expect(await policySql(org.boot.orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Committed" }]);
    // Delivered once: a later alarm does not deliver again.
    await runDurableObjectAlarm(env.POLICY_STATE.getByName(org.boot.orgId));
    expect(events()).toHaveLength(1);

    const lines = (await auditLines(org.boot.orgId)).map((l) => `${l.decision} ${l.reason}`);
    expect(lines.some((l) => l.startsWith(`allowed policy: held for approval ${held.approvalId}`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`allowed policy: request ${input.requestId} Approved (${held.approvalId}, approvers ${alice.userId}, ${bob.userId})`))).toBe(true);
    expect(lines).toContain("denied The initiator of a request cannot approve it");
  }, 30_000);

  it("a denial rejects at once: the reservation is released and the request comes back Rejected, not for signing", async () => {
    const { org, initiator, alice } = await setUp();
    const events = () => eventsOf(org.boot.orgId);
    const input = gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" });
    const held = await evaluatePolicies(env, org.boot.orgId, input, { prices });
    if (held.status !== "Pending") throw new Error(held.status);
    expect(await policySql(org.boot.orgId, "SELECT state, lease_until FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Reserved", lease_until: null }]);
    expect(await json(await decide(alice.client, held.approvalId, "Denied", "unknown recipient"))).toMatchObject({ status: "Denied" });
    expect(await policySql(org.boot.orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Released" }]);
    await deliver(org.boot.orgId, 1);
    expect(events()).toEqual([expect.objectContaining({ outcome: "Rejected", requestId: input.requestId, reason: `denied by ${alice.userId}: unknown recipient` })]);
    expect((await auditLines(org.boot.orgId)).some((l) => l.decision === "denied" && l.reason.includes(`request ${input.requestId} Rejected`))).toBe(true);
  }, 30_000);

  it("the initiator may deny their own request", async () => {
    const { org, initiator } = await setUp();
    const held = await evaluatePolicies(env, org.boot.orgId, gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" }), { prices });
    if (held.status !== "Pending") throw new Error(held.status);
    expect(await json(await decide(initiator.client, held.approvalId, "Denied"))).toMatchObject({ status: "Denied" });
  }, 30_000);

  it("the auto-reject timeout (alarm) rejects a pending approval", async () => {
    const { org, initiator, alice } = await setUp();
    const events = () => eventsOf(org.boot.orgId);
    const input = gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" });
    const held = await evaluatePolicies(env, org.boot.orgId, input, { prices });
    if (held.status !== "Pending") throw new Error(held.status);
    // An alarm before the deadline changes nothing.
    await runDurableObjectAlarm(env.POLICY_STATE.getByName(org.boot.orgId));
    expect(await json(await alice.client.get(`/v2/policy-approvals/${held.approvalId}`))).toMatchObject({ status: "Pending" });
    // Move the deadline (60 min) into the past rather than wait an hour, then let the alarm run.
    await runInDurableObject(env.POLICY_STATE.getByName(org.boot.orgId), (_s: PolicyState, state) => {
      state.storage.sql.exec("UPDATE approvals SET expires_at = ? WHERE approval_id = ?", Date.now() - 1, held.approvalId);
    });
    await runDurableObjectAlarm(env.POLICY_STATE.getByName(org.boot.orgId));
    expect(await json(await alice.client.get(`/v2/policy-approvals/${held.approvalId}`))).toMatchObject({ status: "Expired" });
    await deliver(org.boot.orgId, 1);
    expect(events()).toEqual([expect.objectContaining({ outcome: "Rejected", requestId: input.requestId, reason: "approval expired (auto-reject timeout)" })]);
    expect(await policySql(org.boot.orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Released" }]);
    expect((await decide(alice.client, held.approvalId, "Approved")).status).toBe(409);
  }, 30_000);

  it("at quorum the request is re-checked: a Block policy added meanwhile still wins", async () => {
    const { org, initiator, alice, bob } = await setUp();
    const events = () => eventsOf(org.boot.orgId);
    const input = gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" });
    const held = await evaluatePolicies(env, org.boot.orgId, input, { prices });
    if (held.status !== "Pending") throw new Error(held.status);
    const freeze = await createPolicy(org.sa, { name: "freeze", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger" }, action: { kind: "Block" }, filters: { walletId: { in: [input.request.walletId] } } });
    await decide(alice.client, held.approvalId, "Approved");
    expect(await json(await decide(bob.client, held.approvalId, "Approved"))).toMatchObject({ status: "Approved" });
    expect(await deliver(org.boot.orgId, 1)).toHaveLength(1);
    const first = events()[0]!;
    expect(first).toMatchObject({ outcome: "Rejected" });
    expect(first.outcome === "Rejected" && first.reason).toContain(`approved, but blocked when re-checked: Blocked by policy "freeze" (${freeze.id}`);
    expect(await policySql(org.boot.orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Released" }]);
  }, 30_000);

  it("an undeliverable resume is retried with backoff, then given up and its reservation released", async () => {
    const { org, initiator, alice, bob } = await setUp();
    let calls = 0;
    registerResumeHandler(async (_env, event) => {
      if (event.orgId === org.boot.orgId) calls++;
      throw new Error("signing layer down");
    });
    const input = gateInput({ initiatorId: initiator.userId, amount: "1000000000000000000" });
    const held = await evaluatePolicies(env, org.boot.orgId, input, { prices });
    if (held.status !== "Pending") throw new Error(held.status);
    await decide(alice.client, held.approvalId, "Approved");
    await decide(bob.client, held.approvalId, "Approved");
    const stub = env.POLICY_STATE.getByName(org.boot.orgId);
    // Skip the backoff waits: make the retry due now, run the alarm, until it gives up.
    for (let i = 0; i < 20; i++) {
      const pending = await runInDurableObject(stub, (_s: PolicyState, state) => {
        state.storage.sql.exec("UPDATE resumes SET next_at = ? WHERE next_at IS NOT NULL", Date.now() - 1);
        return state.storage.sql.exec("SELECT COUNT(*) AS n FROM resumes WHERE next_at IS NOT NULL").one().n as number;
      });
      if (pending === 0) break;
      await runDurableObjectAlarm(stub);
    }
    expect(calls).toBe(8);
    expect(await policySql(org.boot.orgId, "SELECT attempts, next_at, last_error FROM resumes")).toEqual([{ attempts: 8, next_at: null, last_error: "signing layer down" }]);
    expect(await policySql(org.boot.orgId, "SELECT state FROM usage WHERE request_id = ?", input.requestId)).toEqual([{ state: "Released" }]);
  }, 30_000);
});
