// Bearer tokens are JWTs (ES256) signed with the deployment key. The JWT proves who issued it and
// to whom; whether it is still valid (not revoked, identity still active) is asked of the org's
// Durable Object on every request, by its `jti` token id.
import { importJWK, importPKCS8, exportJWK, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey as JoseKey } from "jose";
import { decodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import type { Env } from "../env.js";
import type { SigningKeyJwk } from "../deployment/deployment.js";

/** Dfns's claim namespace; the SDK reads `orgId` from it when a client passes `orgId`. */
export const APP_METADATA_CLAIM = "https://custom/app_metadata";
const ISSUER = "tessera";
const API_AUDIENCE = "tessera-api";
const REGISTRATION_AUDIENCE = "tessera-registration";

/** Login: a user's session. ServiceAccount / Pat: long-lived, revocable. Registration: one signup. */
export type TokenKind = "Login" | "ServiceAccount" | "Pat" | "Registration";

export const LOGIN_TOKEN_SECONDS = 60 * 60;
export const REGISTRATION_TOKEN_SECONDS = 10 * 60;

export interface TokenClaims {
  orgId: string;
  userId: string;
  tokenId: string;
  tokenKind: TokenKind;
}

interface KeyPair {
  privateKey: JoseKey | Uint8Array;
  publicKey: JoseKey | Uint8Array;
  kid: string;
  /** HMAC-SHA-256 key derived from the signing key (HKDF), for what this deployment seals for itself (auth/challenge-seal.ts). */
  sealKey: CryptoKey;
  /** Another, for user-action tokens (auth/user-action-token.ts): a challenge seal can never pass for a token's MAC. */
  userActionKey: CryptoKey;
}

const SEAL_KEY_INFO = "tessera.edge.seal.v1";
const USER_ACTION_KEY_INFO = "tessera.edge.user-action-token.v1";

// One import per isolate: the key never changes while the isolate lives.
let keyPair: Promise<KeyPair> | undefined;

async function loadKeys(env: Env): Promise<KeyPair> {
  let jwk: SigningKeyJwk;
  if (env.TOKEN_SIGNING_KEY) {
    const imported = await importPKCS8(env.TOKEN_SIGNING_KEY, "ES256", { extractable: true });
    jwk = (await exportJWK(imported)) as SigningKeyJwk;
  } else {
    jwk = await env.DEPLOYMENT.getByName("deployment").tokenSigningKey();
  }
  const { d: _secret, ...publicJwk } = jwk;
  const kid = await thumbprint(publicJwk);
  return {
    privateKey: await importJWK({ ...jwk, alg: "ES256" }, "ES256"),
    publicKey: await importJWK({ ...publicJwk, alg: "ES256" }, "ES256"),
    kid,
    sealKey: await deriveSealKey(jwk.d, SEAL_KEY_INFO),
    userActionKey: await deriveSealKey(jwk.d, USER_ACTION_KEY_INFO),
  };
}

// A key of its own for sealing, so a MAC can never be confused with a token signature; derived
// rather than configured, so a deployment has nothing more to provision or rotate.
// Each use has its own HKDF label (`info`), so no MAC made for one can be replayed as another's.
async function deriveSealKey(privateScalar: string, info: string): Promise<CryptoKey> {
  const ikm = decodeBase64Url(privateScalar);
  if (!ikm) throw new Error("token signing key is malformed");
  const base = await crypto.subtle.importKey("raw", ikm as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

async function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

function keys(env: Env): Promise<KeyPair> {
  keyPair ??= loadKeys(env).catch((err) => {
    keyPair = undefined;
    throw err;
  });
  return keyPair;
}

/** The deployment's sealing key (see deriveSealKey). */
export async function sealKey(env: Env): Promise<CryptoKey> {
  return (await keys(env)).sealKey;
}

/** The deployment's key for user-action tokens (see deriveSealKey). */
export async function userActionKey(env: Env): Promise<CryptoKey> {
  return (await keys(env)).userActionKey;
}

export async function issueToken(env: Env, claims: TokenClaims, expiresInSeconds?: number): Promise<string> {
  const { privateKey, kid } = await keys(env);
  const jwt = new SignJWT({ [APP_METADATA_CLAIM]: { ...claims } })
    .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(claims.tokenKind === "Registration" ? REGISTRATION_AUDIENCE : API_AUDIENCE)
    .setSubject(claims.userId)
    .setJti(claims.tokenId)
    .setIssuedAt();
  if (expiresInSeconds !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds);
  return jwt.sign(privateKey);
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

// Tokens whose signature this isolate already verified, with their expiry. A token string can
// never change its claims, so skipping a repeated signature check is safe; whether the token is
// still *valid* (revoked, deactivated) is asked of the org's Durable Object on every request anyway.
const VERIFIED_CACHE_SIZE = 1024;
const verified = new Map<string, { claims: TokenClaims; purpose: string; exp: number | null }>();

function remember(token: string, purpose: string, claims: TokenClaims, exp: number | undefined): void {
  if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
  verified.set(token, { claims, purpose, exp: exp ?? null });
}

/**
 * Verifies signature, issuer, audience and expiry; returns the claims or why not. `purpose`
 * keeps a registration token from being used as an API token and vice versa.
 */
export async function verifyToken(env: Env, token: string, purpose: "api" | "registration"): Promise<TokenCheck> {
  const known = verified.get(token);
  if (known && known.purpose === purpose) {
    if (known.exp === null || known.exp > Date.now() / 1000) return { ok: true, claims: known.claims };
    verified.delete(token);
    return { ok: false, reason: "token expired" };
  }
  const { publicKey } = await keys(env);
  try {
    const { payload } = await jwtVerify(token, publicKey, {
      issuer: ISSUER,
      audience: purpose === "api" ? API_AUDIENCE : REGISTRATION_AUDIENCE,
      algorithms: ["ES256"],
    });
    const meta = payload[APP_METADATA_CLAIM] as Partial<TokenClaims> | undefined;
    if (
      !meta ||
      typeof meta.orgId !== "string" ||
      typeof meta.userId !== "string" ||
      typeof meta.tokenId !== "string" ||
      meta.tokenId !== payload.jti ||
      meta.userId !== payload.sub
    ) {
      return { ok: false, reason: "token claims are malformed" };
    }
    const kind = meta.tokenKind;
    const kindFits = purpose === "registration" ? kind === "Registration" : kind === "Login" || kind === "ServiceAccount" || kind === "Pat";
    if (!kindFits) return { ok: false, reason: "token kind not accepted here" };
    const claims: TokenClaims = { orgId: meta.orgId, userId: meta.userId, tokenId: meta.tokenId, tokenKind: kind! };
    remember(token, purpose, claims, payload.exp);
    return { ok: true, claims };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: "token expired" };
    return { ok: false, reason: "token invalid" };
  }
}
