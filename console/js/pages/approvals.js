// @ts-check
// Policy approvals: GET /v2/policy-approvals?status=…, and a decision on one with
// POST /v2/policy-approvals/:id/decisions {value: "Approved" | "Denied", reason?}, user-action
// signed with the approver's passkey. The server enforces who may decide (quorum groups, the
// initiator may deny but not approve unless the policy says so, one decision per user).
import { byId, fill, h } from "../dom.js";
import { formatDate, transferAmount } from "../format.js";
import { busy, poll, say, signedInPage } from "../shell.js";

const { api, session } = signedInPage("approvals");
const list = byId("approval-list");
const statusFilter = byId("approval-status", HTMLSelectElement);
/** Approval ids with a decision form in use: polling must not redraw under the user. */
const editing = new Set();
/** @type {Map<string, string>} user id → username, so approvers see who asks */
const names = new Map();
/** @param {string} id */
const who = (id) => (id === session.userId ? `${names.get(id) ?? id} (you)` : names.get(id) ?? id);

/** @param {any} activity */
function describeActivity(activity) {
  const request = activity?.transferRequest ?? activity?.transactionRequest ?? activity?.signatureRequest;
  if (activity?.transferRequest) {
    return { title: `Transfer of ${transferAmount(request)} to ${request.requestBody?.to ?? "?"}`, request };
  }
  if (activity?.transactionRequest) return { title: "Transaction broadcast", request };
  if (activity?.signatureRequest) return { title: `Signature (${request.requestBody?.kind ?? "?"})`, request };
  return { title: String(activity?.kind ?? "Activity"), request: null };
}

/** @param {any} approval */
function approvalCard(approval) {
  const { title, request } = describeActivity(approval.activity);
  const headingId = `approval-${approval.id}-heading`;
  const reason = h("input", { id: `approval-${approval.id}-reason`, name: "reason", maxlength: 1024, autocomplete: "off" });
  /** @param {"Approved" | "Denied"} value */
  const decide = (value) => async () => {
    await busy(card, async () => {
      say(`Sign your decision (${value === "Approved" ? "approve" : "deny"}) with your passkey…`);
      const { body } = await api.signed("POST", `/v2/policy-approvals/${encodeURIComponent(approval.id)}/decisions`, { value, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) });
      editing.delete(approval.id);
      say(`Your decision is recorded: ${value}. The approval is now ${body.status}.`);
      await load();
    });
  };
  const mine = approval.decisions?.find((/** @type {any} */ d) => d.userId === session.userId);
  const card = h(
    "article",
    { class: "card", "aria-labelledby": headingId, "data-approval-id": approval.id },
    h("h3", { id: headingId }, title),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Status"), h("dd", { class: `status status-${approval.status}` }, approval.status),
      h("dt", {}, "Approval"), h("dd", { class: "mono" }, approval.id),
      request ? [h("dt", {}, "Wallet"), h("dd", { class: "mono" }, `${request.walletId ?? "—"} (${request.network ?? "?"})`)] : null,
      request ? [h("dt", {}, "Request"), h("dd", { class: "mono" }, request.id ?? "—")] : null,
      h("dt", {}, "Initiator"), h("dd", {}, h("span", { title: approval.initiatorId }, who(approval.initiatorId))),
      h("dt", {}, "Created"), h("dd", {}, formatDate(approval.dateCreated)),
      approval.expirationDate ? [h("dt", {}, "Expires"), h("dd", {}, formatDate(approval.expirationDate))] : null,
      h("dt", {}, "Policies"),
      h("dd", {}, h("ul", { class: "plain" }, (approval.policyEvaluations ?? []).filter((/** @type {any} */ e) => e.triggered).map((/** @type {any} */ e) => h("li", {}, `${e.context?.policyName ?? e.policyId}: ${e.reason}`)))),
      h("dt", {}, "Decisions"),
      h("dd", {}, (approval.decisions ?? []).length === 0 ? "none yet" : h("ul", { class: "plain" }, approval.decisions.map((/** @type {any} */ d) => h("li", {}, `${d.value} by ${who(d.userId)}, ${formatDate(d.date)}${d.reason ? ` — “${d.reason}”` : ""}`)))),
    ),
  );
  if (approval.status === "Pending" && !mine) {
    reason.addEventListener("focus", () => editing.add(approval.id));
    reason.addEventListener("blur", () => {
      if (!reason.value.trim()) editing.delete(approval.id);
    });
    card.append(
      h(
        "div",
        { class: "actions", role: "group", "aria-label": `Decide on: ${title}` },
        h("p", {}, h("label", { for: reason.id }, "Reason ", h("span", { class: "muted" }, "(optional)")), reason),
        h("p", {}, h("button", { type: "button", onclick: decide("Approved") }, "Approve")),
        h("p", {}, h("button", { type: "button", class: "danger", onclick: decide("Denied") }, "Deny")),
      ),
    );
  }
  return card;
}

async function load() {
  const res = await api.get("/v2/policy-approvals", { status: statusFilter.value, limit: 50 });
  /** @type {any[]} */
  const items = res.items ?? [];
  // Keep cards someone is typing a reason into; redraw the rest.
  if ([...editing].some((id) => items.some((a) => a.id === id))) return;
  fill(list, items.length === 0 ? h("p", {}, statusFilter.value === "Pending" ? "Nothing waits for a decision." : "No approvals to show.") : items.map(approvalCard));
}

statusFilter.addEventListener("change", () => {
  editing.clear();
  void load();
});
/** Names for user ids; without Auth:Users:Read the page shows ids. */
async function loadNames() {
  try {
    for (const u of (await api.get("/auth/users")).items ?? []) names.set(u.userId, u.username);
  } catch {
    // ids it is
  }
}

loadNames().finally(() => poll(load, 4000, () => true));
