// User action signing: POST /auth/action/init commits to the request the caller is about to make
// and returns that commitment as the challenge, made here and sealed for the caller's token
// (challenge-seal.ts) without a call to the org's Durable Object; POST /auth/action is one call
// to it, given only the caller's ids (not its operations): it checks the seal, verifies the
// credential's signature, keeps the challenge single-use and issues the X-DFNS-USERACTION token.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, type ClientErrorStatus } from "../http/errors.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import { ownResource } from "../permissions/permit.js";
import { encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { userActionChallenge } from "../../../shared/src/dfns/user-action.js";
import { randomBytes } from "../orgs/ids.js";
import { challengeResponse } from "./challenge-response.js";
import { sealChallenge } from "./challenge-seal.js";
import { CHALLENGE_SECONDS, sha256Hex } from "./challenge-store.js";
import { callerRef } from "./sessions.js";

export const actionRoutes = new Hono<AppEnv>();

actionRoutes.post("/auth/action/init", ownResource("user action signing"), async (c) => {
  const body = await parseBody(c, req.userActionInit);
  const bodyHash = await sha256Hex(body.userActionPayload);
  const caller = c.get("caller");
  const allowCredentials = caller.activeCredentials;
  if (allowCredentials.key.length + allowCredentials.webauthn.length === 0) throw new ApiError(403, "No active credential can sign for this identity");
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
  return c.json(challengeResponse(c.env, { challenge, challengeIdentifier, allowCredentials }));
});

actionRoutes.post("/auth/action", async (c) => {
  const body = await parseBody(c, req.signedChallenge);
  const caller = c.get("caller");
  const org = c.get("org");
  // A refused signature is a security event: it goes to the audit log with its reason.
  const refuse = async (status: ClientErrorStatus | 503, reason: string): Promise<never> => {
    await recordDecision(c, { caller, orgId: caller.orgId, operation: null, decision: "denied", reason: `user action signature refused: ${reason}` });
    throw new ApiError(status, reason);
  };
  // One call: the org finds the challenge, verifies the signature and issues the action.
  const issued = await org.answerUserAction(callerRef(caller), { challengeId: body.challengeIdentifier, firstFactor: body.firstFactor });
  if (!issued.ok) return refuse(issued.status, issued.message);
  recordAllowed(c, { caller, orgId: caller.orgId, operation: null, reason: `user action ${issued.value.actionId} issued` });
  return c.json({ userAction: issued.value.userAction });
});
