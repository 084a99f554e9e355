// Layer 3 at the share holders: before a node contributes to a signature for a wallet of a governed
// org, it runs the same policy engine as the edge (./engine.ts) over its own copy of the org's
// policies (replayed from the governance log, shared/src/governance/log.ts) and refuses what the
// org's own governance refuses:
//   - Block → refused;
//   - RequestApproval → the ceremony request must carry the approvers' signed decisions (their
//     user actions on POST /v2/policy-approvals/:approvalId/decisions), each verified here: the
//     approver's credential and Policies:Approvals:Approve as the log establishes them, the
//     approval id derived from this very request's user action (approvalIdFor), issued after the
//     request; quorum per group, group membership, initiator exclusion and the service-account rule
//     as in ./approvals.ts; any carried denial refuses;
//   - velocity → counted over the wallet's usage log that the request carries (UsageRecord), which
//     must contain every request this node itself signed inside the window (the node checks its
//     own records; see mpc-node/src/ceremony and README "Trust model" for what that gives).
//
// What the node cannot know by itself is named as the edge's claim and checked where it can be:
// the wallet's tags and a token's decimals are the edge's word; a transfer's recipient, amount and
// token come from the user's signed body (a claim that differs is refused); a raw transaction's
// amount is the edge's word. Prescreening (Chainalysis) stays at the edge: a node has no screening
// provider. Prices are the node's own (`policyPrices` in its config), never the edge's.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { decodeChallenge } from "../dfns/user-action.js";
import { verifyUserActionEvidence } from "../dfns/user-action-evidence.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import { activePolicies, checkActor, type GovernanceState } from "../governance/log.js";
import { canonicalJson } from "../mpc/canonical-json.js";
import { canonicalAddress } from "./addresses.js";
import { resolveStatus, type RecordedDecision } from "./approvals.js";
import { applicablePolicies, decide, usageWindowMinutes } from "./engine.js";
import { priceKey } from "./price-key.js";
import type { AssetRef, Facts, Policy, PolicyRequest, RequestKind, UsageEntry } from "./types.js";

/** How long a held request may wait for its approvals before the nodes no longer sign it (30 days). */
export const HELD_REQUEST_MAX_AGE_MS = 30 * 24 * 3_600_000;

const digits = z.string().regex(/^[0-9]{1,78}$/);
export const assetRefSchema = z.strictObject({ symbol: z.string().min(1).max(32), decimals: z.int().min(0).max(60), contract: z.string().min(1).max(128).optional() });

/** One request the wallet signed, as the nodes count it for velocity. Deterministic from the authorization (usageRecordOf). */
export const usageRecordSchema = z.strictObject({
  walletId: z.string().min(1).max(128),
  /** Derived from the initiator's user action (one request, however many ceremonies it needs). */
  requestId: z.string().regex(/^[0-9a-f]{32}$/),
  /** Unix ms: when the request was asked for, or approved (the newest of the signed actions). */
  at: z.int().nonnegative(),
  network: z.string().min(1).max(64),
  kind: z.enum(["Transfer", "Signature", "Transaction"]),
  asset: assetRefSchema.optional(),
  amount: digits.optional(),
});
export type UsageRecord = z.infer<typeof usageRecordSchema>;

/** What the edge tells the nodes for a policy decision, beside the user's own signed request. */
export const signingPolicyFactsSchema = z.strictObject({
  /** The edge's claims about the request (checked against the user's body where the node can). */
  network: z.string().min(1).max(64),
  walletTags: z.array(z.string().min(1).max(64)).max(32),
  asset: assetRefSchema.optional(),
  amount: digits.optional(),
  to: z.string().min(1).max(256).optional(),
  /** The approvers' decisions on this request's approval(s), as they signed them. */
  approvals: z.array(z.unknown()).max(64),
  /** The wallet's usage log inside the longest velocity window of the org's policies. */
  usage: z.array(usageRecordSchema).max(10_000),
});
export type SigningPolicyFacts = z.infer<typeof signingPolicyFactsSchema>;

/** The approval id a held request gets: derived from its initiator's user action, so nodes can tell which request a decision is about. */
export function approvalIdFor(initiatorChallenge: string, round = 0): string {
  const h = bytesToHex(sha256(new TextEncoder().encode(`tessera.approval.v1\n${initiatorChallenge}`))).slice(0, 26);
  return round === 0 ? `ap-${h}` : `ap-${h}-${round + 1}`;
}

/** The usage record id of a request: derived from its initiator's user action. */
export function usageRequestIdOf(initiatorChallenge: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(`tessera.usage.v1\n${initiatorChallenge}`))).slice(0, 32);
}

