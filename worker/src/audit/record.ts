// Writes one decision to the org's audit log. Awaited, so a request is never answered before the
// decision about it is durable.
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.js";
import type { Caller, Org } from "../orgs/org.js";

export async function recordDecision(
  c: Context<AppEnv>,
  d: { caller: Caller | null; org: DurableObjectStub<Org>; operation: string | null; decision: "allowed" | "denied"; reason: string },
): Promise<void> {
  await d.org.recordDecision({
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
