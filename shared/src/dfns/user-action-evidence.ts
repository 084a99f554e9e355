// Independent re-verification of a spent user action, for anyone who does not trust the edge:
// the share-holder nodes run this before they take part in a signature. From the evidence alone
// it checks that the challenge is a UserAction statement (./user-action.ts) of exactly these
// fields (method, path, SHA-256 of the body, org, subject, nonce, expiry) — a Login challenge or
// anything else is refused — that the credential's clientData carries exactly that challenge,
// and verifies the credential signature.
// (Whether the credential really belongs to the subject is the caller's to know — see
// worker/src/signing/authorization.ts.) Stateless: passkey counters are not checked here.
import { decodeBase64Url, encodeBase64Url, utf8 } from "./base64url.js";
import { constantTimeEqual, verifyKeyAssertion, type AssertionCheck } from "./key-assertion.js";
import { parsePublicKeyPem, verifyWithPublicKey, type NativeVerify } from "./public-key.js";
import { decodeChallenge, userActionChallenge } from "./user-action.js";
import type { UserActionEvidence } from "./wire.js";

export interface EvidenceExpectations {
  /** What the verifier is about to do must be what was signed. */
  method?: string;
  path?: string;
  payload?: string;
  orgId?: string;
  /** Unix seconds "now"; the evidence must not be used after its expiry. Omit to skip. */
  now?: number;
  /** WebAuthn relying party id passkeys are bound to. */
  rpId?: string;
  /** The runtime's own synchronous signature check, if it has one (NativeVerify). */
  native?: NativeVerify;
}

export async function verifyUserActionEvidence(e: UserActionEvidence, expect: EvidenceExpectations = {}): Promise<AssertionCheck> {
  for (const field of ["method", "path", "payload", "orgId"] as const) {
    const wanted = expect[field];
    if (wanted !== undefined && !constantTimeEqual(wanted, e[field])) return { ok: false, reason: `${field} differs from what was signed` };
  }
  if (expect.now !== undefined && e.expiry <= expect.now) return { ok: false, reason: "user action expired" };
  const claims = decodeChallenge(e.challenge);
  if (!claims) return { ok: false, reason: "challenge is not a Tessera challenge" };
  if (claims.kind !== "UserAction") return { ok: false, reason: `a ${claims.kind} challenge is not a user action` };
  const challenge = userActionChallenge({ method: e.method, path: e.path, payload: e.payload, orgId: e.orgId, subject: e.subject, nonce: e.nonce, issuedAt: claims.issuedAt, expiry: e.expiry });
  if (!constantTimeEqual(challenge, e.challenge)) return { ok: false, reason: "challenge is not the commitment to these fields" };

  if (e.credential.kind === "Key") {
    return verifyKeyAssertion({ publicKeyPem: e.credential.publicKey, expectedChallenge: challenge, expectedType: "key.get", clientData: e.assertion.clientData, signature: e.assertion.signature, ...(expect.native ? { native: expect.native } : {}) });
  }
  return verifyPasskeyAssertion(e, challenge, expect.rpId ?? "localhost", expect.native);
}

/** The WebAuthn assertion checks that need no state: type, challenge, RP id hash, UP+UV, signature. */
async function verifyPasskeyAssertion(e: UserActionEvidence, challenge: string, rpId: string, native?: NativeVerify): Promise<AssertionCheck> {
  const clientDataBytes = decodeBase64Url(e.assertion.clientData);
  const authData = e.assertion.authenticatorData ? decodeBase64Url(e.assertion.authenticatorData) : null;
  const signature = decodeBase64Url(e.assertion.signature);
  if (!clientDataBytes || !authData || !signature || authData.length < 37) return { ok: false, reason: "malformed passkey assertion" };
  let clientData: { type?: unknown; challenge?: unknown };
  try {
    clientData = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(clientDataBytes)) as typeof clientData;
  } catch {
    return { ok: false, reason: "clientDataJSON is not JSON" };
  }
  if (clientData.type !== "webauthn.get") return { ok: false, reason: "clientDataJSON type must be webauthn.get" };
  if (clientData.challenge !== encodeBase64Url(utf8(challenge)) && clientData.challenge !== challenge) return { ok: false, reason: "clientDataJSON challenge does not match" };
  const rpIdHash = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(rpId) as Uint8Array<ArrayBuffer>));
  if (!rpIdHash.every((b, i) => b === authData[i])) return { ok: false, reason: "authenticatorData is for another relying party" };
  const flags = authData[32]!;
  if ((flags & 0x01) === 0 || (flags & 0x04) === 0) return { ok: false, reason: "user presence and verification required" };
  const key = parsePublicKeyPem(e.credential.publicKey);
  if (!key) return { ok: false, reason: "credential public key is unusable" };
  const clientDataHash = new Uint8Array(await crypto.subtle.digest("SHA-256", clientDataBytes as Uint8Array<ArrayBuffer>));
  const signed = new Uint8Array(authData.length + 32);
  signed.set(authData);
  signed.set(clientDataHash, authData.length);
  return (await verifyWithPublicKey(key, signed, signature, native)) ? { ok: true } : { ok: false, reason: "passkey signature is invalid" };
}
