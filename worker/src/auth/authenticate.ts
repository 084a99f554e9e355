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
//    by a request whose caller is resolved afresh, in the same call that spends it;
//  - every other request sends the version of the resolution this isolate holds, and the org
//    sends the caller back only if it changed (its 141 operations are not serialised each time).
//    Whether the token is still good is decided by the org on each of these requests; the copy
//    here is used only when the org says it is exactly its current resolution.
// The resolution also carries the identity's active credentials with their public keys, which
// POST /auth/action/init offers as allowCredentials and POST /auth/action verifies the answer
// against, without asking the org. A stale list widens nothing: the spend checks that the
// credential is still active and a passkey's counter still increasing (sessions.ts
// spendUserAction). A change of credentials made through this isolate drops its resolutions, so a
// passkey just registered is offered at once.
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
/** Requests that may change an identity's active credentials. */
const CHANGES_CREDENTIALS = /^\/auth\/(credentials|pats|service-accounts|users)(\/|$)/;
const CACHE_MS = 5_000;
const CACHE_MAX = 1_000;
const recentCallers = new Map<string, { caller: Caller; version: string; until: number }>();

function cachedCaller(token: string, now: number): Caller | null {
  const hit = recentCallers.get(token);
  return hit && hit.until > now ? hit.caller : null;
}

/** The caller the org answered: its own, or (null) the one of the version this isolate sent. */
function answered(token: string, r: Outcome<{ version: string; caller: Caller | null }>, sent: { caller: Caller; version: string } | undefined, now: number): Outcome<Caller> {
  if (!r.ok) return r;
  const caller = r.value.caller ?? (sent && sent.version === r.value.version ? sent.caller : null);
  if (!caller) return { ok: false, status: 401, message: "Not authorized: caller could not be resolved" };
  if (recentCallers.size >= CACHE_MAX) recentCallers.clear();
  recentCallers.set(token, { caller, version: r.value.version, until: now + CACHE_MS });
  return { ok: true, value: caller };
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
  const sent = recentCallers.get(token);
  if (hit) {
    resolved = { ok: true, value: hit };
  } else if (actionToken) {
    const both = await org.resolveCallerAndSpend(checked.claims, { token: actionToken, method: c.req.method, path, payload: await readBodyText(c) }, sent?.version);
    resolved = answered(token, both.caller as Outcome<{ version: string; caller: Caller | null }>, sent, now);
    if (both.spent) c.set("spentUserAction", both.spent as Outcome<UserActionEvidence>);
  } else {
    resolved = answered(token, (await org.resolveCaller(checked.claims, sent?.version)) as Outcome<{ version: string; caller: Caller | null }>, sent, now);
  }
  if (!resolved.ok) {
    // A genuine token of this org that is no longer good: worth an audit line.
    recentCallers.delete(token);
    await recordDecision(c, { caller: null, orgId: checked.claims.orgId, operation: null, decision: "denied", reason: resolved.message });
    throw new ApiError(resolved.status, resolved.message);
  }
  c.set("caller", resolved.value);
  c.set("org", org);
  await next();
  if (c.req.method !== "GET" && CHANGES_CREDENTIALS.test(path)) recentCallers.clear();
});
