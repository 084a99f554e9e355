// A webhook receiver as a customer would run it: a loopback HTTP server that verifies the
// X-DFNS-WEBHOOK-SIGNATURE HMAC with the webhook's secret (constant-time), deduplicates by event id
// (delivery is at least once), and can be told to fail the first attempt of some events.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedEvent {
  id: string;
  kind: string;
  date: string;
  data: Record<string, unknown>;
  timestampSent: number;
}

export interface WebhookReceiver {
  /** Base URL; each path is one endpoint with its own webhook secret. */
  url: string;
  /** Webhook secret per path (e.g. "/hooks"), as returned when the webhook was created. */
  secrets: Map<string, string>;
  /** Every POST that arrived, in order, with its path and whether its signature verified. */
  requests: { path: string; body: string; signatureValid: boolean }[];
  /** Each event once per path, in first-arrival order (the receiver's deduplicated view). */
  events: (ReceivedEvent & { path: string })[];
  /** Answer 503 to the first delivery of events for which this returns true. */
  failFirstAttempt: (event: ReceivedEvent) => boolean;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const seen = new Set<string>();
  const attempted = new Set<string>();
  const state: WebhookReceiver = { url: "", secrets: new Map(), requests: [], events: [], failFirstAttempt: () => false, stop: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = req.url ?? "/";
    const secret = state.secrets.get(path);
    const header = String(req.headers["x-dfns-webhook-signature"] ?? "");
    const expected = secret ? `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` : "";
    const signatureValid = secret !== undefined && header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
    state.requests.push({ path, body, signatureValid });
    if (!signatureValid) return void res.writeHead(401).end();
    const event = JSON.parse(body) as ReceivedEvent;
    const key = `${path} ${event.id}`;
    if (!attempted.has(key) && state.failFirstAttempt(event)) {
      attempted.add(key);
      return void res.writeHead(503).end();
    }
    attempted.add(key);
    if (!seen.has(key)) {
      seen.add(key);
      state.events.push({ ...event, path });
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () => new Promise((r) => server.close(() => r()));
  return state;
}
