// After a governance change succeeded at the edge (a new service account, user, credential,
// permission, assignment; a deactivation), record it in the org's governance log with the user
// action that authorized it. The share holders replay that log and believe nothing else
// (shared/src/governance/log.ts): an identity, credential or permission that is not in the log
// cannot create or use keys at the nodes.
import { createMiddleware } from "hono/factory";
import { isGovernanceRequest } from "../../../shared/src/governance/operations.js";
import { recordDecision } from "../audit/record.js";
import { relyingParty } from "../auth/webauthn-config.js";
import type { AppEnv } from "../http/app-env.js";

export const recordGovernanceChanges = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const path = new URL(c.req.url).pathname;
  // /tessera/ routes (share holders, fee ceilings) record their change themselves: the request succeeds only once it is in the log.
  if (c.res.status >= 300 || !isGovernanceRequest(c.req.method, path) || path.startsWith("/tessera/")) return;
  const evidence = c.get("userAction");
  if (!evidence) return;
  const response = (await c.res
    .clone()
    .json()
    .catch(() => ({}))) as Record<string, unknown>;
  const recorded = await c.get("org").recordGovernance(evidence, response, relyingParty(c.env).id);
  if (!recorded.ok) {
    // Done at the edge, but the nodes will not learn it: say so in the audit log.
    const caller = c.get("caller");
    await recordDecision(c, { caller, orgId: caller.orgId, operation: null, decision: "denied", reason: `not recorded in the governance log: ${recorded.reason}` });
  }
});
