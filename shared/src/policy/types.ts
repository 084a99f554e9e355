// The vocabulary of layer 3: what is asked (PolicyRequest), what the org configured (Policy),
// what already happened (UsageEntry, GrantedApproval), facts gathered from outside (Facts), and
// what the engine concludes (Decision). Plain data only, so the engine stays a pure function and
// everything crosses Durable Object RPC unchanged.
import type { Action, ApprovalGroup, Filters, Rule } from "./schema.js";

export type RequestKind = "Transfer" | "Signature" | "Transaction";

export interface AssetRef {
  /** Display symbol ("ETH", "USDC"); never used to look up a price (anyone can name a token USDC). */
  symbol: string;
  decimals: number;
  /** Token contract / mint / asset id; absent for the network's native asset. */
  contract?: string;
}

/** One request to sign with a wallet (a Dfns Wallets:Sign activity), as the engine sees it. */
export interface PolicyRequest {
  kind: RequestKind;
  walletId: string;
  walletTags: string[];
  network: string;
  /** What moves, when the signing layer can tell (transfers, EVM transactions with a value). */
  asset?: AssetRef;
  /** Amount in the asset's base units (wei, satoshi…), a decimal integer string. */
  amount?: string;
  /** Recipient address, when there is one. */
  to?: string;
  /** The user (or service account) who asked: approvals exclude them unless a group allows it. */
  initiatorId: string;
}

export interface Policy {
  id: string;
  name: string;
  status: "Active" | "Archived";
  version: number;
  activityKind: "Wallets:Sign";
  rule: Rule;
  action: Action;
  filters: Filters;
  dateCreated: string;
  dateUpdated: string;
}

/**
 * One earlier request of the same wallet that counts against velocity limits: `Reserved` while
 * it is being signed or awaits approval (counts as happening now), `Committed` once signed (counts
 * while `at` is inside the window).
 */
export interface UsageEntry {
  id: string;
  walletId: string;
  state: "Reserved" | "Committed";
  /** Unix ms: reservation time while Reserved, signing time once Committed. */
  at: number;
  asset?: AssetRef;
  network: string;
  amount?: string;
  /** USD value at reservation time, if a price was known then (decimal string). */
  usdValue?: string;
}

/** An approval already granted to this very request: the policies it satisfied. */
export interface GrantedApproval {
  approvalId: string;
  policyIds: string[];
}

/** Screening of a request's recipient by a provider (see screening/). */
export type ScreeningResult =
  | { status: "Screened"; provider: string; findings: ScreeningFinding[] }
  | { status: "Unscreenable" | "UnsupportedNetwork" | "UnsupportedAsset" | "Failed"; provider: string; detail: string };

export interface ScreeningFinding {
  address: string;
  /** Provider category name; "sanctions" always triggers a prescreening policy. */
  category: string;
  /** Chainalysis category id, when the provider has one (matched against the rule's categoryIds). */
  categoryId?: number;
  alertLevel?: "LOW" | "MEDIUM" | "HIGH" | "SEVERE";
  /** Where the finding comes from, e.g. "OFAC SDN list (snapshot 2024-09-27)". */
  source: string;
}

/** Facts from outside the engine, gathered (with I/O) before it runs. */
export interface Facts {
  /** USD price of one whole unit of an asset, by priceKey(network, asset). */
  usdPrices?: Record<string, string>;
  /** The recipient's screening, when a prescreening policy applies. */
  screening?: ScreeningResult;
}

/** Why one policy did or did not trigger (Dfns's policyEvaluations item, plus what we know). */
export interface PolicyEvaluation {
  policyId: string;
  policyName: string;
  policyVersion: number;
  ruleKind: Rule["kind"];
  actionKind: Action["kind"];
  triggered: boolean;
  reason: string;
  /** Set when a RequestApproval policy is already satisfied by a granted approval. */
  approvedBy?: string;
}

/** An approval group to be satisfied, tagged with the policy that requires it. */
export interface RequiredApprovalGroup extends ApprovalGroup {
  policyId: string;
}

export type Decision =
  | { outcome: "Allowed"; evaluations: PolicyEvaluation[]; reason: string }
  | { outcome: "Blocked"; evaluations: PolicyEvaluation[]; blockedBy: string[]; reason: string }
  | {
      outcome: "RequestApproval";
      evaluations: PolicyEvaluation[];
      /** Policies whose approval is still needed. */
      policyIds: string[];
      groups: RequiredApprovalGroup[];
      /** Minutes (the shortest of the triggered policies' timeouts), or null for none. */
      autoRejectTimeout: number | null;
      reason: string;
    };
