// Layer 1a: who is calling? A bearer token signed by this deployment, still valid in its org's
// Durable Object (not revoked, not expired, identity active). Everything after this middleware
// can rely on c.get("caller").
import { createMiddleware } from "hono/factory";
import { recordDecision } from "../audit/record.js";
import type { AppEnv } from "../http/app-env.js";
import { ApiError } from "../http/errors.js";
import { verifyToken } from "./tokens.js";

export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "Not authorized: missing bearer token");
  const checked = await verifyToken(c.env, token, "api");
  if (!checked.ok) throw new ApiError(401, `Not authorized: ${checked.reason}`);
  const org = c.env.ORG.getByName(checked.claims.orgId);
  const resolved = await org.resolveCaller(checked.claims);
  if (!resolved.ok) {
    // A genuine token of this org that is no longer good: worth an audit line.
    c.set("userAction", null);
    await recordDecision(c, { caller: null, orgId: checked.claims.orgId, operation: null, decision: "denied", reason: resolved.message });
    throw new ApiError(resolved.status, resolved.message);
  }
  c.set("caller", resolved.value);
  c.set("org", org);
  c.set("userAction", null);
  await next();
});
