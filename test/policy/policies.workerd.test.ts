// /v2/policies through the real Worker in workerd: create, list, get, update (versioned),
// archive; permissions and user-action signing; bad input refused with 4xx and nothing changed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiClient, newKeyCredential } from "../api/client.js";
import { BASE, fetcher, json, newOrg } from "../api/fixtures.js";
import { auditLines, createPolicy, policySql, policyTables } from "./fixtures.js";

const blockBig = { name: "block big", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountLimit", configuration: { limit: 1000, currency: "USD" } }, action: { kind: "Block" } };

describe("/v2/policies", () => {
  it("creates, lists, gets, updates (new version), archives; every change audited with its version", async () => {
    const { boot, sa } = await newOrg();
    const created = await createPolicy(sa, { ...blockBig, filters: { walletTags: { hasAny: ["hot"] } } });
    expect(created).toMatchObject({ name: "block big", status: "Active", version: 1, activityKind: "Wallets:Sign", rule: blockBig.rule, action: { kind: "Block" }, filters: { walletTags: { hasAny: ["hot"] } } });
    expect(created.id).toMatch(/^pl-/);

    const second = await createPolicy(sa, {
      name: "two approvers",
      activityKind: "Wallets:Sign",
      rule: { kind: "AlwaysTrigger", configuration: {} },
      action: { kind: "RequestApproval", approvalGroups: [{ name: "ops", quorum: 1, approvers: { userId: { in: [boot.rootUser.userId] } } }], autoRejectTimeout: 60 },
    });
    const list = await json<{ items: { id: string }[] }>(await sa.get("/v2/policies"));
    expect(list.items.map((p) => p.id)).toEqual([second.id, created.id]);
    const page = await json<{ items: { id: string }[]; nextPageToken: string }>(await sa.get("/v2/policies?limit=1"));
    expect(page.items.map((p) => p.id)).toEqual([second.id]);
    const next = await json<{ items: { id: string }[]; nextPageToken?: string }>(await sa.get(`/v2/policies?limit=1&paginationToken=${page.nextPageToken}`));
    expect(next).toEqual({ items: [expect.objectContaining({ id: created.id })] });

    const updated = await json<{ version: number; name: string; rule: unknown }>(
      await sa.signed("PUT", `/v2/policies/${created.id}`, { ...blockBig, name: "block bigger", rule: { kind: "TransactionAmountLimit", configuration: { limit: 5000, currency: "USD" } } }),
    );
    expect(updated).toMatchObject({ version: 2, name: "block bigger", rule: { configuration: { limit: 5000 } } });
    expect(await json(await sa.get(`/v2/policies/${created.id}`))).toMatchObject({ version: 2, name: "block bigger" });

    const archived = await json<{ status: string; version: number }>(await sa.signed("DELETE", `/v2/policies/${created.id}`, {}));
    expect(archived).toMatchObject({ status: "Archived", version: 3 });
    expect((await json<{ items: unknown[] }>(await sa.get("/v2/policies?status=Active"))).items).toHaveLength(1);
    expect((await json<{ items: unknown[] }>(await sa.get("/v2/policies?status=Archived"))).items).toHaveLength(1);
    // Archived is final for edits.
    expect((await sa.signed("PUT", `/v2/policies/${created.id}`, blockBig)).status).toBe(409);
    expect((await sa.signed("DELETE", `/v2/policies/${created.id}`, {})).status).toBe(409);

    // Every version is kept with who changed it and under which signed user action.
    const versions = await policySql<{ version: number; status: string; changed_by: string; user_action_id: string | null }>(
      boot.orgId,
      "SELECT version, status, changed_by, user_action_id FROM policy_versions WHERE policy_id = ? ORDER BY version",
      created.id,
    );
    expect(versions.map((v) => [v.version, v.status, v.changed_by])).toEqual([
      [1, "Active", boot.serviceAccount.userId],
      [2, "Active", boot.serviceAccount.userId],
      [3, "Archived", boot.serviceAccount.userId],
    ]);
    expect(versions.every((v) => v.user_action_id?.startsWith("ua-"))).toBe(true);

    // Allowed lines are written after the response (waitUntil): wait until the last one is in.
    let reasons: string[] = [];
    for (let i = 0; i < 100 && !reasons.some((r) => r.includes("archived (version 3)")); i++) {
      await new Promise((r) => setTimeout(r, 50));
      reasons = (await auditLines(boot.orgId)).map((l) => l.reason);
    }
    expect(reasons).toContain(`policy ${created.id} "block big" created (version 1): TransactionAmountLimit → Block`);
    expect(reasons).toContain(`policy ${created.id} "block bigger" updated to version 2: TransactionAmountLimit → Block`);
    expect(reasons).toContain(`policy ${created.id} "block bigger" archived (version 3)`);
    expect(reasons).toContain("Policy is archived");
  }, 30_000);

  it("refuses bad input with a 4xx and a clear message, and stores nothing", async () => {
    const { boot, sa } = await newOrg();
    const existing = await createPolicy(sa, blockBig);
    const before = await policyTables(boot.orgId);
    const bad: [unknown, RegExp][] = [
      [{ ...blockBig, name: "" }, /name/],
      [{ ...blockBig, activityKind: "Policies:Modify" }, /Policies:Modify policies are not supported/],
      [{ ...blockBig, activityKind: "Nope" }, /unknown activity kind/],
      [{ ...blockBig, rule: { kind: "GlobalLedgerTransactionPrescreening", configuration: {} } }, /rule/],
      [{ ...blockBig, rule: { kind: "TransactionAmountLimit", configuration: { limit: -1, currency: "USD" } } }, /negative/],
      [{ ...blockBig, rule: { kind: "TransactionAmountLimit", configuration: { limit: "12abc", currency: "USD" } } }, /decimal/],
      [{ ...blockBig, rule: { kind: "TransactionAmountLimit", configuration: { limit: 10, currency: "EUR" } } }, /currency/],
      [{ ...blockBig, rule: { kind: "TransactionCountVelocity", configuration: { limit: 5, timeframe: 0 } } }, /timeframe/],
      [{ ...blockBig, rule: { kind: "TransactionCountVelocity", configuration: { limit: 5, timeframe: 43_201 } } }, /timeframe/],
      [{ ...blockBig, rule: { kind: "TransactionRecipientWhitelist", configuration: { addresses: [] } } }, /addresses/],
      [{ ...blockBig, action: { kind: "RequestApproval", approvalGroups: [] } }, /approvalGroups/],
      [{ ...blockBig, action: { kind: "RequestApproval", approvalGroups: [{ quorum: 3, approvers: { userId: { in: [boot.rootUser.userId] } } }] } }, /quorum is larger/],
      [{ ...blockBig, action: { kind: "RequestApproval", approvalGroups: [{ quorum: 1, approvers: { userId: { in: ["us-nobody"] } } }] } }, /unknown approver us-nobody/],
      [{ ...blockBig, action: { kind: "Explode" } }, /action/],
      [{ ...blockBig, filters: { walletTags: {} } }, /hasAny or hasAll/],
      [{ ...blockBig, filters: { walletId: { in: [] } } }, /filters/],
      [{ ...blockBig, filters: { walletIds: { in: ["wa-1"] } } }, /filters/],
      ["[1,2,3]", /Invalid request/],
    ];
    for (const [body, message] of bad) {
      const res = await sa.signed("POST", "/v2/policies", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(message);
    }
    // Malformed JSON, unknown ids, bad queries.
    const userAction = await sa.userAction("POST", "/v2/policies", "{not json");
    const malformed = await sa.raw("POST", "/v2/policies", { body: "{not json", headers: { "x-dfns-useraction": userAction } });
    expect(malformed.status).toBe(400);
    expect((await sa.signed("PUT", "/v2/policies/pl-missing", blockBig)).status).toBe(404);
    expect((await sa.signed("PUT", `/v2/policies/${existing.id}`, { ...blockBig, rule: { kind: "AlwaysTrigger", configuration: 5 } })).status).toBe(400);
    expect((await sa.signed("DELETE", "/v2/policies/pl-missing", {})).status).toBe(404);
    expect((await sa.get("/v2/policies/pl-missing")).status).toBe(404);
    expect((await sa.get("/v2/policies?limit=0")).status).toBe(400);
    expect((await sa.get("/v2/policies?paginationToken=abc")).status).toBe(400);
    expect((await sa.get("/v2/policies?status=Deleted")).status).toBe(400);
    expect((await sa.get("/v2/policy-approvals?status=Maybe")).status).toBe(400);
    expect((await sa.signed("POST", "/v2/policy-approvals/ap-missing/decisions", { value: "Approved" })).status).toBe(404);
    expect((await sa.signed("POST", "/v2/policy-approvals/ap-missing/decisions", { value: "Perhaps" })).status).toBe(400);
    expect(await policyTables(boot.orgId)).toEqual(before);
  }, 30_000);

  it("is permissioned (Policies:*) and user-action signed", async () => {
    const { boot, sa } = await newOrg();
    const key = await newKeyCredential();
    const perm = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: "policy readers", operations: ["Policies:Read"] }));
    const created = await json<{ accessTokens: { accessToken: string; credId: string }[] }>(
      await sa.signed("POST", "/auth/service-accounts", { name: "reader", publicKey: key.publicKeyPem, permissionId: perm.id }),
    );
    const reader = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    const before = await policyTables(boot.orgId);
    expect((await reader.get("/v2/policies")).status).toBe(200);
    const denied = await reader.signed("POST", "/v2/policies", blockBig);
    expect(denied.status).toBe(403);
    expect((await json<{ error: { message: string } }>(denied)).error.message).toMatch(/not authorized to perform operation \(Policies:Create\)/);
    expect((await reader.get("/v2/policy-approvals")).status).toBe(403);
    // Without a user action signature, even the root service account cannot change a policy.
    const unsigned = await sa.raw("POST", "/v2/policies", { body: JSON.stringify(blockBig) });
    expect(unsigned.status).toBe(401);
    expect(await policyTables(boot.orgId)).toEqual(before);
  }, 30_000);

  it("random policy-shaped and arbitrary bodies never yield a 5xx and never store anything invalid", async () => {
    const { boot, sa } = await newOrg();
    const existing = await createPolicy(sa, blockBig);
    const ruleKinds = ["AlwaysTrigger", "TransactionRecipientWhitelist", "TransactionAmountLimit", "TransactionAmountVelocity", "TransactionCountVelocity", "ChainalysisTransactionPrescreening"];
    const policyish = fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 140 }), fc.jsonValue()),
        activityKind: fc.oneof(fc.constant("Wallets:Sign"), fc.string({ maxLength: 20 })),
        rule: fc.record({ kind: fc.oneof(fc.constantFrom(...ruleKinds), fc.string({ maxLength: 10 })), configuration: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }),
        action: fc.record({ kind: fc.constantFrom("Block", "NoAction", "RequestApproval", "Nope"), approvalGroups: fc.jsonValue({ maxDepth: 3 }), autoRejectTimeout: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ["kind"] }),
        filters: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(policyish.map((b) => JSON.stringify(b)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 200 }));
    const targets: [string, string][] = [["POST", "/v2/policies"], ["PUT", `/v2/policies/${existing.id}`], ["POST", "/v2/policy-approvals/ap-x/decisions"]];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), body, async ([method, path], text) => {
        const ua = await sa.userAction(method, path, text);
        const res = await sa.raw(method, path, { body: text, headers: { "x-dfns-useraction": ua } });
        expect(res.status, `${method} ${path} ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(((await res.json()) as object) !== null).toBe(true); // always a JSON body
      }),
      { numRuns: 40 },
    );
    // Whatever got stored is a policy the engine can read back (and the routes can list).
    const listed = await json<{ items: { id: string; rule: { kind: string } }[] }>(await sa.get("/v2/policies?limit=500"));
    for (const p of listed.items) expect(ruleKinds).toContain(p.rule.kind);
    expect((await policySql<{ n: number }>(boot.orgId, "SELECT COUNT(*) AS n FROM policies"))[0]!.n).toBe(listed.items.length);
  }, 120_000);
});
