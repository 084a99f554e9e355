// A recipient on the shipped OFAC SDN list is blocked by a prescreening policy, and the audit log
// says which policy, which list and which address.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../worker/src/policy/gate.js";
import { newOrg } from "../api/fixtures.js";
import { auditLines, createPolicy, gateInput, policySql } from "./fixtures.js";

// OFAC SDN entry "LAZARUS GROUP", Digital Currency Address - ETH (listed 2022-04-14), in the shipped list.
const LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96";

describe("sanctions screening with the bundled list", () => {
  it("blocks a sanctioned recipient (any letter case), lets a clean one through, and audits why", async () => {
    const { boot, sa } = await newOrg();
    const policy = await createPolicy(sa, {
      name: "no sanctioned recipients",
      activityKind: "Wallets:Sign",
      rule: {
        kind: "ChainalysisTransactionPrescreening",
        configuration: {
          alerts: { alertLevel: "HIGH", categoryIds: [] },
          exposures: { direct: { categoryIds: [] } },
          addresses: { categoryIds: [] },
          fallbackBehaviours: { skipUnscreenableTransaction: true, skipUnsupportedNetwork: false, skipUnsupportedAsset: false, skipChainalysisFailure: false },
        },
      },
      action: { kind: "Block" },
    });
    const blocked = await evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: boot.serviceAccount.userId, to: LAZARUS.toLowerCase() }));
    expect(blocked.status).toBe("Blocked");
    const expected = `Blocked by policy "no sanctioned recipients" (${policy.id} v1) ChainalysisTransactionPrescreening: local sanctions list: recipient ${LAZARUS.toLowerCase()} is listed (sanctions) in OFAC SDN (Specially Designated Nationals) digital currency addresses (snapshot 2024-09-27), listed as ETH`;
    expect(blocked.status === "Blocked" && blocked.reason).toBe(expected);
    // Nothing was reserved for the blocked request.
    expect(await policySql(boot.orgId, "SELECT * FROM usage")).toEqual([]);

    const denied = (await auditLines(boot.orgId)).filter((l) => l.decision === "denied");
    expect(denied).toEqual([{ decision: "denied", reason: `policy: ${expected}`, path: "/wallets/wa-test-1/transfers", method: "POST", operation: null }]);

    expect((await evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: boot.serviceAccount.userId, to: "0x2222222222222222222222222222222222222222" }))).status).toBe("Allowed");
    // A raw signature has no recipient: skipped by this policy's fallback, as configured.
    expect((await evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: boot.serviceAccount.userId, kind: "Signature", to: undefined, amount: undefined, asset: undefined }))).status).toBe("Allowed");
  }, 30_000);
});
