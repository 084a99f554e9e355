// The org's webhooks as a SQLite Durable Object (named by org id): the dispatcher's storage, and
// its alarm, which sends due deliveries and sets itself for the next retry.
import { DurableObject } from "cloudflare:workers";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Env } from "../env.js";
import { newId, randomBytes } from "../orgs/ids.js";
import { WebhookDispatcher, type Webhook, type WebhookEvent } from "./webhook-dispatcher.js";

export class Webhooks extends DurableObject<Env> {
  private readonly dispatcher: WebhookDispatcher;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.dispatcher = new WebhookDispatcher({ sql: ctx.storage.sql, newId, newSecret: () => bytesToHex(randomBytes(32)) });
  }

  create(input: { url: string; events: string[]; status?: "Enabled" | "Disabled"; description?: string }): Webhook & { secret: string } {
    return this.dispatcher.create(input);
  }
  get(id: string): Webhook | null {
    return this.dispatcher.get(id);
  }
  list(limit: number, after?: string) {
    return this.dispatcher.list(limit, after);
  }
  update(id: string, changes: { url?: string; events?: string[]; status?: "Enabled" | "Disabled"; description?: string }): Webhook | null {
    return this.dispatcher.update(id, changes);
  }
  delete(id: string): boolean {
    return this.dispatcher.delete(id);
  }
  ping(id: string) {
    return this.dispatcher.ping(id, newId("whe"));
  }
  listEvents(webhookId: string, q: { limit: number; before?: number; kind?: string; deliveryFailed?: boolean }) {
    return this.dispatcher.listEvents(webhookId, q);
  }
  getEvent(webhookId: string, eventId: string) {
    return this.dispatcher.getEvent(webhookId, eventId);
  }

  /** Records an event (idempotent by id) and wakes the alarm for its deliveries. */
  async publish(event: WebhookEvent): Promise<number> {
    return this.publishMany([event]);
  }

  /** Records events in order (each idempotent by id), one call for a request's several announcements. */
  async publishMany(events: WebhookEvent[]): Promise<number> {
    let queued = 0;
    for (const event of events) queued += this.dispatcher.publish(event);
    if (queued > 0) await this.schedule();
    return queued;
  }

  override async alarm(): Promise<void> {
    // A wake-up in case this run is cut short; replaced below by the real next time.
    await this.ctx.storage.setAlarm(Date.now() + 60_000);
    await this.dispatcher.runDue();
    const next = this.dispatcher.nextWakeAt();
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  private async schedule(): Promise<void> {
    const next = this.dispatcher.nextWakeAt();
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }
}
