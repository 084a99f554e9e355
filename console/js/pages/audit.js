// @ts-check
// The audit trail: GET /audit?limit&paginationToken&identityId&decision (every decision of the
// API), and for a signed request GET /auth/action/logs/:id (the user action with its signed
// evidence: what was signed, by which credential, and the signature itself).
import { byId, field, fill, h } from "../dom.js";
import { formatDate } from "../format.js";
import { busy, onSubmit, signedInPage } from "../shell.js";

const { api } = signedInPage("audit");
const rows = byId("audit-rows");
const more = byId("audit-more", HTMLButtonElement);
const filter = byId("audit-filter", HTMLFormElement);
/** @type {string | undefined} */
let nextPageToken;
/** @type {Map<string, string>} identity id → username, for people reading the log */
const names = new Map();

/** @param {string} actionId @param {HTMLElement} scope */
async function showEvidence(actionId, scope) {
  await busy(scope, async () => {
    const evidence = await api.get(`/auth/action/logs/${encodeURIComponent(actionId)}`);
    byId("evidence-json").textContent = JSON.stringify(evidence, null, 2);
    byId("evidence").hidden = false;
    byId("evidence-heading").focus();
  });
}

/** @param {any} e */
function entryRow(e) {
  const request = h("td", { class: "mono" }, `${e.method} ${e.path}`);
  if (e.userActionId) {
    const cell = request;
    // The accessible name starts with the visible words (WCAG 2.5.3) and says which request.
    request.append(h("br"), h("button", { type: "button", class: "link", onclick: () => showEvidence(e.userActionId, cell), "aria-label": `Show evidence of the signed ${e.method} ${e.path}` }, "Show evidence"));
  }
  return h(
    "tr",
    {},
    h("td", {}, formatDate(e.date)),
    h("td", {}, e.identityId ? h("span", { title: e.identityId }, names.get(e.identityId) ?? e.identityId) : "—"),
    request,
    h("td", {}, e.operation ?? "—"),
    h("td", { class: `status status-${e.decision}` }, e.decision),
    h("td", {}, e.reason ?? ""),
  );
}

/** @param {boolean} append */
async function load(append) {
  const res = await api.get("/audit", { limit: 50, decision: field(filter, "decision"), identityId: field(filter, "identityId"), paginationToken: append ? nextPageToken : undefined });
  /** @type {any[]} */
  const items = res.items ?? [];
  nextPageToken = res.nextPageToken;
  more.hidden = !nextPageToken;
  if (append) rows.append(...items.map(entryRow));
  else fill(rows, items.length === 0 ? h("tr", {}, h("td", { colspan: 6 }, "Nothing recorded.")) : items.map(entryRow));
}

/** Names for the ids in the log; without Auth:Users:Read the log shows ids. */
async function loadNames() {
  try {
    for (const u of (await api.get("/auth/users")).items ?? []) names.set(u.userId, u.username);
  } catch {
    // ids it is
  }
}

onSubmit(filter, () => load(false));
more.addEventListener("click", () => busy(more.parentElement ?? more, () => load(true)));
loadNames().then(() => load(false)).catch((err) => fill(rows, h("tr", {}, h("td", { colspan: 6 }, String(err?.message ?? err)))));
