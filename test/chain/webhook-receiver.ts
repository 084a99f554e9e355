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
  url: string;
  secret: string;
  /** Every POST that arrived, in order, with whether its signature verified. */
  requests: { body: string; signatureValid: boolean }[];
  /** Each event once, in first-arrival order (the receiver's deduplicated view). */
  events: ReceivedEvent[];
  /** Answer 503 to the first delivery of events for which this returns true. */
  failFirstAttempt: (event: ReceivedEvent) => boolean;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const seen = new Set<string>();
  const attempted = new Set<string>();
  const state: WebhookReceiver = { url: "", secret: "", requests: [], events: [], failFirstAttempt: () => false, stop: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const header = String(req.headers["x-dfns-webhook-signature"] ?? "");
    const expected = `sha256=${createHmac("sha256", state.secret).update(body).digest("hex")}`;
    const signatureValid = header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
    state.requests.push({ body, signatureValid });
    if (!signatureValid) return void res.writeHead(401).end();
    const event = JSON.parse(body) as ReceivedEvent;
    if (!attempted.has(event.id) && state.failFirstAttempt(event)) {
      attempted.add(event.id);
      return void res.writeHead(503).end();
    }
    attempted.add(event.id);
    if (!seen.has(event.id)) {
      seen.add(event.id);
      state.events.push(event);
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  state.stop = () => new Promise((r) => server.close(() => r()));
  return state;
}
