// The unmodified official SDK (@dfns/sdk 0.8.21 + @dfns/sdk-keysigner 0.8.3), only baseUrl
// changed, driving /v2/policies and /v2/policy-approvals on the edge API in local workerd.
import { generateKeyPairSync } from "node:crypto";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalApi, type LocalApi } from "../api/local-api.js";

let api: LocalApi;
beforeAll(async () => {
  api = await startLocalApi();
});
afterAll(async () => {
  await api?.stop();
});

async function refusal(p: Promise<unknown>): Promise<DfnsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DfnsError) return err;
    throw err;
  }
  throw new Error("expected the call to be refused");
}

describe("@dfns/sdk policies client against the Tessera edge API", () => {
  it("creates, lists, gets, updates and archives policies; lists approvals; refuses bad input", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const boot = await fetch(`${api.baseUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.bootstrapSecret}`, "content-type": "application/json" },
      body: JSON.stringify({ serviceAccount: { publicKey: publicKey.export({ type: "spki", format: "pem" }) }, rootUser: { username: "root@example.com" } }),
    });
    expect(boot.status).toBe(200);
    const org = (await boot.json()) as { rootUser: { userId: string }; serviceAccount: { accessToken: string; credId: string } };
    const dfns = new DfnsApiClient({
      baseUrl: api.baseUrl,
      authToken: org.serviceAccount.accessToken,
      signer: new AsymmetricKeySigner({ credId: org.serviceAccount.credId, privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString() }),
    });

    const limit = await dfns.policies.createPolicy({
      body: {
        name: "large transfers need the CFO",
        activityKind: "Wallets:Sign",
        rule: { kind: "TransactionAmountLimit", configuration: { limit: 10_000, currency: "USD" } },
        action: { kind: "RequestApproval", approvalGroups: [{ name: "CFO", quorum: 1, approvers: { userId: { in: [org.rootUser.userId] } } }], autoRejectTimeout: 120 },
        filters: { walletTags: { hasAny: ["treasury"] } },
      },
    });
    expect(limit).toMatchObject({ name: "large transfers need the CFO", status: "Active", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountLimit" } });
    const velocity = await dfns.policies.createPolicy({
      body: { name: "at most 20 per hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 20, timeframe: 60 } }, action: { kind: "Block" } },
    });

    const listed = await dfns.policies.listPolicies();
    expect(listed.items.map((p) => p.id)).toEqual([velocity.id, limit.id]);
    expect((await dfns.policies.listPolicies({ query: { limit: "1" } })).items).toHaveLength(1);
    expect(await dfns.policies.getPolicy({ policyId: limit.id })).toMatchObject({ id: limit.id, filters: { walletTags: { hasAny: ["treasury"] } } });

    const updated = await dfns.policies.updatePolicy({
      policyId: velocity.id,
      body: { name: "at most 30 per hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 30, timeframe: 60 } }, action: { kind: "Block" } },
    });
    expect(updated).toMatchObject({ name: "at most 30 per hour", rule: { configuration: { limit: 30 } } });
    expect(await dfns.policies.archivePolicy({ policyId: velocity.id })).toMatchObject({ status: "Archived" });
    expect((await dfns.policies.listPolicies({ query: { status: "Active" } })).items.map((p) => p.id)).toEqual([limit.id]);

    expect(await dfns.policies.listApprovals()).toEqual({ items: [] });
    expect((await refusal(dfns.policies.getApproval({ approvalId: "ap-missing" }))).httpStatus).toBe(404);
    expect((await refusal(dfns.policies.createApprovalDecision({ approvalId: "ap-missing", body: { value: "Approved" } }))).httpStatus).toBe(404);

    const bad = await refusal(
      dfns.policies.createPolicy({ body: { name: "typo", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 5, timeframe: 0 } }, action: { kind: "Block" } } }),
    );
    expect(bad.httpStatus).toBe(400);
    expect(bad.message).toMatch(/timeframe/);
    expect((await dfns.policies.listPolicies()).items).toHaveLength(2);
  });
});
