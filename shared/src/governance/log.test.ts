// The governance log's rules, as every node applies them: an entry counts only if the log as it
// stands authorizes it (signer's credential, identity, permission) and it states what was requested.
import { createPublicKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeBase64Url, utf8 } from "../dfns/base64url.js";
import { userActionChallenge } from "../dfns/user-action.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { createJoinRequest, type JoinRequest } from "./join-request.js";
import { applyEntry, checkActor, entryHash, genesis, isRetired, type GovernanceEffect, type GovernanceEntry, type GovernanceState } from "./log.js";

const ORG = "or-1";
const key = () => {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, pem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString() };
};
const root = key();

function action(signer: { privateKey: KeyObject; pem: string }, subject: string, method: string, path: string, body: unknown): UserActionEvidence {
  const payload = JSON.stringify(body);
  const now = Math.floor(Date.now() / 1000);
  const challenge = userActionChallenge({ method, path, payload, orgId: ORG, subject, nonce: "n", issuedAt: now, expiry: now + 300 });
  const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
  return {
    actionId: "ua-1", orgId: ORG, subject, tokenId: "to-1", method, path, payload, nonce: "n", expiry: now + 300, challenge, challengeIdentifier: "ch-1",
    credential: { credId: "c", credentialUuid: "cu", kind: "Key", publicKey: signer.pem },
    assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(new Uint8Array(nodeSign("sha256", clientData, signer.privateKey))), authenticatorData: null, userHandle: null },
    signedAt: new Date().toISOString(),
  };
}

const entry = (s: GovernanceState, evidence: UserActionEvidence | null, effect: GovernanceEffect): GovernanceEntry => ({ orgId: ORG, index: s.head.length, prev: s.head.hash, evidence, effect, at: "t" });

async function apply(s: GovernanceState, e: GovernanceEntry): Promise<GovernanceState> {
  const r = await applyEntry(s, e);
  if (!r.ok) throw new Error(r.reason);
  return r.state;
}

