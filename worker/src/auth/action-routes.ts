// User action signing: POST /auth/action/init commits to the request the caller is about to make
// and returns that commitment as the challenge; POST /auth/action verifies the credential's
// signature over it and issues the single-use X-DFNS-USERACTION token. Each is one call to the
// org's Durable Object, given only the caller's ids (not its operations).
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap, type ClientErrorStatus } from "../http/errors.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import { ownResource } from "../permissions/permit.js";
import { challengeResponse } from "./challenge-response.js";
import { callerRef } from "./sessions.js";

export const actionRoutes = new Hono<AppEnv>();

actionRoutes.post("/auth/action/init", ownResource("user action signing"), async (c) => {
  const body = await parseBody(c, req.userActionInit);
  const challenge = unwrap(
    await c.get("org").actionChallenge(callerRef(c.get("caller")), {
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
  // One call: the org finds the challenge, verifies the signature and issues the action.
  const issued = await org.answerUserAction(callerRef(caller), { challengeId: body.challengeIdentifier, firstFactor: body.firstFactor });
  if (!issued.ok) return refuse(issued.status, issued.message);
  recordAllowed(c, { caller, orgId: caller.orgId, operation: null, reason: `user action ${issued.value.actionId} issued` });
  return c.json({ userAction: issued.value.userAction });
});
