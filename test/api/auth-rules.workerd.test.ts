// Every layer-1/2 rule, refused with the right status and with nothing changed in storage.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { decodeChallenge, encodeChallenge, userActionChallenge, type UserActionClaims } from "../../shared/src/dfns/user-action.js";
import { sealChallenge } from "../../worker/src/auth/challenge-seal.js";
import { sealUserActionToken, type UserActionToken } from "../../worker/src/auth/user-action-token.js";
import { verifyUserActionEvidence } from "../../shared/src/dfns/user-action-evidence.js";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import { auditBatching } from "../../worker/src/audit/record.js";
import type { Deployment } from "../../worker/src/deployment/deployment.js";
import { ApiClient, keyAttestation, newKeyCredential, signChallenge } from "./client.js";
import { BASE, domainState, fetcher, json, lastDecision, login, newOrg, sql } from "./fixtures.js";
import { SoftwareAuthenticator } from "./passkey.js";

/** Asserts `act` is refused with `status` and leaves every domain table exactly as it was. */
async function refusedUnchanged(orgId: string, status: number, act: () => Promise<Response>): Promise<{ error: { message: string } }> {
  const before = await domainState(orgId);
  const res = await act();
  const body = await json<{ error: { message: string } }>(res);
  expect({ status: res.status, body }).toMatchObject({ status, body: { error: { message: expect.any(String) } } });
  expect(await domainState(orgId)).toEqual(before);
  return body;
}

/**
 * The same for a state-changing call made with a valid user action: the action is obtained first
 * and spent by the refused request (it is single-use evidence), everything else stays as it was.
 */
async function refusedSigned(orgId: string, status: number, client: ApiClient, method: "POST" | "PUT" | "DELETE", path: string, body: unknown) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const ua = await client.userAction(method, path, payload);
  const before = await domainState(orgId);
  const res = await client.raw(method, path, { body: payload, headers: { "x-dfns-useraction": ua } });
  const answer = await json<{ error: { message: string } }>(res);
  expect({ status: res.status, answer }).toMatchObject({ status, answer: { error: { message: expect.any(String) } } });
  const after = await domainState(orgId);
  delete before.user_actions;
  delete after.user_actions;
  expect(after).toEqual(before);
  return answer;
}

/** A user-action token's contents (its MAC is not checked: for tests that reseal it). */
function openToken(token: string): UserActionToken {
  return JSON.parse(new TextDecoder().decode(decodeBase64Url(token.slice(3, token.indexOf(".")))!)) as UserActionToken;
}

async function deploymentJwk() {
  return runInDurableObject(env.DEPLOYMENT.getByName("deployment"), (d: Deployment) => d.tokenSigningKey());
}

function claimsFor(orgId: string, userId: string, tokenId: string) {
  return { "https://custom/app_metadata": { orgId, userId, tokenId, tokenKind: "ServiceAccount" } };
}

