// Layer 1a: who is calling? A bearer token signed by this deployment, still valid in its org's
// Durable Object (not revoked, not expired, identity active). Everything after this middleware
// can rely on c.get("caller").
//
// Fewer round trips to the org's Durable Object:
//  - a state-changing request that carries its user action resolves the caller and spends the
//    action in one call (requireUserAction then uses that outcome);
//  - the two requests that only lead up to one (POST /auth/action/init and /auth/action: a
//    challenge, then a user-action token) reuse this isolate's resolution of the same token for a
//    few seconds. They change nothing a revocation protects: the action they yield is spent only
//    by a request whose caller is resolved afresh, in the same call that spends it.
import { createMiddleware } from "hono/factory";
import { recordDecision } from "../audit/record.js";
import type { AppEnv } from "../http/app-env.js";
import { readBodyText } from "../http/body.js";
import { ApiError, type Outcome } from "../http/errors.js";
import type { Caller } from "../orgs/org.js";
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import { verifyToken } from "./tokens.js";
import { needsUserAction } from "./user-action.js";

export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

/** Paths whose caller may come from this isolate's recent resolution (see above). */
const LEADS_TO_AN_ACTION = /^\/auth\/action(\/init)?$/;
const CACHE_MS = 5_000;
const CACHE_MAX = 1_000;
const recentCallers = new Map<string, { caller: Caller; until: number }>();

function cachedCaller(token: string, now: number): Caller | null {
  const hit = recentCallers.get(token);
  if (!hit) return null;
  if (hit.until > now) return hit.caller;
  recentCallers.delete(token);
  return null;
}

function remember(token: string, caller: Caller, now: number): void {
  if (recentCallers.size >= CACHE_MAX) recentCallers.clear();
  recentCallers.set(token, { caller, until: now + CACHE_MS });
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "Not authorized: missing bearer token");
  const checked = await verifyToken(c.env, token, "api");
  if (!checked.ok) throw new ApiError(401, `Not authorized: ${checked.reason}`);
  const org = c.env.ORG.getByName(checked.claims.orgId);
  const path = new URL(c.req.url).pathname;
  const now = Date.now();
  const cacheable = c.req.method === "POST" && LEADS_TO_AN_ACTION.test(path);
  const actionToken = needsUserAction(c.req.method, path) ? c.req.header("x-dfns-useraction") : undefined;
  c.set("userAction", null);
  let resolved: Outcome<Caller>;
  const hit = cacheable ? cachedCaller(token, now) : null;
  if (hit) {
    resolved = { ok: true, value: hit };
  } else if (actionToken) {
    const both = await org.resolveCallerAndSpend(checked.claims, { token: actionToken, method: c.req.method, path, payload: await readBodyText(c) });
    resolved = both.caller as Outcome<Caller>;
    if (both.spent) c.set("spentUserAction", both.spent as Outcome<UserActionEvidence>);
  } else {
    resolved = (await org.resolveCaller(checked.claims)) as Outcome<Caller>;
  }
  if (!resolved.ok) {
    // A genuine token of this org that is no longer good: worth an audit line.
    recentCallers.delete(token);
    await recordDecision(c, { caller: null, orgId: checked.claims.orgId, operation: null, decision: "denied", reason: resolved.message });
    throw new ApiError(resolved.status, resolved.message);
  }
  if (!hit) remember(token, resolved.value, now);
  c.set("caller", resolved.value);
  c.set("org", org);
  await next();
});
