// User action signing: POST /auth/action/init commits to the request the caller is about to make
// and returns that commitment as the challenge; POST /auth/action verifies the credential's
// signature over it and issues the single-use X-DFNS-USERACTION token.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
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

actionRoutes.post("/auth/action", ownResource("user action signing"), async (c) => {
  const body = await parseBody(c, req.signedChallenge);
  const caller = c.get("caller");
  const org = c.get("org");
  const pending = unwrap(await org.pendingChallenge(body.challengeIdentifier, "UserAction"));
  if (pending.tokenId !== caller.tokenId) throw new ApiError(401, "Challenge not found");
  const assertion = unwrap(await verifyFirstFactor(c.env, pending, body.firstFactor));
  const issued = unwrap(await org.completeUserAction(caller, { challengeId: pending.challengeId, assertion }));
  return c.json({ userAction: issued.userAction });
});
