// The Dfns /v2/policies and /v2/policy-approvals request bodies (shapes of @dfns/sdk 0.8.21,
// generated/policies/types.d.ts), validated at the edge. This server evaluates the Wallets:Sign
// activity; the other activity kinds Dfns defines (Policies:Modify, Permissions:*, Registry:*)
// and the vendor prescreenings it cannot run (GlobalLedger, Notabene travel rule) are refused with
// a 400 that says so, rather than stored and silently never enforced.
import { z } from "zod";
import { DecimalError, parseDecimal } from "./decimal.js";

const id = z.string().min(1).max(128);

/** A limit as the SDK sends it (a JSON number), or a decimal string; must be exact and ≥ 0. */
const amountLimit = z.union([z.number(), z.string().max(80)]).superRefine((v, ctx) => {
  try {
    if (parseDecimal(v).units < 0n) ctx.addIssue({ code: "custom", message: "must not be negative" });
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof DecimalError ? err.message : "not a decimal number" });
  }
});

/** Minutes, as Dfns bounds them: 1 minute to 30 days. */
const timeframe = z.number().int().min(1).max(43_200);
const currency = z.literal("USD");
const categoryIds = z.array(z.number().int().min(0).max(1_000_000)).max(200);

export const ruleSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("AlwaysTrigger"), configuration: z.object({}).optional() }),
  z.object({
    kind: z.literal("TransactionRecipientWhitelist"),
    configuration: z.object({ addresses: z.array(z.string().trim().min(1).max(256)).min(1).max(1_000) }),
  }),
  z.object({ kind: z.literal("TransactionAmountLimit"), configuration: z.object({ limit: amountLimit, currency }) }),
  z.object({ kind: z.literal("TransactionAmountVelocity"), configuration: z.object({ limit: amountLimit, currency, timeframe }) }),
  z.object({ kind: z.literal("TransactionCountVelocity"), configuration: z.object({ limit: z.number().int().min(0).max(1_000_000_000), timeframe }) }),
  z.object({
    kind: z.literal("ChainalysisTransactionPrescreening"),
    configuration: z.object({
      alerts: z.object({ alertLevel: z.enum(["LOW", "MEDIUM", "HIGH", "SEVERE"]), categoryIds }),
      exposures: z.object({ direct: z.object({ categoryIds }) }),
      addresses: z.object({ categoryIds }),
      userIdTemplate: z.string().max(256).optional(),
      fallbackBehaviours: z.object({
        skipUnscreenableTransaction: z.boolean(),
        skipUnsupportedNetwork: z.boolean(),
        skipUnsupportedAsset: z.boolean(),
        skipChainalysisFailure: z.boolean(),
      }),
    }),
  }),
]);
export type Rule = z.infer<typeof ruleSchema>;
export type RuleKind = Rule["kind"];

export const approvalGroupSchema = z.object({
  name: z.string().max(128).optional(),
  quorum: z.number().int().min(1).max(100),
  /** `{}` = anyone allowed to decide approvals; `{userId: {in}}` = only these users. */
  approvers: z.object({ userId: z.object({ in: z.array(id).min(1).max(100) }).optional() }),
  initiatorCanApprove: z.boolean().optional(),
  serviceAccountsCanApprove: z.boolean().optional(),
});
export type ApprovalGroup = z.infer<typeof approvalGroupSchema>;

export const actionSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("RequestApproval"),
    approvalGroups: z.array(approvalGroupSchema).min(1).max(10),
    /** Minutes after which a still-pending approval is rejected; null or absent = never. */
    autoRejectTimeout: z.number().int().min(1).max(525_600).nullable().optional(),
  }),
  z.object({ kind: z.literal("Block") }),
  z.object({ kind: z.literal("NoAction") }),
]);
export type Action = z.infer<typeof actionSchema>;

