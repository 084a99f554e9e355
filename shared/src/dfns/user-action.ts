// Transparent challenges. A challenge the API hands a client to sign is not an opaque hash: it is
// the base64url encoding of a self-describing statement of what the signature will mean —
//
//     base64url( UTF-8( "tessera.challenge.v1" "\n" canonicalJson(claims) ) )
//
//     claims = { kind: "UserAction", orgId, subject, method, path, bodySha256, nonce, issuedAt, expiry }
//            | { kind: "Login", orgId, nonce, issuedAt, expiry }
//
// so any client can decode the string it is about to sign and check that it describes the
// request it is making (our CLI and console do, see describesRequest), and a login can never be
// mistaken for an action (the kinds differ, and the kind is inside what the credential signs).
// The unmodified Dfns SDK still just signs the string. A verifier holding the evidence (the
// share-holder nodes) re-derives the claims from method, path and exact body and compares.
//
// canonicalJson: sorted keys, no whitespace, JSON.stringify strings, safe integers only
// (shared/src/mpc/canonical-json.ts). bodySha256 is lower-case hex of SHA-256(UTF-8(body)).
// Times are Unix seconds. Decoding is strict: a string decodes only if re-encoding its claims
// gives the same string back, so there is exactly one challenge per statement.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { canonicalJson } from "../mpc/canonical-json.js";
import { decodeBase64Url, encodeBase64Url, utf8 } from "./base64url.js";

export const CHALLENGE_DOMAIN = "tessera.challenge.v1";

/** How long a user action stays usable for a signature at the nodes, counted from issuedAt. */
export const USER_ACTION_MAX_AGE_SECONDS = 5 * 60;

export interface UserActionClaims {
  kind: "UserAction";
  orgId: string;
  /** The identity whose credential signs: a user or service-account id, or a PAT's token id. */
  subject: string;
  /** HTTP method, upper case. */
  method: string;
  /** URL pathname exactly as requested (no query, no host). */
  path: string;
  /** Lower-case hex SHA-256 of the exact request body text ("" for none). */
  bodySha256: string;
  /** Random, single use. */
  nonce: string;
  /** When the challenge was issued. */
  issuedAt: number;
  /** After this the challenge may no longer be answered. */
  expiry: number;
}

export interface LoginClaims {
  kind: "Login";
  orgId: string;
  nonce: string;
  issuedAt: number;
  expiry: number;
}

export type ChallengeClaims = UserActionClaims | LoginClaims;

/** The fields a user action commits to, with the body as text. */
export interface UserActionCommitment {
  method: string;
  path: string;
  payload: string;
  orgId: string;
  subject: string;
  nonce: string;
  issuedAt: number;
  expiry: number;
}

export function bodySha256(payload: string): string {
  return bytesToHex(sha256(utf8(payload)));
}

/** `hashBody` must compute bodySha256 (the edge passes its native SHA-256). */
export function userActionClaims(c: UserActionCommitment, hashBody: (payload: string) => string = bodySha256): UserActionClaims {
  return { kind: "UserAction", orgId: c.orgId, subject: c.subject, method: c.method, path: c.path, bodySha256: hashBody(c.payload), nonce: c.nonce, issuedAt: c.issuedAt, expiry: c.expiry };
}

export function challengeBytes(claims: ChallengeClaims): Uint8Array {
  for (const t of [claims.issuedAt, claims.expiry]) if (!Number.isSafeInteger(t) || t < 0) throw new Error("times must be non-negative integers");
  return utf8(`${CHALLENGE_DOMAIN}\n${canonicalJson(claims)}`);
}

export function encodeChallenge(claims: ChallengeClaims): string {
  return encodeBase64Url(challengeBytes(claims));
}

/** The challenge for a user action: the encoded claims of exactly this request. */
export function userActionChallenge(c: UserActionCommitment, hashBody: (payload: string) => string = bodySha256): string {
  return encodeChallenge(userActionClaims(c, hashBody));
}

const text = (v: unknown, max = 4096): v is string => typeof v === "string" && v.length <= max;
const time = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** The claims a challenge string states, or null if it is not a well-formed Tessera challenge. */
export function decodeChallenge(challenge: string): ChallengeClaims | null {
  if (challenge.length > 8192) return null;
  const bytes = decodeBase64Url(challenge);
  if (!bytes) return null;
  let body: unknown;
  try {
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const prefix = `${CHALLENGE_DOMAIN}\n`;
    if (!decoded.startsWith(prefix)) return null;
    body = JSON.parse(decoded.slice(prefix.length));
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  let claims: ChallengeClaims;
  if (b.kind === "UserAction") {
    const keys = ["bodySha256", "expiry", "issuedAt", "kind", "method", "nonce", "orgId", "path", "subject"];
    if (Object.keys(b).sort().join() !== keys.join()) return null;
    if (!text(b.orgId) || !text(b.subject) || !text(b.method, 16) || !text(b.path) || !text(b.nonce) || !time(b.issuedAt) || !time(b.expiry)) return null;
    if (typeof b.bodySha256 !== "string" || !/^[0-9a-f]{64}$/.test(b.bodySha256)) return null;
    claims = { kind: "UserAction", orgId: b.orgId, subject: b.subject, method: b.method, path: b.path, bodySha256: b.bodySha256, nonce: b.nonce, issuedAt: b.issuedAt, expiry: b.expiry };
  } else if (b.kind === "Login") {
    if (Object.keys(b).sort().join() !== "expiry,issuedAt,kind,nonce,orgId") return null;
    if (!text(b.orgId) || !text(b.nonce) || !time(b.issuedAt) || !time(b.expiry)) return null;
    claims = { kind: "Login", orgId: b.orgId, nonce: b.nonce, issuedAt: b.issuedAt, expiry: b.expiry };
  } else {
    return null;
  }
  return encodeChallenge(claims) === challenge ? claims : null;
}

export interface ExpectedRequest {
  orgId?: string;
  method: string;
  path: string;
  /** The exact body text about to be sent. */
  payload: string;
}

/**
 * What a careful client checks before signing a user-action challenge: it is a user action (not a
 * login), for this org, this method, path and exact body, issued now and short-lived. Returns the
 * reason to refuse, or null.
 */
export function challengeProblem(challenge: string, expected: ExpectedRequest | { login: true; orgId?: string }, nowSeconds: number, skewSeconds = 60): string | null {
  const claims = decodeChallenge(challenge);
  if (!claims) return "the challenge is not a Tessera challenge this client can read";
  if (expected.orgId !== undefined && claims.orgId !== expected.orgId) return `the challenge is for org ${claims.orgId}, not ${expected.orgId}`;
  if (claims.issuedAt > nowSeconds + skewSeconds) return "the challenge claims to be issued in the future";
  if (claims.expiry < nowSeconds - skewSeconds) return "the challenge has expired";
  if (claims.expiry - claims.issuedAt > USER_ACTION_MAX_AGE_SECONDS) return "the challenge is valid for longer than a user action may be";
  if ("login" in expected) return claims.kind === "Login" ? null : `the login page was handed a ${claims.kind} challenge`;
  if (claims.kind !== "UserAction") return `a ${claims.kind} challenge was offered for a user action`;
  if (claims.method !== expected.method.toUpperCase()) return `the challenge is for ${claims.method}, not ${expected.method}`;
  if (claims.path !== expected.path) return `the challenge is for ${claims.path}, not ${expected.path}`;
  if (claims.bodySha256 !== bodySha256(expected.payload)) return "the challenge is for another request body";
  return null;
}
