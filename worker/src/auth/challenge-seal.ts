// User-action challenges without a stored row. POST /auth/action/init makes the challenge in the
// Worker (no Durable Object call) and names it by a MAC instead of a database id:
//
//     challengeIdentifier = "ch-" base64url( HMAC-SHA-256( sealKey, "tessera.user-action.v1" \n tokenId \n challenge ) )
//
// The challenge is the transparent statement of shared/src/dfns/user-action.ts (org, subject,
// method, path, body hash, random nonce, issuedAt, expiry), so the seal binds every one of those
// and the caller's token. The answer (POST /auth/action, also in the Worker) brings the challenge
// back inside the credential's clientData; the MAC is recomputed with the answering token before
// anything else is looked at, so a challenge altered in any field, or answered on another token,
// names nothing. Single use is the org's, at the spend: the identifier is recorded when the
// user action made from it is spent (until a day past its expiry), and a second spend from the
// same challenge is refused (sessions.ts spendUserAction).
//
// The key is derived from the deployment's token-signing key (tokens.ts sealKey): whoever could
// forge a seal could already mint bearer tokens, so it widens nothing at the edge. The share-holder
// nodes never see or rely on it: they verify the credential's signature over the challenge and
// re-derive its claims from the exact request (shared/src/dfns/user-action-evidence.ts).
import { decodeBase64Url, encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import { decodeChallenge, type UserActionClaims } from "../../../shared/src/dfns/user-action.js";
import type { Env } from "../env.js";
import { sealKey } from "./tokens.js";

const SEAL_DOMAIN = "tessera.user-action.v1";
const encoder = new TextEncoder();

function sealInput(tokenId: string, challenge: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${SEAL_DOMAIN}\n${tokenId}\n${challenge}`);
}

/** The identifier that names `challenge` for the token `tokenId`. */
export async function sealChallenge(env: Env, tokenId: string, challenge: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await sealKey(env), sealInput(tokenId, challenge));
  return `ch-${encodeBase64Url(new Uint8Array(mac))}`;
}

/** Whether `identifier` is the seal of `challenge` for `tokenId` (a full recomputation, compared in constant time). */
export async function sealMatches(env: Env, identifier: string, tokenId: string, challenge: string): Promise<boolean> {
  if (!identifier.startsWith("ch-") || identifier.length !== 46) return false;
  return constantTimeEqual(identifier, await sealChallenge(env, tokenId, challenge));
}

/**
 * The user-action challenge an answer's clientData carries, decoded, or null. A key credential's
 * clientData holds the challenge string itself; a passkey's clientDataJSON holds it as is or as
 * base64url of its UTF-8 bytes (what a browser makes of the string). The seal, checked next,
 * decides whether it is one of ours; the credential's signature over exactly this clientData is
 * verified after that.
 */
export function answeredChallenge(clientData: string): { challenge: string; claims: UserActionClaims } | null {
  if (clientData.length > 16_384) return null;
  const bytes = decodeBase64Url(clientData);
  if (!bytes) return null;
  let presented: unknown;
  try {
    presented = (JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as { challenge?: unknown }).challenge;
  } catch {
    return null;
  }
  if (typeof presented !== "string") return null;
  for (const candidate of [presented, utf8OfBase64Url(presented)]) {
    if (candidate === null) continue;
    const claims = decodeChallenge(candidate);
    if (claims?.kind === "UserAction") return { challenge: candidate, claims };
  }
  return null;
}

function utf8OfBase64Url(text: string): string | null {
  const bytes = decodeBase64Url(text);
  if (!bytes) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
