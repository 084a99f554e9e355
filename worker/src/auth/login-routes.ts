// Login (public): POST /auth/login/init → challenge for the user's credentials;
// POST /auth/login with the signed challenge → a one-hour login token. Logout revokes it.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { newId } from "../orgs/ids.js";
import { ownResource } from "../permissions/permit.js";
import { verifyFirstFactor } from "./assertions.js";
import { challengeResponse, knownOrg, orgChallengeIdentifier, splitOrgChallengeIdentifier } from "./challenge-response.js";
import { issueToken, LOGIN_TOKEN_SECONDS } from "./tokens.js";

export const loginRoutes = new Hono<AppEnv>();

loginRoutes.post("/auth/login/init", async (c) => {
  const body = await parseBody(c, req.loginInit);
  const org = await knownOrg(c.env, body.orgId);
  if (!org) throw new ApiError(401, "Not authorized");
  const challenge = unwrap(await org.loginChallenge(body.username));
  return c.json(challengeResponse(c.env, { ...challenge, challengeIdentifier: orgChallengeIdentifier(body.orgId, challenge.challengeIdentifier) }));
});

loginRoutes.post("/auth/login", async (c) => {
  const body = await parseBody(c, req.signedChallenge);
  const ids = splitOrgChallengeIdentifier(body.challengeIdentifier);
  const org = ids && (await knownOrg(c.env, ids.orgId));
  if (!ids || !org) throw new ApiError(401, "Challenge not found");
  const pending = unwrap(await org.pendingChallenge(ids.challengeId, "Login"));
  const decide = (decision: "allowed" | "denied", reason: string) =>
    c.env.AUDIT.getByName(pending.orgId).record({ identityId: pending.subject, userId: pending.subject, tokenId: null, method: "POST", path: "/auth/login", operation: null, decision, reason, userActionId: null });

  const assertion = await verifyFirstFactor(c.env, pending, body.firstFactor);
  if (!assertion.ok) {
    await decide("denied", assertion.message);
    throw new ApiError(assertion.status, assertion.message);
  }
  const tokenId = newId("to");
  const expiresAt = Math.floor(Date.now() / 1000) + LOGIN_TOKEN_SECONDS;
  const done = await org.completeLogin({ challengeId: ids.challengeId, assertion: assertion.value, tokenId, expiresAt });
  if (!done.ok) {
    await decide("denied", done.message);
    throw new ApiError(done.status, done.message);
  }
  await decide("allowed", "login");
  const token = await issueToken(c.env, { orgId: pending.orgId, userId: done.value.userId, tokenId, tokenKind: "Login" }, LOGIN_TOKEN_SECONDS);
  return c.json({ token });
});

/** Registered behind `authenticate`: logging out needs to know whose session ends. */
export const logoutRoutes = new Hono<AppEnv>();

logoutRoutes.put("/auth/logout", ownResource("session"), async (c) => {
  const body = await parseBody(c, req.logout);
  return c.json(unwrap(await c.get("org").logout(c.get("caller"), body.allSessions ?? false)));
});
