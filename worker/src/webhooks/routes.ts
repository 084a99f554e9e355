// Dfns /webhooks: subscriptions of the caller's organisation (Webhooks:* operations; changes are
// user-action signed like every other), and the record of each event's delivery.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError } from "../http/errors.js";
import { permit } from "../permissions/permit.js";

export const WEBHOOK_EVENT_KINDS = [
  "wallet.transfer.requested",
  "wallet.transfer.executing",
  "wallet.transfer.broadcasted",
  "wallet.transfer.confirmed",
  "wallet.transfer.failed",
  "wallet.transfer.rejected",
  "wallet.transaction.requested",
  "wallet.transaction.executing",
  "wallet.transaction.broadcasted",
  "wallet.transaction.confirmed",
  "wallet.transaction.failed",
  "wallet.transaction.rejected",
  "wallet.blockchainevent.detected",
  "wallet.created",
  "wallet.signature.requested",
  "wallet.signature.signed",
  "wallet.signature.failed",
  "wallet.signature.rejected",
  "policy.triggered",
  "policy.approval.pending",
  "policy.approval.resolved",
] as const;

// Dfns's other event kinds are accepted in subscriptions (so configurations carry over), though
// this deployment raises only the ones above.
const eventKind = z.string().regex(/^(\*|[a-z]+(\.[a-z]+){1,3})$/, "must be an event kind such as wallet.transfer.confirmed, or *");

const webhookUrl = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL");

const createWebhook = z.object({
  url: webhookUrl,
  events: z.array(eventKind).min(1).max(64),
  status: z.enum(["Enabled", "Disabled"]).optional(),
  description: z.string().max(512).optional(),
});

const updateWebhook = z.object({
  url: webhookUrl.optional(),
  events: z.array(eventKind).min(1).max(64).optional(),
  status: z.enum(["Enabled", "Disabled"]).optional(),
  description: z.string().max(512).optional(),
});

const listWebhooksQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).optional(), paginationToken: z.string().max(64).optional() });
const listEventsQuery = listWebhooksQuery.extend({ kind: eventKind.optional(), deliveryFailed: z.enum(["true", "false"]).optional() });

export const webhookRoutes = new Hono<AppEnv>();

const objectOf = (c: Context<AppEnv>) => c.env.WEBHOOKS.getByName(c.get("caller").orgId);

async function existing(c: Context<AppEnv>) {
  const hook = await objectOf(c).get(c.req.param("webhookId")!);
  if (!hook) throw new ApiError(404, "Webhook not found");
  return hook;
}

webhookRoutes.post("/webhooks", permit("Webhooks:Create"), async (c) => {
  const body = await parseBody(c, createWebhook);
  return c.json(await objectOf(c).create(body));
});

webhookRoutes.get("/webhooks", permit("Webhooks:Read"), async (c) => {
  const q = parseQuery(c, listWebhooksQuery);
  return c.json(await objectOf(c).list(q.limit ?? 50, q.paginationToken));
});

webhookRoutes.get("/webhooks/:webhookId", permit("Webhooks:Read"), async (c) => c.json(await existing(c)));

webhookRoutes.put("/webhooks/:webhookId", permit("Webhooks:Update"), async (c) => {
  const body = await parseBody(c, updateWebhook);
  const hook = await objectOf(c).update(c.req.param("webhookId"), body);
  if (!hook) throw new ApiError(404, "Webhook not found");
  return c.json(hook);
});

webhookRoutes.delete("/webhooks/:webhookId", permit("Webhooks:Delete"), async (c) => {
  if (!(await objectOf(c).delete(c.req.param("webhookId")))) throw new ApiError(404, "Webhook not found");
  return c.json({ deleted: true });
});

webhookRoutes.post("/webhooks/:webhookId/ping", permit("Webhooks:Ping"), async (c) => {
  const result = await objectOf(c).ping(c.req.param("webhookId"));
  if (!result) throw new ApiError(404, "Webhook not found");
  return c.json(result);
});

webhookRoutes.get("/webhooks/:webhookId/events", permit("Webhooks:Events:Read"), async (c) => {
  await existing(c);
  const q = parseQuery(c, listEventsQuery);
  const before = q.paginationToken === undefined ? undefined : Number(q.paginationToken);
  if (before !== undefined && !Number.isSafeInteger(before)) throw new ApiError(400, "Invalid request: paginationToken: unknown token");
  return c.json(
    await objectOf(c).listEvents(c.req.param("webhookId"), {
      limit: q.limit ?? 50,
      ...(before !== undefined ? { before } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.deliveryFailed ? { deliveryFailed: q.deliveryFailed === "true" } : {}),
    }),
  );
});

webhookRoutes.get("/webhooks/:webhookId/events/:webhookEventId", permit("Webhooks:Events:Read"), async (c) => {
  const event = await objectOf(c).getEvent(c.req.param("webhookId"), c.req.param("webhookEventId"));
  if (!event) throw new ApiError(404, "Webhook event not found");
  return c.json(event);
});