describe("layer 1: bearer tokens", () => {
  it("refuses a request without a token", async () => {
    const { boot, sa } = await newOrg();
    const body = await refusedUnchanged(boot.orgId, 401, () => sa.raw("GET", "/permissions", { token: null }));
    expect(body.error.message).toMatch(/missing bearer token/);
  });

  it("refuses a forged token (right claims, signed by another key)", async () => {
    const { boot, sa } = await newOrg();
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const forged = await new SignJWT(claimsFor(boot.orgId, boot.serviceAccount.userId, boot.serviceAccount.tokenId))
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer("tessera")
      .setAudience("tessera-api")
      .setSubject(boot.serviceAccount.userId)
      .setJti(boot.serviceAccount.tokenId)
      .sign((pair as CryptoKeyPair).privateKey);
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("GET", "/permissions", { token: forged }));
    // Tampering with a genuine token's payload breaks its signature too.
    const [h, , s] = sa.token.split(".");
    const tampered = `${h}.${encodeBase64Url(utf8(JSON.stringify({ ...claimsFor("or-other", "us-x", "to-x"), sub: "us-x", jti: "to-x", iss: "tessera", aud: "tessera-api" })))}.${s}`;
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("GET", "/permissions", { token: tampered }));
  });

  it("refuses an expired token signed with the real deployment key", async () => {
    const { boot, sa } = await newOrg();
    const key = await importJWK({ ...(await deploymentJwk()), alg: "ES256" }, "ES256");
    const expired = await new SignJWT(claimsFor(boot.orgId, boot.serviceAccount.userId, boot.serviceAccount.tokenId))
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer("tessera")
      .setAudience("tessera-api")
      .setSubject(boot.serviceAccount.userId)
      .setJti(boot.serviceAccount.tokenId)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(key);
    const body = await refusedUnchanged(boot.orgId, 401, () => sa.raw("GET", "/permissions", { token: expired }));
    expect(body.error.message).toMatch(/expired/);
    // The same claims, unexpired, are accepted: it is the expiry that was refused.
    const fresh = await new SignJWT(claimsFor(boot.orgId, boot.serviceAccount.userId, boot.serviceAccount.tokenId))
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer("tessera")
      .setAudience("tessera-api")
      .setSubject(boot.serviceAccount.userId)
      .setJti(boot.serviceAccount.tokenId)
      .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
      .sign(key);
    expect((await sa.raw("GET", "/permissions", { token: fresh })).status).toBe(200);
  });

  it("refuses a revoked PAT on its next request, and logs the denial", async () => {
    const { boot, sa } = await newOrg();
    const patKey = await newKeyCredential("Ed25519");
    const created = await sa.signed("POST", "/auth/pats", { name: "ci", publicKey: patKey.publicKeyPem, permissionId: boot.permissionId });
    expect(created.status).toBe(200);
    const pat = await json<{ accessToken: string; tokenId: string; credId: string }>(created);
    const patClient = new ApiClient(fetcher, BASE, pat.accessToken, pat.credId, patKey);
    expect((await patClient.get("/permissions")).status).toBe(200);
    // The PAT's own key signs its user actions.
    expect((await patClient.signed("POST", "/permissions", { name: "by-pat", operations: ["Wallets:Read"] })).status).toBe(200);

    expect((await sa.signed("PUT", `/auth/pats/${pat.tokenId}/deactivate`, {})).status).toBe(200);
    await refusedUnchanged(boot.orgId, 401, () => patClient.get("/permissions"));
    expect(await lastDecision(boot.orgId)).toMatchObject({ decision: "denied", reason: expect.stringMatching(/deactivated/) });

    expect((await sa.signed("DELETE", `/auth/pats/${pat.tokenId}`, {})).status).toBe(200);
    const body = await refusedUnchanged(boot.orgId, 401, () => patClient.get("/permissions"));
    expect(body.error.message).toMatch(/revoked/);
  });

  it("the allowed decisions of a user-action flow are written together, before a refusal that follows them, in the order they were taken", async () => {
    const { boot, sa } = await newOrg();
    const auditRows = () =>
      runInDurableObject(env.AUDIT.getByName(boot.orgId), (_a: unknown, state) =>
        state.storage.sql.exec<{ seq: number; at: string; decision: string; method: string; path: string }>("SELECT seq, at, decision, method, path FROM audit_log ORDER BY seq").toArray(),
      );
    const before = (await auditRows()).length;
    // A window wide enough that the refusal surely comes while the allowed lines still wait (the
    // worker runs in this isolate, so it reads the same setting).
    auditBatching.windowMs = 10_000;
    try {
      expect((await sa.signed("POST", "/permissions", { name: "batched", operations: ["Wallets:Read"] })).status).toBe(200);
      expect((await auditRows()).length).toBe(before);
      // A refusal writes the lines still waiting in this isolate first, then itself.
      expect((await sa.raw("POST", "/permissions", { body: "{}" })).status).toBe(401);
    } finally {
      auditBatching.windowMs = 20;
    }
    const rows = (await auditRows()).slice(before);
    expect(rows.map((r) => `${r.decision} ${r.method} ${r.path}`)).toEqual(["allowed POST /auth/action/init", "allowed POST /auth/action", "allowed POST /permissions", "denied POST /permissions"]);
    expect(rows.map((r) => r.at)).toEqual([...rows.map((r) => r.at)].sort());
  });

  it("a user action obtained just before its token was deactivated cannot be spent: the spending request resolves its caller afresh", async () => {
    const { boot, sa } = await newOrg();
    const patKey = await newKeyCredential("Ed25519");
    const pat = await json<{ accessToken: string; tokenId: string; credId: string }>(await sa.signed("POST", "/auth/pats", { name: "ci", publicKey: patKey.publicKeyPem, permissionId: boot.permissionId }));
    const patClient = new ApiClient(fetcher, BASE, pat.accessToken, pat.credId, patKey);
    const payload = JSON.stringify({ name: "after deactivation", operations: ["Wallets:Read"] });
    // The PAT gets a user action (the caller of /auth/action/init and /auth/action may come from
    // the isolate's recent resolution); then the PAT is deactivated.
    await patClient.userAction("POST", "/permissions", payload);
    const userAction = await patClient.userAction("POST", "/permissions", payload);
    expect((await sa.signed("PUT", `/auth/pats/${pat.tokenId}/deactivate`, {})).status).toBe(200);
    const res = await patClient.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": userAction } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/deactivated/);
  });

  it("refuses a login token after logout, and a service account's token after deactivation", async () => {
    const { boot, sa, rootUserKey } = await newOrg();
    const user = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    expect((await user.get("/auth/users")).status).toBe(200);
    expect((await user.raw("PUT", "/auth/logout", { body: "{}" })).status).toBe(200);
    await refusedUnchanged(boot.orgId, 401, () => user.get("/auth/users"));

    const key = await newKeyCredential("secp256k1");
    const created = await json<{ userInfo: { userId: string }; accessTokens: { accessToken: string; credId: string }[] }>(
      await sa.signed("POST", "/auth/service-accounts", { name: "bot", publicKey: key.publicKeyPem, permissionId: boot.permissionId }),
    );
    const bot = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    expect((await bot.signed("POST", "/permissions", { name: "k1", operations: ["Wallets:Read"] })).status).toBe(200);
    expect((await sa.signed("PUT", `/auth/service-accounts/${created.userInfo.userId}/deactivate`, {})).status).toBe(200);
    await refusedUnchanged(boot.orgId, 401, () => bot.get("/permissions"));
  });

  it("keeps organisations apart: another org's token sees none of this org", async () => {
    const a = await newOrg();
    const b = await newOrg();
    const perm = await json<{ id: string }>(await a.sa.signed("POST", "/permissions", { name: "a-only", operations: ["Wallets:Read"] }));
    await refusedUnchanged(a.boot.orgId, 404, () => b.sa.get(`/permissions/${perm.id}`));
    await refusedSigned(a.boot.orgId, 404, b.sa, "POST", `/permissions/${perm.id}/assignments`, { identityId: a.boot.serviceAccount.userId });
    // B's root permission cannot be given to A's identities either.
    await refusedSigned(b.boot.orgId, 404, b.sa, "POST", `/permissions/${b.boot.permissionId}/assignments`, { identityId: a.boot.serviceAccount.userId });
    // A user action issued in org A is worthless with org B's token.
    const payload = JSON.stringify({ name: "x", operations: ["Wallets:Read"] });
    const ua = await a.sa.userAction("POST", "/permissions", payload);
    await refusedUnchanged(b.boot.orgId, 401, () => b.sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } }));
  });
});

