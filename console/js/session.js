// @ts-check
// Who is signed in. The login token lives in sessionStorage (gone when the tab closes; one hour at
// most anyway); the organisation and username of the last login are remembered in localStorage so
// the login form is pre-filled. Claims are read from the token only for display and expiry: the
// API checks the token on every request.

const TOKEN_KEY = "tessera.console.token";
const LOGIN_KEY = "tessera.console.login";

/**
 * @typedef {{ token: string, orgId: string, userId: string, username: string, expiresAt: number | null }} Session
 */

/** @param {string} token @returns {Record<string, unknown> | null} */
function tokenClaims(token) {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return typeof claims === "object" && claims !== null ? claims : null;
  } catch {
    return null;
  }
}

/** @returns {Session | null} the current session, or null when there is none or it has expired */
export function currentSession() {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (!stored) return null;
  /** @type {{ token: string, username: string }} */
  const { token, username } = JSON.parse(stored);
  const claims = tokenClaims(token);
  const meta = /** @type {Record<string, string> | undefined} */ (claims?.["https://custom/app_metadata"]);
  const expiresAt = typeof claims?.exp === "number" ? claims.exp * 1000 : null;
  if (!meta || (expiresAt !== null && expiresAt <= Date.now())) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return { token, orgId: meta.orgId ?? "", userId: meta.userId ?? "", username, expiresAt };
}

/** @param {string} token @param {{ orgId: string, username: string }} login */
export function startSession(token, login) {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token, username: login.username }));
  rememberLogin(login);
}

export function endSession() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** @param {{ orgId: string, username: string }} login */
export function rememberLogin(login) {
  localStorage.setItem(LOGIN_KEY, JSON.stringify(login));
}

/** @returns {{ orgId: string, username: string } | null} */
export function rememberedLogin() {
  const stored = localStorage.getItem(LOGIN_KEY);
  return stored ? JSON.parse(stored) : null;
}

/**
 * The session, or a redirect to the login page that comes back here afterwards.
 * @returns {Session}
 */
export function requireSession() {
  const session = currentSession();
  if (session) return session;
  sendToLogin("Please log in.");
  throw new Error("not logged in");
}

/** @param {string} message shown on the login page */
export function sendToLogin(message) {
  endSession();
  const here = location.pathname.split("/").pop() || "";
  const next = here && here !== "index.html" ? `&next=${encodeURIComponent(here + location.search)}` : "";
  location.replace(`./?message=${encodeURIComponent(message)}${next}`);
}
