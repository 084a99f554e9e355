// Layer 4's contract with layers 1–3 (interfaces only: the threshold-signing coordinator that
// implements them talks to the share-holder nodes in mpc-node/, and is built there and here later).
//
// A signing session starts only with a SigningAuthorization, which carries the *end user's own
// evidence*, not just the edge's word: each node re-runs verifyUserActionEvidence
// (shared/src/dfns/user-action-evidence.ts) — recomputing the commitment from method, path and
// exact body, and verifying the credential signature — and checks that the body it is asked to sign
// for is the body the user signed. A compromised edge therefore cannot invent a user's intent; it
// could still lie about which credential belongs to whom, which is why nodes should in time keep
// their own credential registry (each registration is itself user-action signed by an existing
// credential, back to the bootstrap key).
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";

export interface SigningRequester {
  orgId: string;
  userId: string;
  tokenId: string;
  /** The identity whose credential signed (user / service account id, or PAT token id). */
  identityId: string;
}

/** What the policy engine (layer 3) decided, with the approval that unblocked it if any. */
export type PolicyOutcome = { decision: "NoAction" } | { decision: "Approved"; approvalId: string; approverIds: string[] };

export interface SigningAuthorization {
  requester: SigningRequester;
  /** The spent user action for the request that asked for this signature (c.get("userAction")). */
  userAction: UserActionEvidence;
  policy: PolicyOutcome;
}

export type SignatureScheme = { scheme: "ECDSA"; curve: "secp256k1" } | { scheme: "EdDSA"; curve: "ed25519" } | { scheme: "Schnorr"; curve: "secp256k1" };

export interface KeyGenerationRequest {
  keyId: string;
  scheme: SignatureScheme;
  authorization: SigningAuthorization;
}

export interface GeneratedKey {
  keyId: string;
  /** Hex, no 0x: compressed SEC1 for secp256k1, 32 bytes for ed25519. */
  publicKey: string;
}

export interface SignatureRequest {
  keyId: string;
  /** Exactly the bytes to sign (a 32-byte digest for ECDSA/Schnorr, the message for EdDSA), hex. */
  message: string;
  /** How the message was derived from the user's request, so nodes can recompute it (e.g. "Eip1559", "Hash"). */
  derivation: { kind: string; requestBody: string; /** The intent the nodes check (shared/src/mpc/intent.ts), from the chain family. */ intent?: unknown };
  authorization: SigningAuthorization;
}

export interface ThresholdSignature {
  r: string;
  s: string;
  recid?: 0 | 1;
  /** DER (ECDSA) or 64-byte (EdDSA/Schnorr) encoding, hex. */
  encoded: string;
}

/**
 * A coordinator's sign() failed because the share holders refused the request under the org's
 * signed policies (the edge may then decide again: a policy may have landed since its gate ran).
 * Chain families keep it as the `cause` of the failure they report.
 */
export class PolicyRefusalError extends Error {
  override readonly name = "PolicyRefusalError";
}

/** Was `err`, or any error it was caused by, the share holders' policy refusal? */
export function refusedByPolicy(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (e instanceof PolicyRefusalError) return true;
  return false;
}

/** Implemented by the coordinator of the share-holder nodes (layer 4). */
export interface SigningCoordinator {
  generateKey(request: KeyGenerationRequest): Promise<GeneratedKey>;
  sign(request: SignatureRequest): Promise<ThresholdSignature>;
}
