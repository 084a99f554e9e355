// The user-action commitment. A user action challenge is not a random nonce: it is the SHA-256 of a
// canonical encoding of exactly what the caller asked to do (method, path, body), for whom (org and
// subject), once (nonce) and until when (expiry). The credential signs clientData containing this
// challenge, so the signature is evidence of intent that anyone holding the fields can re-check —
// in particular the share-holder nodes, which recompute it before taking part in a signature.
import { sha256 } from "@noble/hashes/sha2.js";
import { encodeBase64Url, utf8 } from "./base64url.js";

export const USER_ACTION_DOMAIN = "tessera.user-action.v1";

export interface UserActionCommitment {
  /** HTTP method of the action, upper case (POST, PUT, DELETE). */
  method: string;
  /** URL pathname of the action, exactly as requested (no query, no host). */
  path: string;
  /** The exact request body text ("" for none). */
  payload: string;
  orgId: string;
  /** The identity whose credential signs: a user or service-account id, or a PAT's token id. */
  subject: string;
  /** Random, single use. */
  nonce: string;
  /** Unix time in seconds after which the challenge is void. */
  expiry: number;
}

/**
 * Canonical encoding: a JSON object with keys in ascending code-unit order, no whitespace,
 * strings escaped as JSON.stringify does (fully specified by ECMA-262), the expiry as a decimal
 * integer, plus a domain tag so the bytes can never be mistaken for another message.
 */
export function canonicalUserActionBytes(c: UserActionCommitment): Uint8Array {
  if (!Number.isSafeInteger(c.expiry) || c.expiry < 0) throw new Error("expiry must be a non-negative integer");
  const fields: Record<string, string | number> = {
    domain: USER_ACTION_DOMAIN,
    expiry: c.expiry,
    method: c.method,
    nonce: c.nonce,
    orgId: c.orgId,
    path: c.path,
    payload: c.payload,
    subject: c.subject,
  };
  const body = Object.keys(fields)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${typeof fields[k] === "number" ? String(fields[k]) : JSON.stringify(fields[k])}`)
    .join(",");
  return utf8(`{${body}}`);
}

/** challenge = base64url(SHA-256(canonical encoding)). */
export function userActionChallenge(c: UserActionCommitment): string {
  return encodeBase64Url(sha256(canonicalUserActionBytes(c)));
}
