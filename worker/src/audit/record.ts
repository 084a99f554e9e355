// Writes one decision to the org's audit log.
//  - recordDecision: awaited — used for refusals, so a refused request is never answered before
//    the refusal is durable.
//  - recordAllowed: handed to waitUntil — the allowed request is answered while the line commits
//    (the log is its own Durable Object, so its commit never delays the org's replies). The
//    request's own evidence (its spent user action) was already committed synchronously.
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.js";
import type { Caller } from "../orgs/org.js";

type Decision = { caller: Caller | null; orgId: string; operation: string | null; decision: "allowed" | "denied"; reason: string };

export async function recordDecision(c: Context<AppEnv>, d: Decision): Promise<void> {
  await write(c, d);
}

export function recordAllowed(c: Context<AppEnv>, d: Omit<Decision, "decision">): void {
  c.executionCtx.waitUntil(
    write(c, { ...d, decision: "allowed" }).catch((err: Error) => console.error("audit write failed", err.message)),
  );
}

function write(c: Context<AppEnv>, d: Decision): Promise<void> {
  return c.env.AUDIT.getByName(d.orgId).record({
    identityId: d.caller?.identityId ?? null,
    userId: d.caller?.userId ?? null,
    tokenId: d.caller?.tokenId ?? null,
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    operation: d.operation,
    decision: d.decision,
    reason: d.reason,
    userActionId: c.get("userAction")?.actionId ?? null,
  });
}
