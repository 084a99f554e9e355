// POST /wallets/:id/signatures is one call into the org's WalletRegistry (wallets/signature-request.ts):
// the policy gate runs there and its audit line must still reach the org's log — a Block's denied
// line written before the response, after the request's own permit line; an allowed request's line
// queued from the registry; a held request stored Pending with its approval. No share holders are
// configured in this runtime, so an allowed request ends Failed and its reservation is released.
import { env } from "cloudflare:test";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { auditBatching } from "../../worker/src/audit/record.js";
import { keyKindFor } from "../../worker/src/wallets/chains.js";
import { walletRegistryOf, type WalletRecord } from "../../worker/src/wallets/wallet-registry.js";
import { auditLines, createPolicy, policySql } from "../policy/fixtures.js";
import { json, newOrg } from "./fixtures.js";

async function seededWallet(orgId: string, id: string, tags: string[] = []): Promise<WalletRecord> {
  const publicKey = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
  const wallet: WalletRecord = {
    id,
    orgId,
    network: "EthereumSepolia",
    name: null,
    externalId: null,
    tags,
    keyId: `key-${id.slice(3)}`,
    scheme: "ECDSA",
    curve: "secp256k1",
    publicKey,
    address: keyKindFor("EthereumSepolia")!.address(publicKey),
    status: "Active",
    dateCreated: new Date().toISOString(),
    creatorId: "us-x",
  };
  await walletRegistryOf(env, orgId).addWallet(wallet);
  return wallet;
}

type SignatureJson = { id: string; status: string; reason?: string; approvalId?: string; walletId: string };
const hash = () => ({ kind: "Hash", hash: `0x${bytesToHex(crypto.getRandomValues(new Uint8Array(32)))}` });
const until = async (what: string, f: () => Promise<boolean>) => {
  for (let i = 0; i < 100; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("a signature request in one call to the wallet registry", () => {
  it("allowed: the policy's allowed line reaches the log; without share holders it ends Failed and its reservation is released", async () => {
    const { boot, sa } = await newOrg();
    const w = await seededWallet(boot.orgId, "wa-sgn00-00000-0000000001");
    const res = await sa.signed("POST", `/wallets/${w.id}/signatures`, hash());
    expect(res.status).toBe(200);
    const sig = await json<SignatureJson>(res);
    expect(sig).toMatchObject({ walletId: w.id, status: "Failed" });
    expect(sig.reason).toMatch(/share holders/i);
    expect((await walletRegistryOf(env, boot.orgId).getSignature(w.id, sig.id))?.status).toBe("Failed");
    expect((await policySql<{ state: string }>(boot.orgId, "SELECT state FROM usage WHERE request_id = ?", sig.id)).map((r) => r.state)).toEqual(["Released"]);
    await until("the policy's audit line", async () => (await auditLines(boot.orgId)).some((l) => l.reason.startsWith("policy: ") && l.path === `/wallets/${w.id}/signatures`));
    const lines = (await auditLines(boot.orgId)).filter((l) => l.path === `/wallets/${w.id}/signatures`);
    expect(lines.map((l) => l.decision)).toEqual(["allowed", "allowed"]);
  });

  it("blocked: Rejected with the policy's reason, the denied line written before the answer and after the request's permit line", async () => {
    const { boot, sa } = await newOrg();
    const w = await seededWallet(boot.orgId, "wa-sgn00-00000-0000000002", ["cold"]);
    await createPolicy(sa, { name: "cold wallets never sign", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger" }, action: { kind: "Block" }, filters: { walletTags: { hasAny: ["cold"] } } });
    // A wide batching window: the permit line is still queued when the refusal is written.
    const before = auditBatching.windowMs;
    auditBatching.windowMs = 5_000;
    try {
      const sig = await json<SignatureJson>(await sa.signed("POST", `/wallets/${w.id}/signatures`, hash()));
      expect(sig.status).toBe("Rejected");
      expect(sig.reason).toMatch(/cold wallets never sign/);
      const lines = (await auditLines(boot.orgId)).filter((l) => l.path === `/wallets/${w.id}/signatures`);
      expect(lines.map((l) => [l.decision, l.reason.startsWith("policy: ")])).toEqual([
        ["allowed", false],
        ["denied", true],
      ]);
    } finally {
      auditBatching.windowMs = before;
    }
    expect(await policySql(boot.orgId, "SELECT * FROM usage")).toEqual([]);
  });

  it("held: Pending with its approval id, stored so, and its reservation held", async () => {
    const { boot, sa } = await newOrg();
    const w = await seededWallet(boot.orgId, "wa-sgn00-00000-0000000003");
    await createPolicy(sa, {
      name: "every signature needs one",
      activityKind: "Wallets:Sign",
      rule: { kind: "AlwaysTrigger" },
      action: { kind: "RequestApproval", approvalGroups: [{ name: "ops", quorum: 1, approvers: {} }], autoRejectTimeout: 60 },
    });
    const sig = await json<SignatureJson>(await sa.signed("POST", `/wallets/${w.id}/signatures`, hash()));
    expect(sig.status).toBe("Pending");
    expect(sig.approvalId).toMatch(/^ap-/);
    expect(await walletRegistryOf(env, boot.orgId).getSignature(w.id, sig.id)).toMatchObject({ status: "Pending", approvalId: sig.approvalId });
    expect((await policySql<{ state: string; approval_id: string }>(boot.orgId, "SELECT state, approval_id FROM usage WHERE request_id = ?", sig.id))).toEqual([{ state: "Reserved", approval_id: sig.approvalId }]);
    const held = (await auditLines(boot.orgId)).filter((l) => l.path === `/wallets/${w.id}/signatures` && l.reason.startsWith("policy: held for approval"));
    expect(held).toHaveLength(1);
  });

  it("refuses a missing wallet (404) and a body it cannot sign (400) before any policy is asked", async () => {
    const { boot, sa } = await newOrg();
    expect((await sa.signed("POST", "/wallets/wa-nothere-00000-0000000000/signatures", hash())).status).toBe(404);
    const w = await seededWallet(boot.orgId, "wa-sgn00-00000-0000000004");
    const bad = await sa.signed("POST", `/wallets/${w.id}/signatures`, { kind: "Hash", hash: "0x01" });
    expect(bad.status).toBe(400);
    expect(await policySql(boot.orgId, "SELECT * FROM usage")).toEqual([]);
  });
});