describe("governance log", () => {
  it("a root-signed service account joins with its key and permission; its deactivation is honoured at once", async () => {
    const bot = key();
    let s = genesis(ORG, [root.pem], "pm-root");
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/permissions", { name: "p", operations: ["Wallets:Create"] }), { type: "PermissionCreated", permissionId: "pm-1", operations: ["Wallets:Create"] }));
    const create = { name: "bot", publicKey: bot.pem, permissionId: "pm-1" };
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/auth/service-accounts", create), { type: "IdentityCreated", identityId: "us-bot", kind: "ServiceAccount", credentials: [{ credentialUuid: "cr-bot", publicKey: bot.pem }], permissionId: "pm-1", assignmentId: "as-bot" }));
    expect(checkActor(s, "us-bot", bot.pem, "Wallets:Create")).toEqual({ ok: true, root: false });
    expect(checkActor(s, "us-bot", bot.pem, "Wallets:GenerateSignature")).toMatchObject({ ok: false, reason: expect.stringMatching(/does not hold/) });
    expect(checkActor(s, "us-bot", key().pem, null)).toMatchObject({ ok: false, reason: expect.stringMatching(/not one of/) });
    expect(s.head.length).toBe(2);
    s = await apply(s, entry(s, action(root, "us-root", "PUT", "/auth/service-accounts/us-bot/deactivate", {}), { type: "IdentityActive", identityId: "us-bot", active: false }));
    expect(checkActor(s, "us-bot", bot.pem, null)).toMatchObject({ ok: false, reason: expect.stringMatching(/deactivated/) });
  });

  it("refuses an entry signed by a credential the log does not know, or by one without the permission", async () => {
    const s = genesis(ORG, [root.pem]);
    const invented = key();
    const effect: GovernanceEffect = { type: "IdentityCreated", identityId: "us-x", kind: "ServiceAccount", credentials: [{ credentialUuid: "cr-x", publicKey: invented.pem }], permissionId: null, assignmentId: null };
    expect(await applyEntry(s, entry(s, action(invented, "us-root", "POST", "/auth/service-accounts", { name: "x", publicKey: invented.pem }), effect))).toMatchObject({ ok: false, reason: expect.stringMatching(/not in the org's governance log/) });
  });

  it("refuses an effect that is not what was requested, a broken chain, and a forged signature", async () => {
    const s = genesis(ORG, [root.pem]);
    const asked = key();
    const swapped = key();
    const e = entry(s, action(root, "us-root", "POST", "/auth/service-accounts", { name: "x", publicKey: asked.pem }), { type: "IdentityCreated", identityId: "us-x", kind: "ServiceAccount", credentials: [{ credentialUuid: "cr-x", publicKey: swapped.pem }], permissionId: null, assignmentId: null });
    expect(await applyEntry(s, e)).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one requested/) });
    const good = { ...e, effect: { ...e.effect, credentials: [{ credentialUuid: "cr-x", publicKey: asked.pem }] } } as GovernanceEntry;
    expect((await applyEntry(s, good)).ok).toBe(true);
    expect(await applyEntry(s, { ...good, prev: entryHash(good) })).toMatchObject({ ok: false, reason: expect.stringMatching(/chain/) });
    const forged = { ...good, evidence: { ...good.evidence!, payload: JSON.stringify({ name: "y", publicKey: asked.pem }) } };
    expect(await applyEntry(s, forged)).toMatchObject({ ok: false, reason: expect.stringMatching(/user action/) });
  });

  it("a registration adds the first credential of a user the log created, once", async () => {
    let s = genesis(ORG, [root.pem], "pm-root");
    const person = key();
    const reg: GovernanceEffect = { type: "CredentialAdded", identityId: "us-p", credentialUuid: "cr-p", publicKey: person.pem };
    expect(await applyEntry(s, entry(s, null, reg))).toMatchObject({ ok: false, reason: expect.stringMatching(/not created in the log/) });
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/auth/users", { email: "p@x", kind: "CustomerEmployee" }), { type: "IdentityCreated", identityId: "us-p", kind: "User", credentials: [], permissionId: null, assignmentId: null }));
    s = await apply(s, entry(s, null, reg));
    expect(await applyEntry(s, entry(s, null, { ...reg, credentialUuid: "cr-q", publicKey: key().pem }))).toMatchObject({ ok: false, reason: expect.stringMatching(/already registered/) });
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/permissions/pm-root/assignments", { identityId: "us-p" }), { type: "Assigned", assignmentId: "as-1", permissionId: "pm-root", identityId: "us-p" }));
    expect(checkActor(s, "us-p", person.pem, "Wallets:Create")).toEqual({ ok: true, root: false });
  });

  describe("share holders", () => {
    async function node(region: string): Promise<JoinRequest> {
      const k = await generateKeyPair("Ed25519");
      return createJoinRequest({ peerId: peerIdFromPrivateKey(k).toString(), signingSeed: k.raw.subarray(0, 32), region, nodes: [`/ip4/10.0.0.4/tcp/4100`], edge: [`/ip4/10.0.0.4/tcp/4101/ws`] });
    }
    const add = (s: GovernanceState, signer: { privateKey: KeyObject; pem: string }, subject: string, joinRequest: unknown, effect: unknown = { type: "ShareHolderAdded", joinRequest }) =>
      entry(s, action(signer, subject, "POST", "/tessera/share-holders", { joinRequest }), effect as GovernanceEffect);
    const retire = (s: GovernanceState, peerId: string, replacement: string | null, body: unknown = replacement ? { replacement } : {}) =>
      entry(s, action(root, "us-root", "POST", `/tessera/share-holders/${peerId}/retire`, body), { type: "ShareHolderRetired", peerId, replacement });

    it("a node joins by its own signed join request and is retired with a replacement the log added", async () => {
      const n4 = await node("ap");
      let s = genesis(ORG, [root.pem], "pm-root");
      s = await apply(s, add(s, root, "us-root", n4));
      expect(s.shareHolders[n4.peerId]).toMatchObject({ active: true, region: "ap", nodeAddresses: n4.addresses.nodes, edgeAddresses: n4.addresses.edge });
      expect(await applyEntry(s, add(s, root, "us-root", n4))).toMatchObject({ ok: false, reason: expect.stringMatching(/already in the org/) });
      const n1 = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";
      s = await apply(s, retire(s, n1, n4.peerId));
      expect(isRetired(s, n1)).toBe(true);
      expect(s.shareHolders[n1]).toEqual({ active: false, replacement: n4.peerId });
      expect(await applyEntry(s, retire(s, n1, n4.peerId))).toMatchObject({ ok: false, reason: expect.stringMatching(/already retired/) });
    });

    it("refuses an altered join request, a request for another node, a replacement the log never added, and an actor without ShareHolders:Create", async () => {
      const n4 = await node("ap");
      const s = genesis(ORG, [root.pem], "pm-root");
      const altered = { ...n4, addresses: { ...n4.addresses, edge: ["/ip4/6.6.6.6/tcp/4101/ws"] } };
      expect(await applyEntry(s, add(s, root, "us-root", altered))).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is not/) });
      const other = await node("eu");
      expect(await applyEntry(s, add(s, root, "us-root", n4, { type: "ShareHolderAdded", joinRequest: other }))).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one requested/) });
      const stranger = (await node("us")).peerId;
      expect(await applyEntry(s, retire(s, "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo", stranger))).toMatchObject({ ok: false, reason: expect.stringMatching(/not an active share holder/) });
      // A service account holding only Wallets:Create cannot add share holders.
      const bot = key();
      let t = await apply(s, entry(s, action(root, "us-root", "POST", "/permissions", { name: "p", operations: ["Wallets:Create"] }), { type: "PermissionCreated", permissionId: "pm-1", operations: ["Wallets:Create"] }));
      t = await apply(t, entry(t, action(root, "us-root", "POST", "/auth/service-accounts", { name: "bot", publicKey: bot.pem, permissionId: "pm-1" }), { type: "IdentityCreated", identityId: "us-bot", kind: "ServiceAccount", credentials: [{ credentialUuid: "cr-bot", publicKey: bot.pem }], permissionId: "pm-1", assignmentId: "as-bot" }));
      expect(await applyEntry(t, add(t, bot, "us-bot", n4))).toMatchObject({ ok: false, reason: expect.stringMatching(/does not hold ShareHolders:Create/) });
    });
  });

  it("policies are entries: exactly the signed body, with Policies:Create / Update / Archive as the log grants them", async () => {
    const admin = key();
    let s = genesis(ORG, [root.pem], "pm-root");
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/permissions", { name: "p", operations: ["Policies:Read"] }), { type: "PermissionCreated", permissionId: "pm-1", operations: ["Policies:Read"] }));
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/auth/service-accounts", { name: "a", publicKey: admin.pem, permissionId: "pm-1" }), { type: "IdentityCreated", identityId: "us-a", kind: "ServiceAccount", credentials: [{ credentialUuid: "cr-a", publicKey: admin.pem }], permissionId: "pm-1", assignmentId: "as-a" }));
    const body = { name: "frozen", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger", configuration: {} }, action: { kind: "Block" }, filters: { walletId: { in: ["wa-1"] } } };
    const policy = { id: "pl-1", status: "Active" as const, version: 1, ...body, activityKind: "Wallets:Sign" as const, dateCreated: "t", dateUpdated: "t" } as never;
    // Without Policies:Create in the log.
    const denied = await applyEntry(s, entry(s, action(admin, "us-a", "POST", "/v2/policies", body), { type: "PolicySet", policy }));
    expect(denied).toMatchObject({ ok: false, reason: expect.stringMatching(/does not hold Policies:Create/) });
    // A policy other than the signed body (the edge widening or weakening it).
    const other = await applyEntry(s, entry(s, action(root, "us-root", "POST", "/v2/policies", body), { type: "PolicySet", policy: { ...(policy as object), action: { kind: "NoAction" } } as never }));
    expect(other).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one requested/) });
    s = await apply(s, entry(s, action(root, "us-root", "POST", "/v2/policies", body), { type: "PolicySet", policy }));
    expect(s.policies?.["pl-1"]).toMatchObject({ status: "Active", action: { kind: "Block" } });
    // Archived: only the status changes, one version up.
    const archived = { ...(policy as object), status: "Archived", version: 2, dateUpdated: "u" } as never;
    s = await apply(s, entry(s, action(root, "us-root", "DELETE", "/v2/policies/pl-1", {}), { type: "PolicySet", policy: archived }));
    expect(s.policies?.["pl-1"]).toMatchObject({ status: "Archived", version: 2 });
  });

  it("a fee ceiling is set only by a holder of Policies:Update, exactly as requested, and cleared with nulls", async () => {
    let s = genesis(ORG, [root.pem], "pm-root");
    const path = "/tessera/fee-ceilings/EthereumSepolia";
    const asked = { maxFee: "1000", maxPriorityFeePerGas: "10" };
    const effect: GovernanceEffect = { type: "FeeCeilingSet", network: "EthereumSepolia", ...asked };
    expect(await applyEntry(s, entry(s, action(root, "us-root", "PUT", path, asked), { ...effect, maxFee: "1000000" }))).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one requested/) });
    expect(await applyEntry(s, entry(s, action(root, "us-root", "PUT", "/tessera/fee-ceilings/Ethereum", asked), effect))).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(await applyEntry(s, entry(s, action(key(), "us-root", "PUT", path, asked), effect))).toMatchObject({ ok: false, reason: expect.stringMatching(/not in the org's governance log/) });
    s = await apply(s, entry(s, action(root, "us-root", "PUT", path, asked), effect));
    expect(s.feeCeilings).toEqual({ EthereumSepolia: asked });
    s = await apply(s, entry(s, action(root, "us-root", "PUT", path, {}), { ...effect, maxFee: null, maxPriorityFeePerGas: null }));
    expect(s.feeCeilings).toEqual({});
  });
});
