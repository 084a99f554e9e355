// @ts-check
// Reads a Tessera challenge before the passkey signs it. Challenges state what they authorize —
// base64url("tessera.challenge.v1\n" + canonical JSON of {kind, orgId, method, path, bodySha256,
// nonce, issuedAt, expiry}) (shared/src/dfns/user-action.ts, whose rules this mirrors; the two
// are compared in test/console/challenge.test.ts) — so the console refuses to sign a challenge
// that does not describe the request it is making, and a login page refuses anything but a login.

const DOMAIN = "tessera.challenge.v1\n";
const MAX_LIFETIME_SECONDS = 5 * 60;

/** @param {string} text @returns {Uint8Array | null} */
function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {string} text @returns {Promise<string>} lower-case hex SHA-256 of the text's UTF-8 bytes */
async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The claims a challenge states, or null.
 * @param {string} challenge
 * @returns {Record<string, unknown> | null}
 */
export function readChallenge(challenge) {
  const bytes = fromBase64Url(challenge);
  if (!bytes) return null;
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  if (!text.startsWith(DOMAIN)) return null;
  try {
    const claims = JSON.parse(text.slice(DOMAIN.length));
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/**
 * Why this challenge must not be signed for `expected`, or null.
 * @param {string} challenge
 * @param {{ login: true, orgId?: string } | { orgId?: string, method: string, path: string, payload: string }} expected
 * @param {number} [nowSeconds]
 * @returns {Promise<string | null>}
 */
export async function challengeProblem(challenge, expected, nowSeconds = Math.floor(Date.now() / 1000), skewSeconds = 60) {
  const c = readChallenge(challenge);
  if (!c || typeof c.issuedAt !== "number" || typeof c.expiry !== "number") return "the challenge is not a Tessera challenge this client can read";
  if (expected.orgId !== undefined && c.orgId !== expected.orgId) return `the challenge is for org ${c.orgId}, not ${expected.orgId}`;
  if (c.issuedAt > nowSeconds + skewSeconds) return "the challenge claims to be issued in the future";
  if (c.expiry < nowSeconds - skewSeconds) return "the challenge has expired";
  if (c.expiry - c.issuedAt > MAX_LIFETIME_SECONDS) return "the challenge is valid for longer than a user action may be";
  if ("login" in expected) return c.kind === "Login" ? null : `the login page was handed a ${c.kind} challenge`;
  if (c.kind !== "UserAction") return `a ${c.kind} challenge was offered for a user action`;
  if (c.method !== expected.method.toUpperCase()) return `the challenge is for ${c.method}, not ${expected.method}`;
  if (c.path !== expected.path) return `the challenge is for ${c.path}, not ${expected.path}`;
  if (c.bodySha256 !== (await sha256Hex(expected.payload))) return "the challenge is for another request body";
  return null;
}
