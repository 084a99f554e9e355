// Raising an org's webhook event from a request handler: the event gets its id here, once, and the
// org's Webhooks object records it (idempotent by id) and delivers it, HMAC-signed, with retries.
// Status changes of transfers and the indexer's deposits go through their own outboxes instead,
// because they must survive an eviction between the change and the hand-off.
import type { Env } from "../env.js";
import { newId } from "../orgs/ids.js";

export async function publishEvent(env: Env, orgId: string, kind: string, data: Record<string, unknown>, id = newId("whe")): Promise<void> {
  await publishEvents(env, orgId, [{ kind, data, id }]);
}

/** Several events of one request, in order, in one call to the org's Webhooks object. */
export async function publishEvents(env: Env, orgId: string, events: { kind: string; data: Record<string, unknown>; id?: string }[]): Promise<void> {
  if (events.length === 0) return;
  const date = new Date().toISOString();
  const stamped = events.map((e) => ({ id: e.id ?? newId("whe"), kind: e.kind, date, data: JSON.parse(JSON.stringify(e.data)) as Record<string, unknown> }));
  try {
    await env.WEBHOOKS.getByName(orgId).publishMany(stamped);
  } catch (err) {
    // The change itself is already written; a lost announcement is logged, never a failed request.
    console.error(`webhook events ${stamped.map((e) => `${e.kind} (${e.id})`).join(", ")} not recorded:`, (err as Error).message);
  }
}