const DECISION_PATH = /^\/v2\/policy-approvals\/([A-Za-z0-9._~-]{1,128})\/decisions$/;
const WALLET_PATH = /^\/wallets\/([A-Za-z0-9._~-]{1,128})\/(signatures|transfers|transactions)$/;
const KIND_OF: Record<string, RequestKind> = { signatures: "Signature", transfers: "Transfer", transactions: "Transaction" };

const issuedAtMs = (e: { challenge: string }): number | null => {
  const c = decodeChallenge(e.challenge);
  return c && c.kind === "UserAction" ? c.issuedAt * 1000 : null;
};

/** The wallet and kind of request a user action asks to sign, or null when it is no wallet request the policies cover. */
export function policyTargetOf(userAction: { method: string; path: string }): { walletId: string; kind: RequestKind } | null {
  if (userAction.method !== "POST") return null;
  const m = WALLET_PATH.exec(userAction.path);
  return m ? { walletId: m[1]!, kind: KIND_OF[m[2]!]! } : null;
}

/**
 * The usage record a signing adds to its wallet's log — computed alike by the edge and every node
 * from what the authorization carries: `at` is the newest issue time among the request's user
 * action and the carried approval decisions (all signed by users, so no party picks it).
 */
export function usageRecordOf(userAction: UserActionEvidence, facts: SigningPolicyFacts): UsageRecord | null {
  const target = policyTargetOf(userAction);
  if (!target) return null;
  const times = [userAction, ...(facts.approvals as UserActionEvidence[])].map((e) => (typeof e?.challenge === "string" ? issuedAtMs(e) : null)).filter((t): t is number => t !== null);
  if (times.length === 0) return null;
  return {
    walletId: target.walletId,
    requestId: usageRequestIdOf(userAction.challenge),
    at: Math.max(...times),
    network: facts.network,
    kind: target.kind,
    ...(facts.asset ? { asset: facts.asset } : {}),
    ...(facts.amount !== undefined ? { amount: facts.amount } : {}),
  };
}

/** One of this node's own records of a wallet: a request it agreed to sign under a velocity policy. */
export interface OwnUsage {
  requestId: string;
  /** canonicalJson of the record. */
  record: string;
  at: number;
}

export interface NodePolicyInput {
  state: GovernanceState;
  /** The wallet the key signs for, and its network, as this node recorded them. */
  walletId: string;
  network: string | null;
  userAction: UserActionEvidence;
  intent: { kind: string; transfer?: unknown };
  facts: SigningPolicyFacts | undefined;
  /** USD per whole unit, by priceKey (the node's own configuration). */
  prices: Record<string, string>;
  rpId: string;
  skewMs: number;
  /** Unix ms. */
  now: number;
}

export type NodePolicyCheck =
  | { ok: false; reason: string }
  | {
      ok: true;
      /** No policy of the org applies: nothing to decide, nothing recorded. */
      applies: false;
    }
  | {
      ok: true;
      applies: true;
      /** The newest issue time among the verified approving decisions carried (null: none). */
      newestApprovedAt: number | null;
      /** When a velocity policy applies: the record to add, and the window (ms) the usage log must cover. */
      usage: { record: UsageRecord; windowMs: number } | null;
      /**
       * The decision itself, run atomically with recording the usage: given this node's own records of
       * the wallet, null when the request may be signed, else why not. `held`: the initiator's action
       * is older than the nodes' cap, which only a request the policies held for approval may be
       * (and then only with the verified approvals).
       */
      decide(own: OwnUsage[], now: number, held: boolean): string | null;
    };

const pricesSeen = new WeakMap<Record<string, string>, Map<string, string>>();
/** The node's price table keyed as priceKey keys (a token contract in canonical form), computed once per table. */
function canonicalPrices(prices: Record<string, string>): Map<string, string> {
  let m = pricesSeen.get(prices);
  if (!m) {
    m = new Map(
      Object.entries(prices).map(([key, value]) => {
        const [network, contract] = key.split(":", 2);
        return [contract ? priceKey(network!, { symbol: "", decimals: 0, contract }) : network!, value];
      }),
    );
    pricesSeen.set(prices, m);
  }
  return m;
}

type VerifiedDecision = RecordedDecision & { issuedAt: number };

const refuse = (reason: string): NodePolicyCheck => ({ ok: false, reason });

/**
 * Everything a node checks about the org's policies for one signing request, except the part that
 * depends on its own usage records (returned as `decide`, to be run atomically with recording).
 */
