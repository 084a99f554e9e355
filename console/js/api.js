// @ts-check
// The console's client of the Tessera (Dfns-compatible) API, on the same origin. It signs every
// state-changing call the way the Dfns SDK's userActionFetch does:
//   1. POST /auth/action/init {userActionPayload: <the exact body text>, userActionHttpMethod,
//      userActionHttpPath, userActionServerKind: "Api"}  → a challenge committing to that request
//   2. the user's passkey signs the challenge (navigator.credentials.get, passkeys.js)
//   3. POST /auth/action {challengeIdentifier, firstFactor}  → {userAction}
//   4. the request itself, with the same body text and X-DFNS-USERACTION: <userAction>
// The server refuses the token for any other method, path, body or caller, and spends it once.
import { signChallenge } from "./passkeys.js";
import { sendToLogin } from "./session.js";

export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {unknown} body */
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Dfns's endpoints that change state without a user action: they are the signing flow itself. */
const UNSIGNED = [/^\/auth\/login(\/.*)?$/, /^\/auth\/logout$/, /^\/auth\/registration(\/.*)?$/, /^\/auth\/action(\/init)?$/, /^\/auth\/credentials\/init$/];

/**
 * @param {string} method
 * @param {string} path path and query, e.g. "/wallets?limit=50"
 * @param {{ bodyText?: string, bearer?: string | null, userAction?: string }} [options]
 * @returns {Promise<{ status: number, body: any }>}
 */
async function send(method, path, { bodyText, bearer, userAction } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  if (bodyText !== undefined) headers["content-type"] = "application/json";
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (userAction) headers["x-dfns-useraction"] = userAction;
  const res = await fetch(path, { method, headers, ...(bodyText !== undefined ? { body: bodyText } : {}) });
  const text = await res.text();
  /** @type {any} */
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const message = body?.error?.message ?? body?.message ?? `${method} ${path.split("?")[0]} failed`;
    throw new ApiError(res.status, message, body);
  }
  return { status: res.status, body };
}

/** POST without a session: login and registration. @param {string} path @param {unknown} body @param {string} [bearer] */
export async function publicPost(path, body, bearer) {
  return (await send("POST", path, { bodyText: JSON.stringify(body), bearer: bearer ?? null })).body;
}

/**
 * @typedef {{ status: number, body: any, pendingApproval: boolean }} SignedResult
 *   pendingApproval: the API answered 202, a policy holds the change until approvers decide.
 */

/** A client bound to one login token. */
export class Api {
  /** @param {string} token */
  constructor(token) {
    this.token = token;
  }

  /**
   * GET, with the query's empty values left out (as the SDK does).
   * @param {string} path
   * @param {Record<string, string | number | undefined | null>} [query]
   */
  async get(path, query = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return (await this.#authorized("GET", qs ? `${path}?${qs}` : path)).body;
  }

  /** @param {string} method @param {string} path @param {{ bodyText?: string, userAction?: string }} [options] */
  async #authorized(method, path, options = {}) {
    try {
      return await send(method, path, { ...options, bearer: this.token });
    } catch (err) {
      // An expired or revoked session: back to the login page rather than a page of errors.
      if (err instanceof ApiError && err.status === 401 && /^Not authorized:/.test(err.message)) sendToLogin("Your session ended. Please log in again.");
      throw err;
    }
  }

  /**
   * A state-changing call, signed with the user's passkey (one passkey prompt per call).
   * @param {"POST" | "PUT" | "DELETE"} method
   * @param {string} path
   * @param {unknown} [body] sent as JSON; `{}` when absent, as the SDK sends it
   * @param {{ onSigned?: () => void }} [options] onSigned: the passkey has signed, the request is on its way
   * @returns {Promise<SignedResult>}
   */
  async signed(method, path, body = {}, { onSigned } = {}) {
    const bodyText = JSON.stringify(body);
    const pathname = path.split("?")[0] ?? path;
    if (UNSIGNED.some((re) => re.test(pathname))) throw new Error(`${method} ${pathname} is not user-action signed`);
    const challenge = (
      await this.#authorized("POST", "/auth/action/init", {
        bodyText: JSON.stringify({ userActionPayload: bodyText, userActionHttpMethod: method, userActionHttpPath: pathname, userActionServerKind: "Api" }),
      })
    ).body;
    const firstFactor = await signChallenge(challenge, { method, path: pathname, payload: bodyText });
    const { userAction } = (await this.#authorized("POST", "/auth/action", { bodyText: JSON.stringify({ challengeIdentifier: challenge.challengeIdentifier, firstFactor }) })).body;
    onSigned?.();
    const res = await this.#authorized(method, path, { bodyText, userAction });
    return { ...res, pendingApproval: res.status === 202 };
  }

  /** Ends this session on the server (unsigned in Dfns: it only gives up access). */
  async logout() {
    await send("PUT", "/auth/logout", { bodyText: "{}", bearer: this.token });
  }
}
