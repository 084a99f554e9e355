// The contract between layer 3 and the signing layer (wallets / signatures / transfers routes and
// the signing coordinator). gate.ts implements it; worker/src/policy/README.md explains it.
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import type { PolicyOutcome, SigningRequester } from "../signing/authorization.js";
import type { Decision, PolicyRequest } from "../../../shared/src/policy/types.js";

/** What the signing layer hands the gate for one Wallets:Sign request. */
export interface GateInput {
  /** The signing layer's id for this request (transfer / transaction / signature id). Idempotency key. */
  requestId: string;
  request: PolicyRequest;
  /**
   * The Dfns approval `activity` shown to approvers, e.g.
   * `{kind: "Wallets:Sign", transferRequest: {id, walletId, network, requester, requestBody, status, dateRequested}}`.
   */
  activity: Record<string, unknown>;
  requester: SigningRequester;
  /** The initiator's spent user action (c.get("userAction")): kept with a held request. */
  userAction: UserActionEvidence | null;
  /** Opaque to layer 3: whatever the signing layer needs to carry on after an approval. */
  resume: { kind: string; payload: unknown };
  /** For the audit line (the route that asked). */
  http: { method: string; path: string };
}

/** A velocity reservation: commit it when the signature exists, release it when signing fails. */
export interface Reservation {
  orgId: string;
  reservationId: string;
  requestId: string;
}

/**
 * What the share holders need to judge a signing request under the org's policies themselves
 * (PolicyState.signingFacts): the request as the gate saw it, by its initiator's user action, the
 * user actions of the approvals granted to it, the longest velocity window of the active policies.
 */
export interface SigningFacts {
  request: PolicyRequest | null;
  approvalActionIds: string[];
  usageWindowMs: number;
}

export type GateResult =
  | {
      status: "Allowed";
      reservation: Reservation;
      policy: PolicyOutcome;
      reason: string;
      decision: Decision;
      /** The request's signing facts as of the decision (when it carried a user action): handed to the signing coordinator instead of it asking the policy object again. */
      signingFacts?: SigningFacts;
    }
  | { status: "Blocked"; reason: string; decision: Decision }
  | { status: "Pending"; approvalId: string; reason: string; decision: Decision };

/** Delivered (at least once) when a held request's approval resolves. */
export type ResumeEvent =
  | {
      outcome: "Approved";
      orgId: string;
      requestId: string;
      approvalId: string;
      input: GateInput;
      /** Still reserved for this request: commit after signing, release on failure. */
      reservation: Reservation;
      /** Goes into SigningAuthorization.policy. */
      policy: Extract<PolicyOutcome, { decision: "Approved" }>;
    }
  | {
      outcome: "Rejected";
      orgId: string;
      requestId: string;
      approvalId: string;
      input: GateInput;
      /** Why: denied by whom, expired, or blocked when re-checked at approval time. */
      reason: string;
    };

/**
 * Registered by the signing layer (registerResumeHandler in gate.ts). Runs inside the org's
 * PolicyState alarm, so it should hand the work off quickly (e.g. to a signing Durable Object)
 * and be idempotent by requestId: a throw means "not delivered" and the event is retried with
 * backoff (8 attempts), after which an Approved request's reservation is released.
 */
export type ResumeHandler = (env: Cloudflare.Env, event: ResumeEvent) => Promise<void>;
