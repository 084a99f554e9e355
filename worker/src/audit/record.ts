// Writes decisions to the org's audit log (its own Durable Object).
//  - recordDecision: awaited — used for refusals, so a refused request is never answered before
//    the refusal is durable. The allowed lines this isolate still holds for the org go first, in
//    the same call, so the log keeps the order the decisions were taken in.
//  - recordAllowed: batched — the line waits in this isolate up to 20 ms for the org's next
//    decisions (a user-action flow is three requests in a row; concurrent requests add theirs) and
//    they are written together in one call, handed to waitUntil: the allowed request is answered
//    while its line commits. The request's own evidence (its spent user action) was already
//    committed synchronously; each line carries the time its decision was taken.
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.js";
import type { Caller } from "../orgs/org.js";
import type { DecisionInput } from "./store.js";

type Decision = { caller: Caller | null; orgId: string; operation: string | null; decision: "allowed" | "denied"; reason: string };
export type Line = DecisionInput & { at: string };

/** How long an allowed line waits for the org's next decisions. A setting, not a constant, so a test can widen the window enough to observe a refusal inside it. */
export const auditBatching = { windowMs: 20 };
/** Allowed lines not yet written, per org, in this isolate. */
const queued = new Map<string, Line[]>();

export async function recordDecision(c: Context<AppEnv>, d: Decision): Promise<void> {
  await recordNow(c.env, d.orgId, line(c, d));
}

export function recordAllowed(c: Context<AppEnv>, d: Omit<Decision, "decision">): void {
  queueAllowed(c.env, d.orgId, line(c, { ...d, decision: "allowed" }), (p) => c.executionCtx.waitUntil(p));
}

/**
 * The same two rules for a decision taken outside a request's middleware (the policy gate): an
 * allowed line joins the org's batch, anything else is written at once after the batch.
 */
export function queueAllowed(env: Cloudflare.Env, orgId: string, l: Line, waitUntil: (p: Promise<unknown>) => void): void {
  const waiting = queued.get(orgId);
  if (waiting) {
    waiting.push(l);
    return;
  }
  queued.set(orgId, [l]);
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, auditBatching.windowMs))
      .then(() => flush(env, orgId, []))
      .catch((err: Error) => console.error("audit write failed", err.message)),
  );
}

/** A decision that must be durable before the request is answered, after the org's queued allowed lines. */
export function recordNow(env: Cloudflare.Env, orgId: string, l: Line): Promise<void> {
  return flush(env, orgId, [l]);
}

async function flush(env: Cloudflare.Env, orgId: string, more: Line[]): Promise<void> {
  const lines = [...(queued.get(orgId) ?? []), ...more];
  queued.delete(orgId);
  if (lines.length > 0) await env.AUDIT.getByName(orgId).recordMany(lines);
}

function line(c: Context<AppEnv>, d: Decision): Line {
  return {
    identityId: d.caller?.identityId ?? null,
    userId: d.caller?.userId ?? null,
    tokenId: d.caller?.tokenId ?? null,
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    operation: d.operation,
    decision: d.decision,
    reason: d.reason,
    userActionId: c.get("userAction")?.actionId ?? null,
    at: new Date().toISOString(),
  };
}