describe("layer 1: user action signatures", () => {
  const body = { name: "ops", operations: ["Wallets:Read"] };
  const payload = JSON.stringify(body);

  it("requires X-DFNS-USERACTION on state changes", async () => {
    const { boot, sa } = await newOrg();
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("POST", "/permissions", { body: payload }));
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("DELETE", `/auth/service-accounts/${boot.serviceAccount.userId}`, { body: "{}" }));
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": "ua-made-up" } }));
  });

  it("refuses a replayed user action", async () => {
    const { boot, sa } = await newOrg();
    const ua = await sa.userAction("POST", "/permissions", payload);
    expect((await sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } })).status).toBe(200);
    const refused = await refusedUnchanged(boot.orgId, 401, () => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } }));
    expect(refused.error.message).toMatch(/already used/);
    expect(await sql(boot.orgId, "SELECT * FROM permissions WHERE name = 'ops'")).toHaveLength(1);
  });

  it("spends a user action exactly once under concurrency", async () => {
    const { boot, sa } = await newOrg();
    const ua = await sa.userAction("POST", "/permissions", payload);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
    expect(await sql(boot.orgId, "SELECT * FROM permissions WHERE name = 'ops'")).toHaveLength(1);
    // The same for a challenge answered many times at once: each answer is a token (the Worker
    // keeps no state), and of those spent at once exactly one goes through.
    const second = JSON.stringify({ name: "ops-2", operations: ["Wallets:Read"] });
    const init = await json<{ challenge: string; challengeIdentifier: string }>(
      await sa.raw("POST", "/auth/action/init", {
        body: JSON.stringify({ userActionPayload: second, userActionHttpMethod: "POST", userActionHttpPath: "/permissions", userActionServerKind: "Api" }),
      }),
    );
    const answer = JSON.stringify({ challengeIdentifier: init.challengeIdentifier, firstFactor: await signChallenge(sa.key, sa.credId, init.challenge) });
    const answers = await Promise.all(Array.from({ length: 6 }, () => sa.raw("POST", "/auth/action", { body: answer })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const tokens = await Promise.all(answers.map(async (r) => (await json<{ userAction: string }>(r)).userAction));
    const spends = await Promise.all(tokens.map((ua) => sa.raw("POST", "/permissions", { body: second, headers: { "x-dfns-useraction": ua } })));
    expect(spends.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    expect(await sql(boot.orgId, "SELECT * FROM permissions WHERE name = 'ops-2'")).toHaveLength(1);
    expect(await sql(boot.orgId, "SELECT * FROM user_actions WHERE challenge_id = ?", init.challengeIdentifier)).toHaveLength(1);
  });

  it("refuses a user action signed for another path, body, method or caller — and leaves it unspent", async () => {
    const { boot, sa, rootUserKey } = await newOrg();
    const ua = await sa.userAction("POST", "/permissions", payload);
    const send = (method: string, path: string, b: string, client: ApiClient = sa) => client.raw(method, path, { body: b, headers: { "x-dfns-useraction": ua } });
    await refusedUnchanged(boot.orgId, 403, () => send("POST", "/auth/service-accounts", payload));
    await refusedUnchanged(boot.orgId, 403, () => send("POST", "/permissions", JSON.stringify({ ...body, operations: ["Permissions:Assign"] })));
    await refusedUnchanged(boot.orgId, 403, () => send("POST", "/permissions", payload.replace("{", "{ ")));
    await refusedUnchanged(boot.orgId, 403, () => send("PUT", "/permissions", payload));
    const rootUser = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const other = await refusedUnchanged(boot.orgId, 403, () => send("POST", "/permissions", payload, rootUser));
    expect(other.error.message).toMatch(/another caller/);
    // Still good for the request it was signed for.
    expect((await send("POST", "/permissions", payload)).status).toBe(200);
  });

  // Guards the expiry check in spendUserAction: a genuine token resealed with the deployment's own key, its time up.
  it("refuses an expired user action", async () => {
    const { boot, sa } = await newOrg();
    const genuine = await sa.userAction("POST", "/permissions", payload);
    const now = Math.floor(Date.now() / 1000);
    const expired = await sealUserActionToken(env, { ...openToken(genuine), expiresAt: now - 1 });
    const refused = await refusedUnchanged(boot.orgId, 401, () => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": expired } }));
    expect(refused.error.message).toMatch(/expired/);
    // The same construction unexpired is accepted: the refusal above is the expiry's alone.
    const fresh = await sealUserActionToken(env, { ...openToken(genuine), expiresAt: now + 60 });
    expect((await sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": fresh } })).status).toBe(200);
  });

  it("commits the challenge to method, path, body, org, subject, nonce and expiry", async () => {
    const { boot, sa } = await newOrg();
    const init = await json<{ challenge: string; challengeIdentifier: string; allowCredentials: { key: { id: string }[] } }>(
      await sa.raw("POST", "/auth/action/init", {
        body: JSON.stringify({ userActionPayload: payload, userActionHttpMethod: "POST", userActionHttpPath: "/permissions", userActionServerKind: "Api" }),
      }),
    );
    expect(init.allowCredentials.key).toEqual([{ type: "public-key", id: boot.serviceAccount.credId }]);
    const claims = decodeChallenge(init.challenge) as UserActionClaims;
    expect(claims.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(claims.expiry - claims.issuedAt).toBe(300);
    expect(init.challenge).toBe(
      userActionChallenge({ method: "POST", path: "/permissions", payload, orgId: boot.orgId, subject: boot.serviceAccount.userId, nonce: claims.nonce, issuedAt: claims.issuedAt, expiry: claims.expiry }),
    );
    // The evidence kept for the signing layer verifies on its own.
    const signed = await json<{ userAction: string }>(
      await sa.raw("POST", "/auth/action", { body: JSON.stringify({ challengeIdentifier: init.challengeIdentifier, firstFactor: await signChallenge(sa.key, sa.credId, init.challenge) }) }),
    );
    const res = await sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": signed.userAction } });
    expect(res.status).toBe(200);
    const logs = await json<{ items: { id: string; action: { path: string; payload: string }; firstFactorCredential: { id: string } }[] }>(await sa.get("/auth/action/logs"));
    expect(logs.items[0]).toMatchObject({ action: { path: "/permissions", payload }, firstFactorCredential: { id: boot.serviceAccount.credId } });
  });

  // POST /auth/action/init keeps no row: the identifier is a MAC over the caller's token and the
  // challenge (worker/src/auth/challenge-seal.ts). Each test below names the check it guards.
  describe("sealed challenges", () => {
    const initFor = async (client: ApiClient, body = payload) =>
      json<{ challenge: string; challengeIdentifier: string }>(
        await client.raw("POST", "/auth/action/init", {
          body: JSON.stringify({ userActionPayload: body, userActionHttpMethod: "POST", userActionHttpPath: "/permissions", userActionServerKind: "Api" }),
        }),
      );
    const answerOn = (client: ApiClient, challengeIdentifier: string, firstFactor: unknown) =>
      client.raw("POST", "/auth/action", { body: JSON.stringify({ challengeIdentifier, firstFactor }) });

    // Guards the one-time record (sessions.ts spendUserAction's insert into challenges, read before it by the next spend).
    it("answers a challenge twice with two tokens, of which only the first spent does anything", async () => {
      const { boot, sa } = await newOrg();
      const ch = await initFor(sa);
      const tokenOf = async (res: Response) => {
        expect(res.status).toBe(200);
        return (await json<{ userAction: string }>(res)).userAction;
      };
      const first = await tokenOf(await answerOn(sa, ch.challengeIdentifier, await signChallenge(sa.key, sa.credId, ch.challenge)));
      const second = await tokenOf(await answerOn(sa, ch.challengeIdentifier, await signChallenge(sa.key, sa.credId, ch.challenge)));
      expect(second).not.toBe(first);
      expect((await sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": second } })).status).toBe(200);
      const replay = await refusedUnchanged(boot.orgId, 401, () => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": first } }));
      expect(replay.error.message).toMatch(/already used/);
      expect(await sql(boot.orgId, "SELECT * FROM user_actions WHERE challenge_id = ?", ch.challengeIdentifier)).toHaveLength(1);
      expect(await sql(boot.orgId, "SELECT * FROM permissions WHERE name = 'ops'")).toHaveLength(1);
    });

    // Guards the seal (sealMatches): the credential signs an altered statement, the identifier is the original's.
    it("refuses a challenge altered in any bound field, though the credential signed the altered one", async () => {
      const { boot, sa } = await newOrg();
      const ch = await initFor(sa);
      const claims = decodeChallenge(ch.challenge) as UserActionClaims;
      const other = decodeChallenge((await initFor(sa, JSON.stringify({ ...body, name: "other" }))).challenge) as UserActionClaims;
      const alterations: Partial<UserActionClaims>[] = [
        { method: "PUT" },
        { path: "/auth/service-accounts" },
        { bodySha256: other.bodySha256 },
        { subject: boot.rootUser.userId },
        { orgId: "or-someone-else" },
        { nonce: other.nonce },
        { expiry: claims.expiry + 3600 },
        { issuedAt: claims.issuedAt + 1 },
      ];
      for (const change of alterations) {
        const altered = encodeChallenge({ ...claims, ...change });
        const refused = await refusedUnchanged(boot.orgId, 401, async () => answerOn(sa, ch.challengeIdentifier, await signChallenge(sa.key, sa.credId, altered)));
        expect(refused.error.message, JSON.stringify(change)).toMatch(/not found/);
      }
      expect(await sql(boot.orgId, "SELECT * FROM user_actions")).toHaveLength(0);
      // The original is still good.
      expect((await answerOn(sa, ch.challengeIdentifier, await signChallenge(sa.key, sa.credId, ch.challenge))).status).toBe(200);
    });

    // Guards the token in the seal: the same identity, its credential, another of its tokens.
    it("refuses a challenge minted for one token when answered on another token of the same user", async () => {
      const { boot, rootUserKey } = await newOrg();
      const first = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
      const second = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
      const ch = await initFor(first);
      const firstFactor = await signChallenge(rootUserKey, boot.rootUser.credId!, ch.challenge);
      const refused = await refusedUnchanged(boot.orgId, 401, () => answerOn(second, ch.challengeIdentifier, firstFactor));
      expect(refused.error.message).toMatch(/not found/);
      expect((await answerOn(first, ch.challengeIdentifier, firstFactor)).status).toBe(200);
    });

    // Guards the expiry check at /auth/action (action-routes.ts): a genuinely sealed challenge whose time is up.
    it("refuses an expired challenge, sealed with the deployment's own key", async () => {
      const { boot, sa } = await newOrg();
      const ch = await initFor(sa);
      const claims = decodeChallenge(ch.challenge) as UserActionClaims;
      const now = Math.floor(Date.now() / 1000);
      const expired = encodeChallenge({ ...claims, issuedAt: now - 301, expiry: now - 1 });
      const identifier = await sealChallenge(env, boot.serviceAccount.tokenId, expired);
      const refused = await refusedUnchanged(boot.orgId, 401, async () => answerOn(sa, identifier, await signChallenge(sa.key, sa.credId, expired)));
      expect(refused.error.message).toMatch(/expired/);
      // The same construction unexpired is accepted: the refusal above is the expiry's alone.
      const fresh = encodeChallenge({ ...claims, issuedAt: now, expiry: now + 300 });
      expect((await answerOn(sa, await sealChallenge(env, boot.serviceAccount.tokenId, fresh), await signChallenge(sa.key, sa.credId, fresh))).status).toBe(200);
    });

    // Guards the org and subject check at /auth/action: genuinely sealed for this token, but about another identity or org.
    it("refuses a sealed challenge whose subject or org is not the answering caller's", async () => {
      const { boot, sa } = await newOrg();
      const claims = decodeChallenge((await initFor(sa)).challenge) as UserActionClaims;
      for (const change of [{ subject: boot.rootUser.userId }, { orgId: "or-someone-else" }]) {
        const foreign = encodeChallenge({ ...claims, ...change });
        const identifier = await sealChallenge(env, boot.serviceAccount.tokenId, foreign);
        const refused = await refusedUnchanged(boot.orgId, 401, async () => answerOn(sa, identifier, await signChallenge(sa.key, sa.credId, foreign)));
        expect(refused.error.message, JSON.stringify(change)).toMatch(/not found/);
      }
    });

    it("refuses an identifier that is not a seal, and a clientData that carries no Tessera challenge", async () => {
      const { boot, sa } = await newOrg();
      const ch = await initFor(sa);
      await refusedUnchanged(boot.orgId, 401, async () => answerOn(sa, `ch-${"A".repeat(43)}`, await signChallenge(sa.key, sa.credId, ch.challenge)));
      await refusedUnchanged(boot.orgId, 401, async () => answerOn(sa, ch.challengeIdentifier, await signChallenge(sa.key, sa.credId, "not-a-challenge")));
    });
  });

  it("refuses an unregistered credential, a wrong signature and a wrong challenge — and issues nothing", async () => {
    const { boot, sa } = await newOrg();
    const init = async () =>
      json<{ challenge: string; challengeIdentifier: string }>(
        await sa.raw("POST", "/auth/action/init", {
          body: JSON.stringify({ userActionPayload: payload, userActionHttpMethod: "POST", userActionHttpPath: "/permissions", userActionServerKind: "Api" }),
        }),
      );
    const answer = (ch: { challengeIdentifier: string }, firstFactor: unknown) =>
      sa.raw("POST", "/auth/action", { body: JSON.stringify({ challengeIdentifier: ch.challengeIdentifier, firstFactor }) });
    const stranger = await newKeyCredential("P-256");

    let ch = await init();
    const unknown = await refusedUnchanged(boot.orgId, 401, async () => answer(ch, await signChallenge(stranger, "not-a-credential", ch.challenge)));
    expect(unknown.error.message).toMatch(/not registered/);
    expect(await lastDecision(boot.orgId)).toMatchObject({ decision: "denied", path: "/auth/action", reason: expect.stringMatching(/not registered/) });
    const wrongKey = await refusedUnchanged(boot.orgId, 401, async () => answer(ch, await signChallenge(stranger, boot.serviceAccount.credId, ch.challenge)));
    expect(wrongKey.error.message).toMatch(/signature is invalid/);
    const other = await init();
    await refusedUnchanged(boot.orgId, 401, async () => answer(ch, await signChallenge(sa.key, boot.serviceAccount.credId, other.challenge)));
    // key.create is a registration answer, not an assertion.
    const cd = utf8(JSON.stringify({ type: "key.create", challenge: ch.challenge }));
    await refusedUnchanged(boot.orgId, 401, async () =>
      answer(ch, { kind: "Key", credentialAssertion: { credId: boot.serviceAccount.credId, clientData: encodeBase64Url(cd), signature: encodeBase64Url(await sa.key.sign(cd)) } }),
    );
    expect(await sql(boot.orgId, "SELECT * FROM user_actions")).toHaveLength(0);
    // The right answer still works, and its token spends.
    const right = await answer(ch, await signChallenge(sa.key, boot.serviceAccount.credId, ch.challenge));
    expect(right.status).toBe(200);
    const ua = (await json<{ userAction: string }>(right)).userAction;
    expect((await sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } })).status).toBe(200);
    ch = await init();
    expect((await answer(ch, await signChallenge(sa.key, boot.serviceAccount.credId, ch.challenge))).status).toBe(200);
  });

  it("accepts Ed25519 and secp256k1 keys as the keysigner signs with them", async () => {
    const { boot, sa } = await newOrg();
    for (const alg of ["Ed25519", "secp256k1"] as const) {
      const key = await newKeyCredential(alg);
      const created = await json<{ accessTokens: { accessToken: string; credId: string }[] }>(
        await sa.signed("POST", "/auth/service-accounts", { name: `svc-${alg}`, publicKey: key.publicKeyPem, permissionId: boot.permissionId }),
      );
      const client = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
      expect((await client.signed("POST", "/permissions", { name: `by-${alg}`, operations: ["Wallets:Read"] })).status).toBe(200);
    }
  });
});

// POST /auth/action keeps no row: the token is self-contained and sealed
// (worker/src/auth/user-action-token.ts); the spend decides what needs the org (sessions.ts
// spendUserAction). Each test below names the check it guards.
describe("layer 1: self-contained user-action tokens", () => {
  const payload = JSON.stringify({ name: "ops", operations: ["Wallets:Read"] });

  // Guards the MAC check (openUserActionToken): one byte of the content, or of the MAC, altered.
  it("refuses a token with one byte altered, and leaves it unspent", async () => {
    const { boot, sa } = await newOrg();
    const ua = await sa.userAction("POST", "/permissions", payload);
    const [body, mac] = ua.slice(3).split(".") as [string, string];
    const json = new TextDecoder().decode(decodeBase64Url(body)!);
    // A later signing time: still a well-formed token, one byte apart.
    const altered = json.replace(/"signedAt":"(\d)/, (_m, d: string) => `"signedAt":"${(Number(d) + 1) % 10}`);
    expect(altered).not.toBe(json);
    const send = (token: string) => sa.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": token } });
    const content = await refusedUnchanged(boot.orgId, 401, () => send(`ua-${encodeBase64Url(utf8(altered))}.${mac}`));
    expect(content.error.message).toMatch(/invalid/);
    const flipped = mac[5] === "A" ? "B" : "A";
    await refusedUnchanged(boot.orgId, 401, () => send(`ua-${body}.${mac.slice(0, 5)}${flipped}${mac.slice(6)}`));
    expect((await send(ua)).status).toBe(200);
  });

  // Guards the token-id check: the same user, the same credential, another of its bearer tokens.
  it("refuses a token issued to another bearer token of the same user", async () => {
    const { boot, rootUserKey } = await newOrg();
    const first = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const second = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const ua = await first.userAction("POST", "/permissions", payload);
    const refused = await refusedUnchanged(boot.orgId, 403, () => second.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } }));
    expect(refused.error.message).toMatch(/another caller/);
    expect((await first.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } })).status).toBe(200);
  });

  // Guards the credential-still-active check at the spend: the token was issued while it was.
  it("refuses to spend a token whose credential was deactivated after POST /auth/action", async () => {
    const { boot, rootUserKey } = await newOrg();
    const user = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const backup = await newKeyCredential("Ed25519");
    const init = await json<{ challenge: string; challengeIdentifier: string }>(await user.raw("POST", "/auth/credentials/init", { body: JSON.stringify({ kind: "Key" }) }));
    const added = await json<{ credentialUuid: string }>(
      await user.signed("POST", "/auth/credentials", { ...(await keyAttestation(backup, "backup-key", init.challenge)), credentialName: "backup", challengeIdentifier: init.challengeIdentifier }),
    );
    const withBackup = new ApiClient(fetcher, BASE, user.token, "backup-key", backup);
    const ua = await withBackup.userAction("POST", "/permissions", payload);
    const ua2 = await withBackup.userAction("POST", "/permissions", payload);
    expect((await user.signed("PUT", "/auth/credentials/deactivate", { credentialUuid: added.credentialUuid })).status).toBe(200);
    const refused = await refusedUnchanged(boot.orgId, 401, () => user.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua } }));
    expect(refused.error.message).toMatch(/not registered or not active/);
    // Active again, the other token made before the deactivation spends: the refusal was the credential's state.
    expect((await user.signed("PUT", "/auth/credentials/activate", { credentialUuid: added.credentialUuid })).status).toBe(200);
    expect((await user.raw("POST", "/permissions", { body: payload, headers: { "x-dfns-useraction": ua2 } })).status).toBe(200);
  });

  it("stays well under 4 KB as a header whatever the body (the token commits to the body by hash)", async () => {
    const { sa } = await newOrg();
    const ua = await sa.userAction("POST", "/permissions", JSON.stringify({ name: "x".repeat(20_000), operations: ["Wallets:Read"] }));
    expect(ua.length).toBeLessThan(2048);
  });
});

describe("layer 1: passkeys (WebAuthn)", () => {
  it("registers a passkey, signs user actions with it, and refuses a counter that does not increase", async () => {
    const { boot, rootUserKey } = await newOrg();
    const user = await login(boot.orgId, "root@example.com", boot.rootUser.credId!, rootUserKey);
    const authenticator = new SoftwareAuthenticator();

    const init = await json<{ challenge: string; challengeIdentifier: string; rp: { id: string } }>(await user.raw("POST", "/auth/credentials/init", { body: JSON.stringify({ kind: "Fido2" }) }));
    expect(init.rp.id).toBe("localhost");
    const registered = await user.signed("POST", "/auth/credentials", { ...(await authenticator.attest(init.challenge)), credentialName: "laptop", challengeIdentifier: init.challengeIdentifier });
    expect(registered.status).toBe(200);
    expect(await json(registered)).toMatchObject({ kind: "Fido2", credentialId: authenticator.credId, isActive: true });

    const payload = (name: string) => JSON.stringify({ name, operations: ["Wallets:Read"] });
    const actionInit = async (name = "via-passkey") =>
      json<{ challenge: string; challengeIdentifier: string; allowCredentials: { webauthn: { id: string }[] } }>(
        await user.raw("POST", "/auth/action/init", {
          body: JSON.stringify({ userActionPayload: payload(name), userActionHttpMethod: "POST", userActionHttpPath: "/permissions", userActionServerKind: "Api" }),
        }),
      );
    const answer = (challengeIdentifier: string, firstFactor: unknown) => user.raw("POST", "/auth/action", { body: JSON.stringify({ challengeIdentifier, firstFactor }) });
    const tokenOf = async (res: Response) => {
      expect(res.status).toBe(200);
      return (await json<{ userAction: string }>(res)).userAction;
    };
    const spend = (name: string, ua: string) => user.raw("POST", "/permissions", { body: payload(name), headers: { "x-dfns-useraction": ua } });

    let ch = await actionInit();
    expect(ch.allowCredentials.webauthn).toEqual([{ type: "public-key", id: authenticator.credId }]);
    const ua = await tokenOf(await answer(ch.challengeIdentifier, await authenticator.assert(ch.challenge, 5)));
    // A passkey's token carries its clientDataJSON and authenticatorData: still well under 4 KB.
    expect(ua.length).toBeLessThan(3072);
    expect((await spend("via-passkey", ua)).status).toBe(200);
    const counter = async () => (await sql<{ sign_count: number }>(boot.orgId, "SELECT sign_count FROM credentials WHERE cred_id = ?", authenticator.credId))[0]!.sign_count;
    expect(await counter()).toBe(5);
    // The passkey evidence kept for the signing nodes re-verifies on its own.
    const [spent] = await sql<{ evidence: string }>(boot.orgId, "SELECT evidence FROM user_actions WHERE consumed_at IS NOT NULL AND path = '/permissions'");
    const evidence = JSON.parse(spent!.evidence) as UserActionEvidence;
    expect(evidence.credential.kind).toBe("Fido2");
    expect(await verifyUserActionEvidence(evidence, { payload: payload("via-passkey"), rpId: "localhost" })).toEqual({ ok: true });
    expect(await verifyUserActionEvidence({ ...evidence, path: "/auth/users" })).toMatchObject({ ok: false });

    // Guards the counter check at the spend (sessions.ts spendUserAction): two actions answered
    // before either is spent, with counters 7 and 7 (a cloned authenticator). The first spent
    // moves the counter to 7; the second is refused, and nothing is created or updated.
    const a = await actionInit("clone-a");
    const b = await actionInit("clone-b");
    const uaA = await tokenOf(await answer(a.challengeIdentifier, await authenticator.assert(a.challenge, 7)));
    const uaB = await tokenOf(await answer(b.challengeIdentifier, await authenticator.assert(b.challenge, 7)));
    expect((await spend("clone-a", uaA)).status).toBe(200);
    expect(await counter()).toBe(7);
    const same = await refusedUnchanged(boot.orgId, 401, () => spend("clone-b", uaB));
    expect(same.error.message).toMatch(/counter/i);
    expect(await counter()).toBe(7);
    // A passkey assertion for another challenge is refused at /auth/action.
    ch = await actionInit("moved-on");
    const other = await actionInit("moved-on");
    await refusedUnchanged(boot.orgId, 401, async () => answer(ch.challengeIdentifier, await authenticator.assert(other.challenge, 9)));
    // The genuine authenticator, counter moved on, is accepted.
    expect((await spend("moved-on", await tokenOf(await answer(ch.challengeIdentifier, await authenticator.assert(ch.challenge, 8))))).status).toBe(200);
    expect(await counter()).toBe(8);
  });
});

describe("layer 2: permissions", () => {
  it("denies by default, grants by assignment, and refuses a Wallets:Read-only identity any change", async () => {
    const { boot, sa } = await newOrg();
    const key = await newKeyCredential("P-256");
    const created = await json<{ userInfo: { userId: string }; accessTokens: { accessToken: string; credId: string }[] }>(
      await sa.signed("POST", "/auth/service-accounts", { name: "reader", publicKey: key.publicKeyPem }),
    );
    const reader = new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key);
    const denied = await refusedUnchanged(boot.orgId, 403, () => reader.get("/permissions"));
    expect(denied.error.message).toBe(`Service account ${created.userInfo.userId} is not authorized to perform operation (Permissions:Read)`);

    const readOnly = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: "read-only", operations: ["Wallets:Read", "Permissions:Read"] }));
    const assignment = await json<{ id: string }>(await sa.signed("POST", `/permissions/${readOnly.id}/assignments`, { identityId: created.userInfo.userId }));
    expect((await reader.get("/permissions")).status).toBe(200);
    for (const [method, path, b] of [
      ["POST", "/permissions", { name: "escalate", operations: ["Permissions:Assign"] }],
      ["POST", `/permissions/${boot.permissionId}/assignments`, { identityId: created.userInfo.userId }],
      ["POST", "/auth/service-accounts", { name: "x", publicKey: key.publicKeyPem }],
      ["PUT", `/permissions/${readOnly.id}`, { operations: ["Permissions:Assign"] }],
    ] as const) {
      const refused = await refusedSigned(boot.orgId, 403, reader, method, path, b);
      expect(refused.error.message).toMatch(/is not authorized to perform operation/);
    }
    const decisions = await json<{ items: { decision: string; operation: string | null; identityId: string }[] }>(await sa.get(`/audit?identityId=${created.userInfo.userId}&decision=denied`));
    expect(decisions.items.map((d) => d.operation)).toEqual(["Permissions:Update", "Auth:ServiceAccounts:Create", "Permissions:Assign", "Permissions:Create", "Permissions:Read"]);

    expect((await sa.signed("DELETE", `/permissions/${readOnly.id}/assignments/${assignment.id}`, {})).status).toBe(200);
    await refusedUnchanged(boot.orgId, 403, () => reader.get("/permissions"));
  });

  it("protects the root permission and root identities", async () => {
    const { boot, sa } = await newOrg();
    await refusedSigned(boot.orgId, 403, sa, "PUT", `/permissions/${boot.permissionId}`, { operations: ["Wallets:Read"] });
    await refusedSigned(boot.orgId, 403, sa, "PUT", `/permissions/${boot.permissionId}/archive`, { isArchived: true });
    const assignments = await json<{ items: { id: string }[] }>(await sa.get(`/permissions/${boot.permissionId}/assignments`));
    await refusedSigned(boot.orgId, 403, sa, "DELETE", `/permissions/${boot.permissionId}/assignments/${assignments.items[0]!.id}`, {});
    await refusedSigned(boot.orgId, 403, sa, "PUT", `/auth/service-accounts/${boot.serviceAccount.userId}/deactivate`, {});
  });

  it("caps a PAT at its user's permissions", async () => {
    const { boot, sa } = await newOrg();
    const patKey = await newKeyCredential("P-256");
    const pat = await json<{ accessToken: string; credId: string }>(await sa.signed("POST", "/auth/pats", { name: "no-perms", publicKey: patKey.publicKeyPem }));
    const client = new ApiClient(fetcher, BASE, pat.accessToken, pat.credId, patKey);
    await refusedUnchanged(boot.orgId, 403, () => client.get("/permissions"));
  });
});

describe("input validation", () => {
  it("answers malformed JSON and schema violations with 400 and changes nothing", async () => {
    const { boot, sa } = await newOrg();
    const bad = await SELF.fetch(`${BASE}/auth/login/init`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { message: "Malformed JSON body" } });
    await refusedSigned(boot.orgId, 400, sa, "POST", "/permissions", { name: "x", operations: ["Wallets:Fly"] });
    await refusedSigned(boot.orgId, 400, sa, "POST", "/auth/service-accounts", { name: "x", publicKey: "not a key" });
    await refusedSigned(boot.orgId, 400, sa, "POST", "/permissions", "{oops");
    await refusedUnchanged(boot.orgId, 400, () => sa.raw("POST", "/auth/action/init", { body: JSON.stringify({ userActionHttpMethod: "PATCH" }) }));
    await refusedUnchanged(boot.orgId, 404, () => sa.get("/permissions/pm-nope"));
    const unknownRoute = await sa.get("/nope");
    expect(unknownRoute.status).toBe(404);
    expect(await unknownRoute.json()).toEqual({ error: { message: "Not found" } });
  });
});

describe("users: registration and login", () => {
  it("registers a new user with a registration code and a key credential, then logs in", async () => {
    const { boot, sa } = await newOrg();
    const created = await json<{ userId: string; registrationCode: string; isRegistered: boolean }>(
      await sa.signed("POST", "/auth/users", { email: "alice@example.com", kind: "CustomerEmployee" }),
    );
    expect(created.isRegistered).toBe(false);
    const post = (path: string, b: unknown, token?: string) =>
      SELF.fetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(b) });

    await refusedUnchanged(boot.orgId, 401, () => post("/auth/registration/init", { orgId: boot.orgId, username: "alice@example.com", registrationCode: "wrong" }));
    const init = await json<{ challenge: string; temporaryAuthenticationToken: string }>(
      await post("/auth/registration/init", { orgId: boot.orgId, username: "alice@example.com", registrationCode: created.registrationCode }),
    );
    const key = await newKeyCredential("P-256");
    // The temporary token is not an API token.
    await refusedUnchanged(boot.orgId, 401, () => sa.raw("GET", "/auth/users", { token: init.temporaryAuthenticationToken }));
    // An attestation by a different key than the one it names is refused.
    const forged = await keyAttestation(key, "alice-key", init.challenge);
    const other = await newKeyCredential("P-256");
    const att = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(forged.credentialInfo.attestationData.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0))));
    const swapped = { ...forged, credentialInfo: { ...forged.credentialInfo, attestationData: encodeBase64Url(utf8(JSON.stringify({ ...att, publicKey: other.publicKeyPem }))) } };
    await refusedUnchanged(boot.orgId, 401, () => post("/auth/registration", { firstFactorCredential: swapped }, init.temporaryAuthenticationToken));

    const done = await post("/auth/registration", { firstFactorCredential: forged }, init.temporaryAuthenticationToken);
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ user: { id: created.userId, username: "alice@example.com", orgId: boot.orgId }, credential: { kind: "Key" } });
    // The code is single-use.
    await refusedUnchanged(boot.orgId, 401, () => post("/auth/registration/init", { orgId: boot.orgId, username: "alice@example.com", registrationCode: created.registrationCode }));

    const alice = await login(boot.orgId, "alice@example.com", "alice-key", key);
    // Registered, but holding no permission: deny by default.
    await refusedUnchanged(boot.orgId, 403, () => alice.get("/auth/users"));
    // A wrong key cannot log in.
    await expect(login(boot.orgId, "alice@example.com", "alice-key", other)).rejects.toThrow(/login 401/);
    await expect(login(boot.orgId, "nobody@example.com", "alice-key", key)).rejects.toThrow(/login\/init 401/);
    // An org that was never bootstrapped is not even addressed.
    await expect(login("or-aaaaa-bbbbb-cccccccccc", "alice@example.com", "alice-key", key)).rejects.toThrow(/login\/init 401/);
  });
});
