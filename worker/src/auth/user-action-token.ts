// The X-DFNS-USERACTION token: self-contained and sealed, so POST /auth/action issues it in the
// Worker without a Durable Object call or a stored row.
//
//     token = "ua-" base64url( JSON(UserActionToken) ) "." base64url( HMAC-SHA-256( userActionKey, "tessera.user-action-token.v1" \n body ) )
//
// It carries what the spend needs to decide and to build the evidence the nodes verify: the
// answered challenge with its identifier, the caller's token id (so the MAC binds it), the
// credential that signed, its assertion and counter, the action's id, signing time and expiry.
// Whoever holds the key could forge one, but the key is derived from the token-signing key
// (tokens.ts userActionKey): such a party could already mint bearer tokens, and the nodes verify
// the credential's signature in the evidence for themselves. What only the org can decide — the
// credential still active, the counter still increasing, the challenge spent once — is decided
// when the token is spent, under the org's lock (sessions.ts spendUserAction).
//
// Tokens issued before this format (random ids looked up in `user_actions`) are refused as invalid
// after a deploy: they lived at most 5 minutes, and the client simply asks for a new one.
import { decodeBase64Url, encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import type { Env } from "../env.js";
import { userActionKey } from "./tokens.js";

const TOKEN_DOMAIN = "tessera.user-action-token.v1";
/** Far above a real token (about 2 KB with a passkey's clientDataJSON); refused before any MAC. */
const MAX_TOKEN_CHARS = 8_192;
const encoder = new TextEncoder();

export interface UserActionToken {
  actionId: string;
  /** The caller's bearer token id: only that token may spend it. */
  tokenId: string;
  /** The sealed challenge's identifier (challenge-seal.ts): recorded when spent, so it is spent once. */
  challengeIdentifier: string;
  /** The UserAction statement the credential signed (shared/src/dfns/user-action.ts). */
  challenge: string;
  credentialUuid: string;
  /** The passkey's counter in this assertion (0 for a key credential). */
  signCount: number;
  assertion: UserActionEvidence["assertion"];
  signedAt: string;
  /** Unix seconds after which it cannot be spent. */
  expiresAt: number;
}

async function mac(env: Env, body: string): Promise<string> {
  const tag = await crypto.subtle.sign("HMAC", await userActionKey(env), encoder.encode(`${TOKEN_DOMAIN}\n${body}`));
  return encodeBase64Url(new Uint8Array(tag));
}

export async function sealUserActionToken(env: Env, t: UserActionToken): Promise<string> {
  const body = encodeBase64Url(encoder.encode(JSON.stringify(t)));
  return `ua-${body}.${await mac(env, body)}`;
}

/** The token's contents if its MAC is this deployment's (a full recomputation, compared in constant time), else null. */
export async function openUserActionToken(env: Env, token: string): Promise<UserActionToken | null> {
  if (!token.startsWith("ua-") || token.length > MAX_TOKEN_CHARS) return null;
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const body = token.slice(3, dot);
  if (!constantTimeEqual(token.slice(dot + 1), await mac(env, body))) return null;
  // Past the MAC the body is one this deployment wrote.
  const bytes = decodeBase64Url(body);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as UserActionToken;
  } catch {
    return null;
  }
}
