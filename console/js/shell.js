// @ts-check
// What every signed-in page shares: the header (navigation, who is signed in, log out), the
// status line screen readers hear (role=status) and the error line they are interrupted by
// (role=alert), and form handling that keeps a button busy while a passkey prompt is open.
import { Api, ApiError } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { endSession, requireSession } from "./session.js";

const PAGES = [
  ["wallets", "Wallets"],
  ["transfers", "Transfers"],
  ["approvals", "Approvals"],
  ["policies", "Policies"],
  ["users", "Users"],
  ["share-holders", "Share holders"],
  ["audit", "Audit trail"],
];

/**
 * Renders the header for a signed-in page and returns the API client of this session.
 * @param {string} current the page's name in PAGES
 * @returns {{ api: Api, session: import("./session.js").Session }}
 */
export function signedInPage(current) {
  const session = requireSession();
  const api = new Api(session.token);
  const logout = h("button", {
    type: "button",
    class: "link",
    onclick: async () => {
      try {
        await api.logout();
      } finally {
        endSession();
        location.replace("./?message=" + encodeURIComponent("You are logged out."));
      }
    },
  }, "Log out");
  fill(
    byId("site-header"),
    h("a", { class: "brand", href: "./wallets" }, "Tessera"),
    h("nav", { "aria-label": "Console" },
      h("ul", {}, PAGES.map(([name, label]) => h("li", {}, h("a", { href: `./${name}`, "aria-current": name === current ? "page" : null }, label ?? "")))),
    ),
    h("p", { class: "who" }, h("span", { title: session.userId }, session.username), " ", h("span", { class: "muted" }, `(${session.orgId})`), " ", logout),
  );
  return { api, session };
}

/** Tells (politely) what just happened. @param {string} message */
export function say(message) {
  byId("error").textContent = "";
  byId("status").textContent = message;
}

/** Shows an error where assistive technology announces it at once. @param {unknown} err */
export function showError(err) {
  byId("status").textContent = "";
  byId("error").textContent = describeError(err);
}

/** @param {unknown} err */
export function describeError(err) {
  if (err instanceof ApiError) return `${err.message} (HTTP ${err.status})`;
  if (err instanceof Error) {
    // What the browser says when the passkey prompt is dismissed or times out.
    if (err.name === "NotAllowedError") return "The passkey prompt was cancelled or timed out; nothing was changed.";
    return err.message;
  }
  return String(err);
}

/**
 * Runs a form's submit handler with its buttons disabled (no double submits while a passkey
 * prompt is open) and its failure shown as an error.
 * @param {HTMLFormElement} form
 * @param {(form: HTMLFormElement) => Promise<void>} handler
 */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, () => handler(form));
  });
}

/**
 * @param {HTMLElement} scope its buttons are disabled meanwhile
 * @param {() => Promise<void>} work
 */
export async function busy(scope, work) {
  const buttons = [...scope.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  scope.setAttribute("aria-busy", "true");
  try {
    byId("error").textContent = "";
    await work();
  } catch (err) {
    showError(err);
  } finally {
    for (const b of buttons) b.disabled = false;
    scope.removeAttribute("aria-busy");
  }
}

/**
 * Calls `load` now and every `ms` while `keepGoing()` says so and the tab is visible; the
 * returned function stops it.
 * @param {() => Promise<void>} load
 * @param {number} ms
 * @param {() => boolean} keepGoing
 */
export function poll(load, ms, keepGoing) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    try {
      if (document.visibilityState === "visible") await load();
    } catch (err) {
      showError(err);
    }
    if (!stopped && keepGoing()) timer = setTimeout(tick, ms);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
