// Verification of a "Key" credential assertion as the Dfns key signer makes it (keysigner 0.8.3):
// clientData = UTF-8 JSON {"type":"key.get","challenge":<challenge>}, signed with the credential's
// private key, both base64url. Shared so the share-holder nodes can re-check the same evidence.
import { decodeBase64Url } from "./base64url.js";
import { parsePublicKeyPem, verifyWithPublicKey, type NativeVerify } from "./public-key.js";

export type AssertionCheck = { ok: true } | { ok: false; reason: string };

export async function verifyKeyAssertion(input: {
  publicKeyPem: string;
  expectedChallenge: string;
  /** "key.get" for assertions (login, user actions), "key.create" for registration. */
  expectedType: "key.get" | "key.create";
  clientData: string;
  signature: string;
  /** The runtime's own synchronous signature check, if it has one (NativeVerify). */
  native?: NativeVerify;
}): Promise<AssertionCheck> {
  const clientDataBytes = decodeBase64Url(input.clientData);
  const signature = decodeBase64Url(input.signature);
  if (!clientDataBytes || !signature) return { ok: false, reason: "clientData and signature must be base64url" };
  let clientData: unknown;
  try {
    clientData = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(clientDataBytes));
  } catch {
    return { ok: false, reason: "clientData is not JSON" };
  }
  if (typeof clientData !== "object" || clientData === null) return { ok: false, reason: "clientData is not an object" };
  const cd = clientData as Record<string, unknown>;
  if (cd.type !== input.expectedType) return { ok: false, reason: `clientData type must be ${input.expectedType}` };
  if (typeof cd.challenge !== "string" || !constantTimeEqual(cd.challenge, input.expectedChallenge)) {
    return { ok: false, reason: "clientData challenge does not match" };
  }
  const key = parsePublicKeyPem(input.publicKeyPem);
  if (!key) return { ok: false, reason: "credential public key is unusable" };
  if (!(await verifyWithPublicKey(key, clientDataBytes, signature, input.native))) return { ok: false, reason: "signature is invalid" };
  return { ok: true };
}

/** Compares two strings without an early exit on the first differing character. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
