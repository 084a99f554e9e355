// Layer 3 as the broadcast layer sees it. Every transfer and broadcast transaction is evaluated
// before anything is built or signed. A verdict may hold a reservation (e.g. a velocity limit's
// budget): it is committed once the transaction reached the chain, released if it never could.
import type { PolicyOutcome } from "../signing/authorization.js";
import type { Requester } from "./wire.js";

export interface SignActivity {
  kind: "Transfer" | "Transaction";
  orgId: string;
  walletId: string;
  network: string;
  requester: Requester;
  /** The request body exactly as the user signed it. */
  requestBody: unknown;
  /** The on-chain recipient and amount when the request says them (transfers; calls' value). */
  to?: string;
  amount?: string;
  asset?: { kind: "Native" } | { kind: "Erc20"; contract: string };
}

export type PolicyVerdict =
  | { kind: "Allowed"; outcome: PolicyOutcome; reservationId?: string }
  | { kind: "Blocked"; reason: string; policyId?: string }
  | { kind: "ApprovalRequired"; approvalId: string; reservationId?: string };

export interface TransferPolicyGate {
  evaluate(activity: SignActivity): Promise<PolicyVerdict>;
  commit(reservationId: string): Promise<void>;
  release(reservationId: string): Promise<void>;
}
