// Reading the audit trail (Auth:Logs:Read):
//   GET /auth/action/logs[/:id]  Dfns-style: each spent user action with its signed evidence;
//   GET /audit                   every request decision (allowed / denied, operation, reason).
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/app-env.js";
import { parseQuery } from "../http/body.js";
import { unwrap } from "../http/errors.js";
import { permit } from "../permissions/permit.js";

export const auditRoutes = new Hono<AppEnv>();

const isoDate = z.string().max(64).refine((s) => !Number.isNaN(Date.parse(s)), { message: "must be a date" });
const limit = z.coerce.number().int().min(1).max(500).default(100);

function dfnsAuditItem(e: {
  actionId: string; method: string; path: string; payload: string; subject: string; consumedAt: string | null; username?: string | null;
  credential: { credId: string; kind: string; publicKey: string };
  assertion: { clientData: string; signature: string; authenticatorData: string | null };
}) {
  return {
    id: e.actionId,
    action: { method: e.method, path: e.path, payload: e.payload },
    userId: e.subject,
    username: e.username ?? null,
    datePerformed: e.consumedAt,
    firstFactorCredential: {
      id: e.credential.credId,
      kind: e.credential.kind,
      publicKey: e.credential.publicKey,
      assertion: { authenticatorData: e.assertion.authenticatorData, clientData: e.assertion.clientData, signature: e.assertion.signature },
    },
  };
}

auditRoutes.get("/auth/action/logs", permit("Auth:Logs:Read"), async (c) => {
  const q = parseQuery(c, z.object({ startTime: isoDate.optional(), endTime: isoDate.optional(), userId: z.string().max(128).optional(), limit }));
  const items = await c.get("org").listUserActions({
    limit: q.limit,
    ...(q.startTime ? { since: new Date(q.startTime).toISOString() } : {}),
    ...(q.endTime ? { until: new Date(q.endTime).toISOString() } : {}),
    ...(q.userId ? { subject: q.userId } : {}),
  });
  return c.json({ items: items.map(dfnsAuditItem) });
});

auditRoutes.get("/auth/action/logs/:id", permit("Auth:Logs:Read"), async (c) => {
  const e = unwrap(await c.get("org").userActionEvidence(c.req.param("id")));
  return c.json({ ...dfnsAuditItem(e), evidence: e });
});

auditRoutes.get("/audit", permit("Auth:Logs:Read"), async (c) => {
  const q = parseQuery(
    c,
    z.object({
      limit,
      paginationToken: z.coerce.number().int().min(1).optional(),
      identityId: z.string().max(128).optional(),
      decision: z.enum(["allowed", "denied"]).optional(),
    }),
  );
  return c.json(
    await c.env.AUDIT.getByName(c.get("caller").orgId).list({
      limit: q.limit,
      ...(q.paginationToken !== undefined ? { before: q.paginationToken } : {}),
      ...(q.identityId ? { identityId: q.identityId } : {}),
      ...(q.decision ? { decision: q.decision } : {}),
    }),
  );
});
