// Dfns /v2/policies and /v2/policy-approvals. Changing policies and deciding approvals are
// permissioned (Policies:*), user-action signed (the requireUserAction middleware, for every
// POST/PUT/DELETE) and audited: each change or decision is written to the org's audit log with
// what it did, and every refusal before the answer goes out.
import type { Context } from "hono";
import { Hono } from "hono";
import type { DfnsOperation } from "../../../shared/src/dfns/operations.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError, type Outcome } from "../http/errors.js";
import { publishEvent } from "../webhooks/publish.js";
import { permit } from "../permissions/permit.js";
import { mayDecide } from "../../../shared/src/policy/approvals.js";
import { approvalDecisionSchema, listApprovalsQuery, listPoliciesQuery, policyBodySchema, type PolicyBody } from "../../../shared/src/policy/schema.js";
import type { Actor } from "./state.js";
import { approvalJson, policyJson } from "./wire.js";

export const policyRoutes = new Hono<AppEnv>();

const state = (c: Context<AppEnv>) => c.env.POLICY_STATE.getByName(c.get("caller").orgId);
const actor = (c: Context<AppEnv>): Actor => ({ userId: c.get("caller").userId, userActionId: c.get("userAction")?.actionId ?? null });

/** The value of a state outcome; a refusal is audited before it becomes the HTTP error. */
async function settled<T>(c: Context<AppEnv>, operation: DfnsOperation, outcome: Outcome<T>): Promise<T> {
  if (outcome.ok) return outcome.value;
  const caller = c.get("caller");
  await recordDecision(c, { caller, orgId: caller.orgId, operation, decision: "denied", reason: outcome.message });
  throw new ApiError(outcome.status, outcome.message);
}

/** Approvers named in a policy must be identities of this org (a typo would make a quorum unreachable). */
async function checkApprovers(c: Context<AppEnv>, body: PolicyBody): Promise<void> {
  if (body.action.kind !== "RequestApproval") return;
  const named = [...new Set(body.action.approvalGroups.flatMap((g) => g.approvers.userId?.in ?? []))];
  const org = c.get("org");
  const found = await Promise.all(named.map(async (id) => ({ id, ok: (await org.getUser(id)).ok })));
  const unknown = found.filter((f) => !f.ok).map((f) => f.id);
  if (unknown.length) throw new ApiError(400, `Invalid request: action.approvalGroups: unknown approver ${unknown.join(", ")}`);
}

function audited(c: Context<AppEnv>, operation: DfnsOperation, reason: string): void {
  const caller = c.get("caller");
  recordAllowed(c, { caller, orgId: caller.orgId, operation, reason });
}

// ── policies ────────────────────────────────────────────────────────────────────────────────

policyRoutes.post("/v2/policies", permit("Policies:Create"), async (c) => {
  const body = await parseBody(c, policyBodySchema);
  await checkApprovers(c, body);
  const policy = await state(c).createPolicy(c.get("caller").orgId, body, actor(c));
  audited(c, "Policies:Create", `policy ${policy.id} "${policy.name}" created (version 1): ${body.rule.kind} → ${body.action.kind}`);
  return c.json(policyJson(policy));
});

policyRoutes.get("/v2/policies", permit("Policies:Read"), async (c) => {
  const q = parseQuery(c, listPoliciesQuery);
  const page = await state(c).listPolicies({ limit: q.limit, ...(q.paginationToken ? { before: Number(q.paginationToken) } : {}), ...(q.status ? { status: q.status } : {}) });
  return c.json({ items: page.items.map(policyJson), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) });
});

policyRoutes.get("/v2/policies/:policyId", permit("Policies:Read"), async (c) => {
  return c.json(policyJson(await settled(c, "Policies:Read", await state(c).getPolicy(c.req.param("policyId")))));
});

policyRoutes.put("/v2/policies/:policyId", permit("Policies:Update"), async (c) => {
  const body = await parseBody(c, policyBodySchema);
  await checkApprovers(c, body);
  const policy = await settled(c, "Policies:Update", await state(c).updatePolicy(c.get("caller").orgId, c.req.param("policyId"), body, actor(c)));
  audited(c, "Policies:Update", `policy ${policy.id} "${policy.name}" updated to version ${policy.version}: ${body.rule.kind} → ${body.action.kind}`);
  return c.json(policyJson(policy));
});

policyRoutes.delete("/v2/policies/:policyId", permit("Policies:Archive"), async (c) => {
  const policy = await settled(c, "Policies:Archive", await state(c).archivePolicy(c.get("caller").orgId, c.req.param("policyId"), actor(c)));
  audited(c, "Policies:Archive", `policy ${policy.id} "${policy.name}" archived (version ${policy.version})`);
  return c.json(policyJson(policy));
});

// ── approvals ───────────────────────────────────────────────────────────────────────────────

policyRoutes.get("/v2/policy-approvals", permit("Policies:Approvals:Read"), async (c) => {
  const q = parseQuery(c, listApprovalsQuery);
  const all = await state(c).listApprovals({
    ...(q.status ? { status: q.status } : {}),
    ...(q.initiatorId ? { initiatorId: q.initiatorId } : {}),
    ...(q.paginationToken ? { before: Number(q.paginationToken) } : {}),
  });
  const matching = q.approverId ? all.filter((a) => mayDecide(a.groups, q.approverId!) || a.decisions.some((d) => d.userId === q.approverId)) : all;
  const page = matching.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json({ items: page.map(approvalJson), ...(matching.length > q.limit && last ? { nextPageToken: String(last.seq) } : {}) });
});

policyRoutes.get("/v2/policy-approvals/:approvalId", permit("Policies:Approvals:Read"), async (c) => {
  return c.json(approvalJson(await settled(c, "Policies:Approvals:Read", await state(c).getApproval(c.req.param("approvalId")))));
});

policyRoutes.post("/v2/policy-approvals/:approvalId/decisions", permit("Policies:Approvals:Approve"), async (c) => {
  const body = await parseBody(c, approvalDecisionSchema);
  const caller = c.get("caller");
  const approvalId = c.req.param("approvalId");
  const approval = await settled(
    c,
    "Policies:Approvals:Approve",
    await state(c).decideApproval(caller.orgId, approvalId, {
      userId: caller.userId,
      isServiceAccount: caller.isServiceAccount,
      value: body.value,
      reason: body.reason ?? null,
      userActionId: c.get("userAction")?.actionId ?? null,
    }),
  );
  audited(c, "Policies:Approvals:Approve", `decision ${body.value} on ${approvalId}${body.reason ? ` (${body.reason.slice(0, 200)})` : ""}; approval is ${approval.status}`);
  // Once per approval: the id is derived from it, and the webhook object records an id once.
  if (approval.status !== "Pending") await publishEvent(c.env, caller.orgId, "policy.approval.resolved", { approval: approvalJson(approval) }, `whe-resolved-${approvalId}`);
  return c.json(approvalJson(approval));
});
