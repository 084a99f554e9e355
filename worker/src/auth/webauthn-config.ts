// The WebAuthn relying party this deployment is: passkeys are bound to its id and origins.
import type { Env } from "../env.js";

export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(env: Env): RelyingParty {
  return {
    id: env.WEBAUTHN_RP_ID || "localhost",
    name: env.WEBAUTHN_RP_NAME || "Tessera",
    origins: (env.WEBAUTHN_ORIGINS || "http://localhost:8787")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
  };
}

/**
 * A Dfns challenge is a string; WebAuthn signs bytes. Clients pass the string's UTF-8 bytes as the
 * WebAuthn challenge, so clientDataJSON carries base64url(utf8(challenge)); we also accept the
 * challenge string verbatim (already base64url) — both bind the same one-time value.
 */
export function webauthnChallengeMatches(expected: string) {
  const encoded = btoa(String.fromCharCode(...new TextEncoder().encode(expected)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return (presented: string) => presented === encoded || presented === expected;
}
