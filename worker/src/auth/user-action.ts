// Layer 1b: did the caller's registered credential sign *this* request? Every state-changing call
// (POST, PUT, DELETE) carries X-DFNS-USERACTION, a single-use token issued by POST /auth/action for
// exactly this method, path and body, to this caller. Spending it is atomic in the org's Durable
// Object; a mismatch leaves it unspent, a replay finds it spent.
import { createMiddleware } from "hono/factory";
import { recordDecision } from "../audit/record.js";
import type { AppEnv } from "../http/app-env.js";
import { readBodyText } from "../http/body.js";
import { ApiError } from "../http/errors.js";

/** Dfns's endpoints that change state without a user action (they are the signing flow itself). */
const UNSIGNED: ReadonlyArray<RegExp> = [
  /^\/auth\/login(\/.*)?$/,
  /^\/auth\/logout$/,
  /^\/auth\/registration(\/.*)?$/,
  /^\/auth\/recover\/user(\/.*)?$/,
  /^\/auth\/action(\/init)?$/,
  /^\/auth\/credentials\/init$/,
  /^\/auth\/credentials\/code\/(init|verify)$/,
  // A read-only contract call: POST only because it carries an ABI.
  /^\/networks\/[^/]+\/call-function$/,
];

export function needsUserAction(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return false;
  return !UNSIGNED.some((re) => re.test(path));
}

export const requireUserAction = createMiddleware<AppEnv>(async (c, next) => {
  const path = new URL(c.req.url).pathname;
  if (!needsUserAction(c.req.method, path)) return next();
  const caller = c.get("caller");
  const org = c.get("org");
  const token = c.req.header("x-dfns-useraction");
  if (!token) {
    await recordDecision(c, { caller, orgId: caller.orgId, operation: null, decision: "denied", reason: "missing user action signature" });
    throw new ApiError(401, "User action signature required (X-DFNS-USERACTION)");
  }
  // Spent already when authenticate resolved the caller (one call for both), otherwise here.
  const spent = c.get("spentUserAction") ?? (await org.consumeUserAction({ token, tokenId: caller.tokenId, method: c.req.method, path, payload: await readBodyText(c) }));
  if (!spent.ok) {
    await recordDecision(c, { caller, orgId: caller.orgId, operation: null, decision: "denied", reason: spent.message });
    throw new ApiError(spent.status, spent.message);
  }
  c.set("userAction", spent.value);
  await next();
});
