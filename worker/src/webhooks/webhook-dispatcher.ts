// Webhooks of one organisation (its own Durable Object): subscriptions in Dfns's /webhooks shape,
// the events raised, and one delivery per (event, subscription), each POSTed with an HMAC-SHA256
// signature and retried with exponential backoff from the object's alarm until it succeeds or
// runs out of attempts. Every attempt is recorded.
//
// Delivery is at least once: an event whose acknowledgement is lost is sent again, with the same
// `id`. Receivers must deduplicate by event id (Dfns documents the same); an event id is fixed when
// the status change that caused it is written, so one status change never yields two ids.
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Sql } from "../broadcast/sql.js";
import type { FetchLike } from "../networks/evm-rpc.js";

export const SIGNATURE_HEADER = "x-dfns-webhook-signature";

export const WEBHOOK_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS webhooks (
     id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, status TEXT NOT NULL, description TEXT,
     secret TEXT NOT NULL, date_created TEXT NOT NULL, date_updated TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS webhook_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, date TEXT NOT NULL, data TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS webhook_deliveries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL,
     state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,
     last_status TEXT, last_error TEXT, timestamp_sent INTEGER, delivered_at TEXT,
     UNIQUE (webhook_id, event_id))`,
  `CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
];

/**
 * An event's payload is JSON written by this layer; typed loosely so it crosses Durable Object RPC
 * (a recursive JSON type makes the RPC type instantiation too deep, `unknown` is not serializable).
 */
export type EventData = { [key: string]: string | number | boolean | null | object };

export interface WebhookEvent {
  id: string;
  kind: string;
  date: string;
  data: Record<string, unknown>;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  status: "Enabled" | "Disabled";
  description?: string;
  dateCreated: string;
  dateUpdated: string;
}

export interface DeliveryTiming {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_TIMING: DeliveryTiming = { retryBaseMs: 2_000, retryMaxMs: 60 * 60_000, maxAttempts: 12, timeoutMs: 10_000 };

export interface WebhookDispatcherDeps {
  sql: Sql;
  newId: (kind: "wh") => string;
  /** A random secret for a new webhook. */
  newSecret: () => string;
  fetch?: FetchLike;
  now?: () => number;
  timing?: Partial<DeliveryTiming>;
}

interface WebhookRow {
  [k: string]: string | number | null;
  id: string;
  url: string;
  events: string;
  status: string;
  description: string | null;
  secret: string;
  date_created: string;
  date_updated: string;
  deleted: number;
}

interface DeliveryRow {
  [k: string]: string | number | null;
  seq: number;
  webhook_id: string;
  event_id: string;
  state: "Pending" | "Delivered" | "Failed";
  attempts: number;
  next_attempt_at: number | null;
  last_status: string | null;
  last_error: string | null;
  timestamp_sent: number | null;
  delivered_at: string | null;
}

/** HMAC-SHA256 of the exact body with the webhook's secret, as Dfns sends it: `sha256=<hex>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(body)))}`;
}

export class WebhookDispatcher {
  private readonly timing: DeliveryTiming;
  private readonly now: () => number;
  private readonly fetcher: FetchLike;
  private readonly inFlight = new Set<number>();

  constructor(private readonly deps: WebhookDispatcherDeps) {
    for (const stmt of WEBHOOK_SCHEMA) deps.sql.exec(stmt);
    this.timing = { ...DEFAULT_DELIVERY_TIMING, ...deps.timing };
    this.now = deps.now ?? Date.now;
    this.fetcher = deps.fetch ?? ((input, init) => fetch(input, init));
  }

  // ------------------------------------------------------------ subscriptions

  create(input: { url: string; events: string[]; status?: "Enabled" | "Disabled"; description?: string }): Webhook & { secret: string } {
    const id = this.deps.newId("wh");
    const date = new Date(this.now()).toISOString();
    const secret = this.deps.newSecret();
    this.deps.sql.exec(
      "INSERT INTO webhooks (id, url, events, status, description, secret, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      id,
      input.url,
      JSON.stringify(input.events),
      input.status ?? "Enabled",
      input.description ?? null,
      secret,
      date,
      date,
    );
    return { ...this.get(id)!, secret };
  }

  get(id: string): Webhook | null {
    const row = this.row(id);
    return row ? toWebhook(row) : null;
  }

  list(limit: number, after?: string): { items: Webhook[]; nextPageToken?: string } {
    const rows = this.deps.sql
      .exec<WebhookRow>("SELECT * FROM webhooks WHERE deleted = 0 AND id > ? ORDER BY id LIMIT ?", after ?? "", limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return { items: page.map(toWebhook), ...(rows.length > limit ? { nextPageToken: page[page.length - 1]!.id } : {}) };
  }

  update(id: string, changes: { url?: string; events?: string[]; status?: "Enabled" | "Disabled"; description?: string }): Webhook | null {
    const row = this.row(id);
    if (!row) return null;
    this.deps.sql.exec(
      "UPDATE webhooks SET url = ?, events = ?, status = ?, description = ?, date_updated = ? WHERE id = ?",
      changes.url ?? row.url,
      changes.events ? JSON.stringify(changes.events) : row.events,
      changes.status ?? row.status,
      changes.description ?? row.description,
      new Date(this.now()).toISOString(),
      id,
    );
    return this.get(id);
  }

  /** Deleting stops deliveries still pending for it (they are recorded as Failed). */
  delete(id: string): boolean {
    if (!this.row(id)) return false;
    this.deps.sql.exec("UPDATE webhooks SET deleted = 1, status = 'Disabled', date_updated = ? WHERE id = ?", new Date(this.now()).toISOString(), id);
    this.deps.sql.exec("UPDATE webhook_deliveries SET state = 'Failed', last_error = 'webhook deleted', next_attempt_at = NULL WHERE webhook_id = ? AND state = 'Pending'", id);
    return true;
  }

