// User action signing, in the Worker with no call to the org's Durable Object:
//  - POST /auth/action/init commits to the request the caller is about to make and returns that
//    commitment as the challenge, sealed for the caller's token (challenge-seal.ts);
//  - POST /auth/action checks the seal, verifies the credential's signature against the caller's
//    active credentials (carried by its resolution, authenticate.ts) and issues the
//    X-DFNS-USERACTION token, self-contained and sealed (user-action-token.ts).
// What must be decided under the org's lock — the credential still active, a passkey's counter
// still increasing, the challenge spent once — is decided by the request that spends the token,
// in the Org call it makes anyway (sessions.ts spendUserAction). So each answer to a challenge
// yields a token, and only the first of them to be spent does anything.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, type ClientErrorStatus } from "../http/errors.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import { ownResource } from "../permissions/permit.js";
import { encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { userActionChallenge } from "../../../shared/src/dfns/user-action.js";
import { newId, randomBytes } from "../orgs/ids.js";
import { nowIso } from "../orgs/storage.js";
import { verifyFirstFactor } from "./assertions.js";
import { challengeResponse } from "./challenge-response.js";
import { answeredChallenge, sealChallenge, sealMatches } from "./challenge-seal.js";
import { CHALLENGE_SECONDS, sha256Hex, USER_ACTION_SECONDS } from "./challenge-store.js";
import { allowCredentials } from "./sessions.js";
import { sealUserActionToken } from "./user-action-token.js";

export const actionRoutes = new Hono<AppEnv>();

actionRoutes.post("/auth/action/init", ownResource("user action signing"), async (c) => {
  const body = await parseBody(c, req.userActionInit);
  const bodyHash = await sha256Hex(body.userActionPayload);
  const caller = c.get("caller");
  if (caller.activeCredentials.length === 0) throw new ApiError(403, "No active credential can sign for this identity");
  const issuedAt = Math.floor(Date.now() / 1000);
  const challenge = userActionChallenge(
    {
      method: body.userActionHttpMethod,
      path: body.userActionHttpPath,
      payload: body.userActionPayload,
      orgId: caller.orgId,
      subject: caller.identityId,
      nonce: encodeBase64Url(randomBytes(16)),
      issuedAt,
      expiry: issuedAt + CHALLENGE_SECONDS,
    },
    () => bodyHash,
  );
  const challengeIdentifier = await sealChallenge(c.env, caller.tokenId, challenge);
  return c.json(challengeResponse(c.env, { challenge, challengeIdentifier, allowCredentials: allowCredentials(caller.activeCredentials) }));
});

actionRoutes.post("/auth/action", async (c) => {
  const body = await parseBody(c, req.signedChallenge);
  const caller = c.get("caller");
  // A refused signature is a security event: it goes to the audit log with its reason.
  const refuse = async (status: ClientErrorStatus | 503, reason: string): Promise<never> => {
    await recordDecision(c, { caller, orgId: caller.orgId, operation: null, decision: "denied", reason: `user action signature refused: ${reason}` });
    throw new ApiError(status, reason);
  };
  // The challenge the credential signed, from its clientData: it must carry this deployment's seal
  // for the answering token. One message for every challenge that is not one of ours for this
  // token, this org and this identity: it names nothing.
  const answered = answeredChallenge(body.firstFactor.credentialAssertion.clientData);
  if (!answered || !(await sealMatches(c.env, body.challengeIdentifier, caller.tokenId, answered.challenge))) return refuse(401, "Challenge not found");
  const { challenge, claims } = answered;
  if (claims.orgId !== caller.orgId || claims.subject !== caller.identityId) return refuse(401, "Challenge not found");
  const now = Math.floor(Date.now() / 1000);
  if (claims.expiry <= now) return refuse(401, "Challenge expired");
  const assertion = await verifyFirstFactor(c.env, { challenge, credentials: caller.activeCredentials }, body.firstFactor);
  if (!assertion.ok) return refuse(assertion.status, assertion.message);
  const actionId = newId("ua");
  const a = assertion.value;
  const userAction = await sealUserActionToken(c.env, {
    actionId,
    tokenId: caller.tokenId,
    challengeIdentifier: body.challengeIdentifier,
    challenge,
    credentialUuid: a.credentialUuid,
    signCount: a.signCount,
    assertion: { clientData: a.clientData, signature: a.signature, authenticatorData: a.authenticatorData, userHandle: a.userHandle },
    signedAt: nowIso(),
    expiresAt: now + USER_ACTION_SECONDS,
  });
  recordAllowed(c, { caller, orgId: caller.orgId, operation: null, reason: `user action ${actionId} issued` });
  return c.json({ userAction });
});
