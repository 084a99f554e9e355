// User action signing: POST /auth/action/init commits to the request the caller is about to make
// and returns that commitment as the challenge; POST /auth/action verifies the credential's
// signature over it and issues the single-use X-DFNS-USERACTION token.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap, type ClientErrorStatus } from "../http/errors.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import { ownResource } from "../permissions/permit.js";
import { verifyFirstFactor } from "./assertions.js";
import { challengeResponse } from "./challenge-response.js";

export const actionRoutes = new Hono<AppEnv>();

actionRoutes.post("/auth/action/init", ownResource("user action signing"), async (c) => {
  const body = await parseBody(c, req.userActionInit);
  const challenge = unwrap(
    await c.get("org").actionChallenge(c.get("caller"), {
      method: body.userActionHttpMethod,
      path: body.userActionHttpPath,
      payload: body.userActionPayload,
    }),
  );
  return c.json(challengeResponse(c.env, challenge));
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
  const pending = await org.pendingChallenge(body.challengeIdentifier, "UserAction");
  if (!pending.ok) return refuse(pending.status, pending.message);
  if (pending.value.tokenId !== caller.tokenId) return refuse(401, "Challenge not found");
  const assertion = await verifyFirstFactor(c.env, pending.value, body.firstFactor);
  if (!assertion.ok) return refuse(assertion.status, assertion.message);
  const issued = await org.completeUserAction(caller, { challengeId: pending.value.challengeId, assertion: assertion.value });
  if (!issued.ok) return refuse(issued.status, issued.message);
  recordAllowed(c, { caller, orgId: caller.orgId, operation: null, reason: `user action ${issued.value.actionId} issued` });
  return c.json({ userAction: issued.value.userAction });
});
