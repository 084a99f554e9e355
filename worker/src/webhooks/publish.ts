// Raising an org's webhook event from a request handler: the event gets its id here, once, and the
// org's Webhooks object records it (idempotent by id) and delivers it, HMAC-signed, with retries.
// Status changes of transfers and the indexer's deposits go through their own outboxes instead,
// because they must survive an eviction between the change and the hand-off.
import type { Env } from "../env.js";
import { newId } from "../orgs/ids.js";

export async function publishEvent(env: Env, orgId: string, kind: string, data: Record<string, unknown>, id = newId("whe")): Promise<void> {
  try {
    await env.WEBHOOKS.getByName(orgId).publish({ id, kind, date: new Date().toISOString(), data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> });
  } catch (err) {
    // The change itself is already written; a lost announcement is logged, never a failed request.
    console.error(`webhook event ${kind} (${id}) not recorded:`, (err as Error).message);
  }
}