  // ------------------------------------------------------------ events

  /**
   * Records an event (once per id: publishing the same id again changes nothing) and queues one
   * delivery to every enabled webhook subscribed to its kind. Returns how many were queued.
   */
  publish(event: WebhookEvent): number {
    const inserted = this.deps.sql
      .exec<{ id: string }>("INSERT INTO webhook_events (id, kind, date, data) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id", event.id, event.kind, event.date, JSON.stringify(event.data))
      .toArray();
    if (inserted.length === 0) return 0;
    const now = this.now();
    let queued = 0;
    for (const hook of this.deps.sql.exec<WebhookRow>("SELECT * FROM webhooks WHERE deleted = 0 AND status = 'Enabled'").toArray()) {
      const events = JSON.parse(hook.events) as string[];
      if (!events.includes("*") && !events.includes(event.kind)) continue;
      this.deps.sql.exec("INSERT INTO webhook_deliveries (webhook_id, event_id, state, next_attempt_at) VALUES (?, ?, 'Pending', ?) ON CONFLICT DO NOTHING", hook.id, event.id, now);
      queued++;
    }
    return queued;
  }

  /** A webhook's events with the state of their delivery to it, newest first (Dfns ListWebhookEvents). */
  listEvents(webhookId: string, q: { limit: number; before?: number; kind?: string; deliveryFailed?: boolean }) {
    const rows = this.deps.sql
      .exec<DeliveryRow & { kind: string; date: string; data: string; id: string }>(
        `SELECT d.*, e.id AS id, e.kind AS kind, e.date AS date, e.data AS data FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.webhook_id = ? AND d.seq < ? ${q.kind ? "AND e.kind = ?" : ""} ${q.deliveryFailed === undefined ? "" : q.deliveryFailed ? "AND d.state = 'Failed'" : "AND d.state != 'Failed'"}
         ORDER BY d.seq DESC LIMIT ?`,
        webhookId,
        q.before ?? Number.MAX_SAFE_INTEGER,
        ...(q.kind ? [q.kind] : []),
        q.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({
        id: r.id,
        date: r.date,
        kind: r.kind,
        data: JSON.parse(r.data) as EventData,
        status: r.last_status ?? "",
        ...(r.last_error ? { error: r.last_error } : {}),
        timestampSent: r.timestamp_sent ?? 0,
        deliveryState: r.state,
        attempts: r.attempts,
        ...(r.delivered_at ? { dateDelivered: r.delivered_at } : {}),
      })),
      ...(rows.length > q.limit ? { nextPageToken: String(page[page.length - 1]!.seq) } : {}),
    };
  }

  getEvent(webhookId: string, eventId: string) {
    const item = this.listEventsById(webhookId, eventId);
    return item;
  }

  private listEventsById(webhookId: string, eventId: string) {
    const seq = this.deps.sql.exec<{ seq: number }>("SELECT seq FROM webhook_deliveries WHERE webhook_id = ? AND event_id = ?", webhookId, eventId).toArray()[0];
    if (!seq) return null;
    return this.listEvents(webhookId, { limit: 1, before: seq.seq + 1 }).items[0] ?? null;
  }

  // ------------------------------------------------------------ delivery

  /** Sends every due delivery (in parallel); call again at nextWakeAt(). */
  async runDue(): Promise<void> {
    const due = this.deps.sql
      .exec<DeliveryRow>("SELECT * FROM webhook_deliveries WHERE state = 'Pending' AND next_attempt_at <= ? ORDER BY seq LIMIT 200", this.now())
      .toArray()
      .filter((d) => !this.inFlight.has(d.seq));
    await Promise.all(due.map((d) => this.deliver(d)));
  }

  nextWakeAt(): number | null {
    const row = this.deps.sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE state = 'Pending'").toArray()[0];
    return row?.at ?? null;
  }

  /** Sends a `webhook.ping` event to one webhook now, without queuing or retrying. */
  async ping(webhookId: string, eventId: string): Promise<{ status: string; error?: string } | null> {
    const hook = this.row(webhookId);
    if (!hook) return null;
    const result = await this.post(hook, { id: eventId, kind: "webhook.ping", date: new Date(this.now()).toISOString(), data: {} });
    return { status: result.status, ...(result.error ? { error: result.error } : {}) };
  }

  private async deliver(d: DeliveryRow): Promise<void> {
    this.inFlight.add(d.seq);
    try {
      const hook = this.row(d.webhook_id);
      const event = this.deps.sql.exec<{ id: string; kind: string; date: string; data: string }>("SELECT id, kind, date, data FROM webhook_events WHERE id = ?", d.event_id).toArray()[0];
      if (!hook || hook.deleted || !event) return;
      const result = await this.post(hook, { id: event.id, kind: event.kind, date: event.date, data: JSON.parse(event.data) });
      const attempts = d.attempts + 1;
      if (result.ok) {
        this.deps.sql.exec(
          "UPDATE webhook_deliveries SET state = 'Delivered', attempts = ?, next_attempt_at = NULL, last_status = ?, last_error = NULL, timestamp_sent = ?, delivered_at = ? WHERE seq = ?",
          attempts,
          result.status,
          result.timestampSent,
          new Date(this.now()).toISOString(),
          d.seq,
        );
        return;
      }
      const exhausted = attempts >= this.timing.maxAttempts;
      const delay = Math.min(this.timing.retryBaseMs * 2 ** (attempts - 1), this.timing.retryMaxMs);
      this.deps.sql.exec(
        "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, timestamp_sent = ? WHERE seq = ?",
        exhausted ? "Failed" : "Pending",
        attempts,
        exhausted ? null : this.now() + delay,
        result.status,
        result.error ?? null,
        result.timestampSent,
        d.seq,
      );
    } finally {
      this.inFlight.delete(d.seq);
    }
  }

  private async post(hook: WebhookRow, event: WebhookEvent): Promise<{ ok: boolean; status: string; error?: string; timestampSent: number }> {
    const timestampSent = Math.floor(this.now() / 1000);
    const body = JSON.stringify({ ...event, timestampSent });
    try {
      const res = await this.fetcher(hook.url, {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: webhookSignature(hook.secret, body), "user-agent": "tessera-webhooks/1" },
        body,
        signal: AbortSignal.timeout(this.timing.timeoutMs),
      });
      // The receiver's body is not needed; drain it so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? { ok: true, status: String(res.status), timestampSent } : { ok: false, status: String(res.status), error: `HTTP ${res.status}`, timestampSent };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const error = e.name === "TimeoutError" ? `no answer within ${this.timing.timeoutMs} ms` : (e.cause?.code ?? e.message);
      return { ok: false, status: "0", error, timestampSent };
    }
  }

  private row(id: string): WebhookRow | null {
    return this.deps.sql.exec<WebhookRow>("SELECT * FROM webhooks WHERE id = ? AND deleted = 0", id).toArray()[0] ?? null;
  }
}

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    status: row.status as Webhook["status"],
    ...(row.description !== null ? { description: row.description } : {}),
    dateCreated: row.date_created,
    dateUpdated: row.date_updated,
  };
}