export async function checkPolicyAtNode(input: NodePolicyInput): Promise<NodePolicyCheck> {
  const { state, userAction } = input;
  const target = policyTargetOf(userAction);
  // Keys without a wallet, and the edge's follow-ups of a request already decided (speed-up, cancel,
  // a nonce fill under the user's transfer), are outside Wallets:Sign policies.
  if (!target || input.intent.kind === "NonceFill" || input.intent.kind === "Replacement") return { ok: true, applies: false };
  if (target.walletId !== input.walletId) return refuse(`the user's request names wallet ${target.walletId}, not ${input.walletId}`);
  // Prescreening needs a screening provider the node does not have: it stays the edge's.
  const policies = activePolicies(state).filter((p) => p.rule.kind !== "ChainalysisTransactionPrescreening");
  if (policies.length === 0) return { ok: true, applies: false };

  const facts = input.facts ?? { network: input.network ?? "", walletTags: [], approvals: [], usage: [] };
  if (input.network !== null && facts.network !== input.network) return refuse(`the request claims network ${facts.network}, the wallet is on ${input.network}`);
  const request: PolicyRequest = {
    kind: target.kind,
    walletId: input.walletId,
    walletTags: facts.walletTags,
    network: input.network ?? facts.network,
    ...(facts.asset ? { asset: facts.asset } : {}),
    ...(facts.amount !== undefined ? { amount: facts.amount } : {}),
    ...(facts.to !== undefined ? { to: facts.to } : {}),
    initiatorId: userAction.subject,
  };
  if (input.intent.kind === "Transfer") {
    // The recipient, amount and token are the user's, from the body the node verified; the edge's
    // claims must say the same (compared as the chains compare addresses).
    const body = (input.intent.transfer ?? {}) as Record<string, unknown>;
    const token = [body.contract, body.mint, body.assetId, body.tokenId].find((t) => typeof t === "string") as string | undefined;
    const same = (x: string | undefined, y: string | undefined) => (x === undefined ? y === undefined : y !== undefined && canonicalAddress(x) === canonicalAddress(y));
    if (typeof body.to === "string" && !same(body.to, facts.to)) return refuse("the request's recipient is not the one the user signed");
    if (typeof body.amount === "string" && (facts.amount === undefined || BigInt(body.amount) !== BigInt(facts.amount))) return refuse("the request's amount is not the one the user signed");
    if (!same(token, facts.asset?.contract)) return refuse("the request's asset is not the one the user signed");
  }
  const applicable = applicablePolicies(request, policies);
  if (applicable.length === 0) return { ok: true, applies: false };

  const decisions = await verifyDecisions(input, facts.approvals);
  if (!decisions.ok) return refuse(decisions.reason);
  const denial = decisions.list.find((d) => d.value === "Denied");
  if (denial) return refuse(`the request was denied by ${denial.userId}`);

  const approvedTimes = decisions.list.filter((d) => d.value === "Approved").map((d) => d.issuedAt);
  const windowMs = usageWindowMinutes(request, applicable) * 60_000;
  const record = windowMs > 0 ? usageRecordOf(userAction, facts) : null;
  if (windowMs > 0 && !record) return refuse("the request's usage record cannot be derived");
  const usdPrices: Record<string, string> = {};
  const configured = canonicalPrices(input.prices);
  const price = (network: string, asset: AssetRef | undefined) => {
    if (!asset) return;
    const k = priceKey(network, asset);
    if (configured.has(k)) usdPrices[k] = configured.get(k)!;
  };
  price(request.network, request.asset);
  for (const r of facts.usage) price(r.network, r.asset);
  const policyFacts: Facts = { usdPrices };

  return {
    ok: true,
    applies: true,
    newestApprovedAt: approvedTimes.length ? Math.max(...approvedTimes) : null,
    usage: record ? { record, windowMs } : null,
    decide(own, now, held) {
      const usage = record ? usageLog(record, facts.usage, own, now - windowMs) : { ok: true as const, entries: [] };
      if (!usage.ok) return usage.reason;
      const decision = decide(request, applicable, usage.entries, [], now, policyFacts);
      if (decision.outcome === "Blocked") return `policy: ${decision.reason}`;
      if (decision.outcome === "RequestApproval") {
        const approvers = decisions.list.filter((d) => d.value === "Approved");
        if (approvers.length === 0) return `policy: ${decision.reason}; no approval was presented`;
        const status = resolveStatus({ status: "Pending", initiatorId: request.initiatorId, groups: decision.groups, decisions: approvers });
        if (status !== "Approved") return `policy: ${decision.reason}; the ${approvers.length} verified approval(s) (${approvers.map((d) => d.userId).join(", ")}) do not reach every group's quorum of eligible approvers`;
        return null;
      }
      return held ? "the user action is older than the nodes' cap, and the policies did not hold the request for approval" : null;
    },
  } satisfies NodePolicyCheck;
}