/** Strict: a misspelt filter must be refused, not dropped (which would widen the policy's scope). */
export const filtersSchema = z.strictObject({
  walletId: z.object({ in: z.array(id).min(1).max(1_000) }).optional(),
  walletTags: z
    .object({ hasAny: z.array(z.string().min(1).max(128)).min(1).max(100).optional(), hasAll: z.array(z.string().min(1).max(128)).min(1).max(100).optional() })
    .refine((t) => t.hasAny !== undefined || t.hasAll !== undefined, { message: "needs hasAny or hasAll" })
    .optional(),
  /** Tessera addition: the networks (Dfns names) the policy applies to, e.g. one rule per chain. */
  network: z.object({ in: z.array(z.string().min(1).max(64)).min(1).max(200) }).strict().optional(),
});
export type Filters = z.infer<typeof filtersSchema>;

const SUPPORTED_ACTIVITY = "Wallets:Sign";
const DFNS_ACTIVITY_KINDS = ["Wallets:Sign", "Wallets:IncomingTransaction", "Permissions:Assign", "Permissions:Modify", "Policies:Modify", "Registry:Addresses:Modify", "Registry:ContractSchemas:Modify"];

/** POST /v2/policies and PUT /v2/policies/:id (Dfns sends the whole policy on update). */
export const policyBodySchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    activityKind: z.string().max(64),
    rule: z.looseObject({ kind: z.string().max(64) }),
    action: z.looseObject({ kind: z.string().max(64) }),
    filters: z.unknown().optional(),
  })
  .superRefine((body, ctx) => {
    if (body.activityKind !== SUPPORTED_ACTIVITY) {
      const known = DFNS_ACTIVITY_KINDS.includes(body.activityKind);
      ctx.addIssue({ code: "custom", path: ["activityKind"], message: known ? `${body.activityKind} policies are not supported by this server (only ${SUPPORTED_ACTIVITY})` : "unknown activity kind" });
    }
  })
  .transform((body, ctx) => {
    const rule = ruleSchema.safeParse(body.rule);
    if (!rule.success) return reject(ctx, "rule", rule.error);
    const action = actionSchema.safeParse(body.action);
    if (!action.success) return reject(ctx, "action", action.error);
    const filters = filtersSchema.safeParse(body.filters ?? {});
    if (!filters.success) return reject(ctx, "filters", filters.error);
    if (action.data.kind === "RequestApproval") {
      action.data.approvalGroups.forEach((g, i) => {
        const named = g.approvers.userId?.in;
        if (named && new Set(named).size < g.quorum) {
          ctx.addIssue({ code: "custom", path: ["action", "approvalGroups", i, "quorum"], message: "quorum is larger than the number of approvers" });
        }
      });
    }
    return { name: body.name, activityKind: "Wallets:Sign" as const, rule: rule.data, action: action.data, filters: filters.data };
  });
export type PolicyBody = z.output<typeof policyBodySchema>;

function reject(ctx: z.RefinementCtx, field: string, error: z.ZodError): never {
  const first = error.issues[0];
  ctx.addIssue({ code: "custom", path: [field, ...(first?.path ?? [])] as (string | number)[], message: first?.message ?? "invalid" });
  return z.NEVER;
}

export const approvalDecisionSchema = z.object({ value: z.enum(["Approved", "Denied"]), reason: z.string().max(1_024).optional() });

const limitQuery = z.coerce.number().int().min(1).max(500).default(100);
const pageToken = z.string().max(64).regex(/^\d+$/, "not a pagination token").optional();

export const listPoliciesQuery = z.object({ limit: limitQuery, paginationToken: pageToken, status: z.enum(["Active", "Archived"]).optional() });
export const listApprovalsQuery = z.object({
  limit: limitQuery,
  paginationToken: pageToken,
  status: z.enum(["Pending", "Approved", "Denied", "Expired"]).optional(),
  initiatorId: id.optional(),
  approverId: id.optional(),
});
