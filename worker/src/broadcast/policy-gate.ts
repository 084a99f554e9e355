// Layer 3 as the broadcast layer sees it: the policy engine's verdict on a request (evaluated in
// the route, before anything is built or signed), and the reservation it may hold for a velocity
// limit. The engine commits the reservation once the signed transaction exists and releases it if
// the request fails before that (or is rejected), through its outbox, so neither is ever lost.
import type { Reservation } from "../policy/contract.js";
import type { PolicyOutcome } from "../signing/authorization.js";

export type { Reservation };

export type PolicyVerdict =
  | { kind: "Allowed"; outcome: PolicyOutcome; reservation?: Reservation }
  | { kind: "Blocked"; reason: string }
  | { kind: "ApprovalRequired"; approvalId: string };

/** The policy engine's resume kind for this layer's held requests (approval-resume.ts). */
export const RESUME_KIND = "broadcast";