async function verifyDecisions(input: NodePolicyInput, raw: unknown[]): Promise<{ ok: true; list: VerifiedDecision[] } | { ok: false; reason: string }> {
  const base = approvalIdFor(input.userAction.challenge);
  const initiatedAt = issuedAtMs(input.userAction);
  if (initiatedAt === null) return { ok: false, reason: "the user action's challenge is not a user action" };
  const byUser = new Map<string, VerifiedDecision>();
  for (const [i, item] of raw.entries()) {
    const e = item as UserActionEvidence;
    const why = (reason: string) => ({ ok: false as const, reason: `approval decision ${i + 1}: ${reason}` });
    if (typeof e !== "object" || e === null || typeof e.challenge !== "string" || typeof e.path !== "string") return why("malformed");
    const m = e.method === "POST" ? DECISION_PATH.exec(e.path) : null;
    if (!m) return why(`${e.method} ${e.path} is not an approval decision`);
    const id = m[1]!;
    if (id !== base && !id.startsWith(`${base}-`)) return why(`approval ${id} is not this request's (${base})`);
    if (e.orgId !== input.state.orgId) return why("from another org");
    const verdict = await verifyUserActionEvidence(e, { rpId: input.rpId });
    if (!verdict.ok) return why(verdict.reason);
    const at = issuedAtMs(e);
    if (at === null) return why("its challenge is not a user action");
    if (at + input.skewMs < initiatedAt) return why("issued before the request it decides");
    if (at > input.now + input.skewMs) return why("issued in the future");
    const actor = checkActor(input.state, e.subject, e.credential.publicKey, "Policies:Approvals:Approve");
    if (!actor.ok) return why(actor.reason);
    let value: unknown;
    try {
      value = (JSON.parse(e.payload) as { value?: unknown }).value;
    } catch {
      value = undefined;
    }
    if (value !== "Approved" && value !== "Denied") return why("its body decides nothing");
    const identity = input.state.identities[e.subject];
    // The bootstrap root acts as the org's first service account (it is not an identity of the log).
    const isServiceAccount = identity ? identity.kind === "ServiceAccount" : actor.root;
    const seen = byUser.get(e.subject);
    if (!seen || seen.value === "Approved") byUser.set(e.subject, { userId: e.subject, isServiceAccount, value, issuedAt: at });
  }
  return { ok: true, list: [...byUser.values()] };
}

/**
 * The wallet's earlier usage as this node counts it: the carried log (deduplicated, this request
 * aside), which must show every request this node itself agreed to sign inside the window, exactly
 * as the node recorded it — including one whose ceremony may still be running (the edge runs one
 * velocity-governed ceremony per wallet at a time). With t > n/2 any two quorums share a node, so
 * a log that passes every participant's check holds every signed request of the window.
 */
function usageLog(record: UsageRecord, carried: UsageRecord[], own: OwnUsage[], since: number): { ok: true; entries: UsageEntry[] } | { ok: false; reason: string } {
  const byId = new Map<string, UsageRecord>();
  for (const r of carried) {
    if (r.walletId !== record.walletId) return { ok: false, reason: `the usage log carries a record of wallet ${r.walletId}` };
    const seen = byId.get(r.requestId);
    if (seen && canonicalJson(seen) !== canonicalJson(r)) return { ok: false, reason: `the usage log shows request ${r.requestId} twice, differently` };
    byId.set(r.requestId, r);
  }
  for (const o of own) {
    if (o.requestId === record.requestId) continue;
    const shown = byId.get(o.requestId);
    if (shown) {
      if (canonicalJson(shown) !== o.record) return { ok: false, reason: `the usage log shows request ${o.requestId} otherwise than this node recorded it` };
    } else if (o.at > since) {
      return { ok: false, reason: `the usage log lacks request ${o.requestId}, which this node agreed to sign for this wallet` };
    }
  }
  byId.delete(record.requestId);
  const entries: UsageEntry[] = [...byId.values()].map((r) => ({
    id: r.requestId,
    walletId: r.walletId,
    state: "Committed",
    at: r.at,
    network: r.network,
    ...(r.asset ? { asset: r.asset } : {}),
    ...(r.amount !== undefined ? { amount: r.amount } : {}),
  }));
  return { ok: true, entries };
}

export type { Policy };
