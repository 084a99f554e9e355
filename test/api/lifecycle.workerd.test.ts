// Lifecycle rules: what deactivating, archiving and revoking does to the very next request.
import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { ApiClient, keyAttestation, newKeyCredential } from "./client.js";
import { BASE, fetcher, json, login, newOrg } from "./fixtures.js";
import { SoftwareAuthenticator } from "./passkey.js";

describe("identity and permission lifecycle", () => {
  it("an archived permission stops granting; un-archiving restores it", async () => {
    const { boot, sa } = await newOrg();
    const key = await newKeyCredential();
    const perm = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: "readers", operations: ["Permissions:Read"] }));
    const created = await json<{ accessTokens: { accessToken: string; credId: string }[] }>(
      await sa.signed("POST", "/auth/service-accounts", { name: "r", publicKey: key.publicKeyPem, permissionId: perm.id }),
    );
    const reader = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    expect((await reader.get("/permissions")).status).toBe(200);
    expect((await sa.signed("PUT", `/permissions/${perm.id}/archive`, { isArchived: true })).status).toBe(200);
    expect((await reader.get("/permissions")).status).toBe(403);
    // An archived permission cannot be assigned either.
    expect((await sa.signed("POST", `/permissions/${perm.id}/assignments`, { identityId: boot.rootUser.userId })).status).toBe(409);
    expect((await sa.signed("PUT", `/permissions/${perm.id}/archive`, { isArchived: false })).status).toBe(200);
    expect((await reader.get("/permissions")).status).toBe(200);
  });

  it("a permission's changed operations apply to the very next request of every identity holding it, though the org has just resolved them", async () => {
    // The org keeps each token's resolution (worker/src/auth/sessions.ts); any change to a
    // permission must empty it, for the identities assigned that permission and for PATs capped by it.
    const { sa } = await newOrg();
    const key = await newKeyCredential();
    const perm = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: "readers", operations: ["Permissions:Read"] }));
    const created = await json<{ accessTokens: { accessToken: string; credId: string }[] }>(
      await sa.signed("POST", "/auth/service-accounts", { name: "r", publicKey: key.publicKeyPem, permissionId: perm.id }),
    );
    const reader = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    const patKey = await newKeyCredential();
    const pat = await json<{ accessToken: string; credId: string }>(await sa.signed("POST", "/auth/pats", { name: "p", publicKey: patKey.publicKeyPem, permissionId: perm.id }));
    const patClient = new ApiClient(fetcher, BASE, pat.accessToken, pat.credId, patKey);
    for (const client of [reader, patClient, reader, patClient]) expect((await client.get("/permissions")).status).toBe(200);

    expect((await sa.signed("PUT", `/permissions/${perm.id}`, { operations: ["Wallets:Read"] })).status).toBe(200);
    expect((await reader.get("/permissions")).status).toBe(403);
    expect((await patClient.get("/permissions")).status).toBe(403);
    expect((await sa.signed("PUT", `/permissions/${perm.id}`, { operations: ["Wallets:Read", "Permissions:Read"] })).status).toBe(200);
    expect((await reader.get("/permissions")).status).toBe(200);
    expect((await patClient.get("/permissions")).status).toBe(200);
  });

  it("a deactivated credential can no longer sign; the last active one cannot be deactivated", async () => {
    const { boot, rootUserKey } = await newOrg();
    const user = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const creds = await json<{ items: { credentialUuid: string }[] }>(await user.get("/auth/credentials"));
    expect(creds.items).toHaveLength(1);
    expect((await user.signed("PUT", "/auth/credentials/deactivate", { credentialUuid: creds.items[0]!.credentialUuid })).status).toBe(409);

    // Add a second key credential, then deactivate the first: the first can no longer sign.
    const second = await newKeyCredential("Ed25519");
    const init = await json<{ challenge: string; challengeIdentifier: string }>(await user.raw("POST", "/auth/credentials/init", { body: JSON.stringify({ kind: "Key" }) }));
    const added = await user.signed("POST", "/auth/credentials", { ...(await keyAttestation(second, "second-key", init.challenge)), credentialName: "backup", challengeIdentifier: init.challengeIdentifier });
    expect(added.status).toBe(200);
    expect((await user.signed("PUT", "/auth/credentials/deactivate", { credentialUuid: creds.items[0]!.credentialUuid })).status).toBe(200);
    await expect(user.userAction("POST", "/permissions", "{}")).rejects.toThrow(/action 401/);
    const withSecond = new ApiClient(fetcher, BASE, user.token, "second-key", second);
    expect((await withSecond.signed("POST", "/permissions", { name: "p", operations: ["Wallets:Read"] })).status).toBe(200);
  });

  it("deactivating a user ends their sessions and login; reactivating allows a new login", async () => {
    const { boot, sa } = await newOrg();
    const created = await json<{ userId: string; registrationCode: string }>(await sa.signed("POST", "/auth/users", { email: "bob@example.com", kind: "CustomerEmployee" }));
    const post = (path: string, b: unknown, token?: string) =>
      SELF.fetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(b) });
    const init = await json<{ challenge: string; temporaryAuthenticationToken: string }>(
      await post("/auth/registration/init", { orgId: boot.orgId, username: "bob@example.com", registrationCode: created.registrationCode }),
    );
    // Bob registers a passkey as his first credential and logs in with it.
    const authenticator = new SoftwareAuthenticator();
    expect((await post("/auth/registration", { firstFactorCredential: await authenticator.attest(init.challenge) }, init.temporaryAuthenticationToken)).status).toBe(200);
    const passkeyLogin = async (counter: number) => {
      const initRes = await post("/auth/login/init", { orgId: boot.orgId, username: "bob@example.com" });
      if (initRes.status !== 200) return initRes;
      const ch = await json<{ challenge: string; challengeIdentifier: string }>(initRes);
      return post("/auth/login", { challengeIdentifier: ch.challengeIdentifier, firstFactor: await authenticator.assert(ch.challenge, counter) });
    };
    const first = await passkeyLogin(1);
    expect(first.status).toBe(200);
    const bob = new ApiClient(fetcher, BASE, (await json<{ token: string }>(first)).token, authenticator.credId, await newKeyCredential());
    expect((await bob.get("/auth/pats")).status).toBe(200);
    // A replayed counter cannot log in.
    expect((await passkeyLogin(1)).status).toBe(401);

    expect((await sa.signed("PUT", `/auth/users/${created.userId}/deactivate`, {})).status).toBe(200);
    expect((await bob.get("/auth/pats")).status).toBe(401);
    expect((await passkeyLogin(2)).status).toBe(401);
    expect((await sa.signed("PUT", `/auth/users/${created.userId}/activate`, {})).status).toBe(200);
    // The old session stays revoked; a new login works.
    expect((await bob.get("/auth/pats")).status).toBe(401);
    expect((await passkeyLogin(3)).status).toBe(200);
  });
});
