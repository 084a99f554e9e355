// /tessera/share-holders: an administrator adds a node by its signed join request and retires
// one; each change is a user-action-signed entry of the org's governance log (what the nodes
// replay), gated by ShareHolders:* permissions.
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import { createJoinRequest, type JoinRequest } from "../../shared/src/governance/join-request.js";
import { ApiClient, newKeyCredential } from "./client.js";
import { BASE, fetcher, json, newOrg, sql } from "./fixtures.js";

async function joinRequest(region = "ap"): Promise<JoinRequest> {
  const k = await generateKeyPair("Ed25519");
  return createJoinRequest({ peerId: peerIdFromPrivateKey(k).toString(), signingSeed: k.raw.subarray(0, 32), region, nodes: ["/ip4/10.0.0.4/tcp/4100"], edge: ["/ip4/10.0.0.4/tcp/4101/ws"] });
}

type View = { peerId: string; status: string; source: string; region?: string; replacement?: string | null };

describe("/tessera/share-holders", () => {
  it("adds a node from its join request into the governance log, lists it, and retires it", async () => {
    const { boot, sa } = await newOrg();
    const orgId = boot.orgId;
    expect(await json(await sa.get("/tessera/share-holders"))).toEqual({ items: [] });

    const n4 = await joinRequest("ap");
    const added = await sa.signed("POST", "/tessera/share-holders", { joinRequest: n4 });
    expect(added.status).toBe(200);
    expect(await json(added)).toMatchObject({ peerId: n4.peerId, status: "Active", source: "Org", region: "ap" });
    expect((await sa.signed("POST", "/tessera/share-holders", { joinRequest: n4 })).status).toBe(409);

    const entries = await sql<{ entry: string }>(orgId, "SELECT entry FROM governance_log ORDER BY idx");
    const last = JSON.parse(entries.at(-1)!.entry) as { effect: { type: string; joinRequest: JoinRequest }; evidence: { path: string } };
    expect(last.effect).toEqual({ type: "ShareHolderAdded", joinRequest: n4 });
    expect(last.evidence.path).toBe("/tessera/share-holders");

    const list = await json<{ items: View[] }>(await sa.get("/tessera/share-holders"));
    expect(list.items.map((v) => [v.peerId, v.status])).toEqual([[n4.peerId, "Active"]]);

    // A replacement must be a share holder the org added; an unknown node is not one to retire.
    const n5 = await joinRequest("us");
    expect((await sa.signed("POST", `/tessera/share-holders/${n4.peerId}/retire`, { replacement: n5.peerId })).status).toBe(409);
    expect((await sa.signed("POST", `/tessera/share-holders/${n5.peerId}/retire`, {})).status).toBe(404);

    const retired = await sa.signed("POST", `/tessera/share-holders/${n4.peerId}/retire`, {});
    expect(retired.status).toBe(200);
    expect(await json(retired)).toMatchObject({ peerId: n4.peerId, status: "Retired", replacement: null, reshared: [] });
    const after = await json<{ items: View[] }>(await sa.get("/tessera/share-holders"));
    expect(after.items).toMatchObject([{ peerId: n4.peerId, status: "Retired" }]);
    const retireEntry = JSON.parse((await sql<{ entry: string }>(orgId, "SELECT entry FROM governance_log ORDER BY idx DESC LIMIT 1"))[0]!.entry) as { effect: unknown };
    expect(retireEntry.effect).toEqual({ type: "ShareHolderRetired", peerId: n4.peerId, replacement: null });
    // A retired node does not come back under the same identity.
    expect((await sa.signed("POST", "/tessera/share-holders", { joinRequest: n4 })).status).toBe(409);
  });

  it("refuses an altered join request and anything that is not one (400), and nothing is recorded", async () => {
    const { boot, sa } = await newOrg();
    const n4 = await joinRequest();
    const before = (await sql(boot.orgId, "SELECT idx FROM governance_log")).length;
    const altered = { ...n4, addresses: { ...n4.addresses, edge: ["/ip4/6.6.6.6/tcp/4101/ws"] } };
    const res = await sa.signed("POST", "/tessera/share-holders", { joinRequest: altered });
    expect(res.status).toBe(400);
    expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/signature is not/);
    expect((await sa.signed("POST", "/tessera/share-holders", { joinRequest: { peerId: "x" } })).status).toBe(400);
    expect((await sa.signed("POST", "/tessera/share-holders", { joinRequest: n4, extra: 1 })).status).toBe(400);
    expect((await sql(boot.orgId, "SELECT idx FROM governance_log")).length).toBe(before);
  });

  it("needs ShareHolders:Create to add and ShareHolders:Read to list", async () => {
    const { sa } = await newOrg();
    const key = await newKeyCredential();
    const perm = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: "viewers", operations: ["ShareHolders:Read"] }));
    const created = await json<{ accessTokens: { accessToken: string; credId: string }[] }>(await sa.signed("POST", "/auth/service-accounts", { name: "v", publicKey: key.publicKeyPem, permissionId: perm.id }));
    const viewer = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    expect((await viewer.get("/tessera/share-holders")).status).toBe(200);
    const denied = await viewer.signed("POST", "/tessera/share-holders", { joinRequest: await joinRequest() });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toMatch(/ShareHolders:Create/);
    expect((await viewer.signed("POST", `/tessera/share-holders/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/retire`, {})).status).toBe(403);
  });
});
