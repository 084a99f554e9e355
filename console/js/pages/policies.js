// @ts-check
// Policies (Dfns v2): GET /v2/policies; POST /v2/policies to create, PUT /v2/policies/:id (the
// whole policy) to edit, DELETE /v2/policies/:id to archive, all user-action signed. The form
// covers Dfns's Wallets:Sign rules and actions; rule configurations are Dfns's JSON as is.
import { byId, field, fill, h } from "../dom.js";
import { formatDate } from "../format.js";
import { busy, onSubmit, say, signedInPage } from "../shell.js";

const { api } = signedInPage("policies");
const rows = byId("policy-rows");
const form = byId("policy-form", HTMLFormElement);
const ruleKind = byId("policy-rule", HTMLSelectElement);
const ruleConfiguration = byId("policy-rule-configuration", HTMLTextAreaElement);
const actionKind = byId("policy-action", HTMLSelectElement);
const heading = byId("policy-form-heading");
const submit = byId("policy-submit", HTMLButtonElement);
const cancel = byId("policy-cancel", HTMLButtonElement);

/** An example configuration per rule kind (Dfns's shapes). */
const EXAMPLES = /** @type {Record<string, unknown>} */ ({
  AlwaysTrigger: {},
  TransactionAmountLimit: { limit: 1000, currency: "USD" },
  TransactionAmountVelocity: { limit: 10000, currency: "USD", timeframe: 1440 },
  TransactionCountVelocity: { limit: 10, timeframe: 60 },
  TransactionRecipientWhitelist: { addresses: ["0x0000000000000000000000000000000000000001"] },
});

/** @type {any[]} */
let policies = [];

const list = (/** @type {string} */ text) => text.split(",").map((s) => s.trim()).filter(Boolean);

function showExample() {
  ruleConfiguration.value = JSON.stringify(EXAMPLES[ruleKind.value] ?? {}, null, 2);
}

function showActionSettings() {
  byId("approval-settings").hidden = actionKind.value !== "RequestApproval";
}

/** @param {any} action */
function describeAction(action) {
  if (action.kind !== "RequestApproval") return action.kind;
  return `Approval: ${(action.approvalGroups ?? []).map((/** @type {any} */ g) => `${g.quorum} of ${g.approvers?.userId?.in?.length ? g.approvers.userId.in.join(", ") : "anyone"}`).join("; ")}`;
}

/** @param {any} p */
function policyRow(p) {
  const actions = h("td", {});
  if (p.status === "Active") {
    actions.append(
      h("button", { type: "button", class: "secondary", onclick: () => edit(p), "aria-label": `Edit ${p.name}` }, "Edit"),
      " ",
      h("button", { type: "button", class: "danger", onclick: () => archive(p, actions), "aria-label": `Archive ${p.name}` }, "Archive"),
    );
  }
  return h(
    "tr",
    { "data-policy-id": p.id },
    h("td", {}, p.name, h("br"), h("span", { class: "mono muted" }, p.id)),
    h("td", {}, p.rule?.kind, p.rule?.configuration && Object.keys(p.rule.configuration).length ? h("br") : null, p.rule?.configuration && Object.keys(p.rule.configuration).length ? h("span", { class: "mono" }, JSON.stringify(p.rule.configuration)) : null),
    h("td", {}, describeAction(p.action)),
    h("td", { class: `status status-${p.status}` }, p.status),
    h("td", {}, formatDate(p.dateUpdated ?? p.dateCreated)),
    actions,
  );
}

async function load() {
  policies = (await api.get("/v2/policies", { limit: 100 })).items ?? [];
  fill(rows, policies.length === 0 ? h("tr", {}, h("td", { colspan: 6 }, "No policies: every permitted request is signed without approval.")) : policies.map(policyRow));
}

/** @param {any} p */
function edit(p) {
  form.reset();
  /** @param {string} name @param {string} value */
  const set = (name, value) => {
    const el = form.elements.namedItem(name);
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) el.value = value;
  };
  set("policyId", p.id);
  set("name", p.name);
  set("activityKind", p.activityKind);
  set("ruleKind", p.rule.kind);
  set("ruleConfiguration", JSON.stringify(p.rule.configuration ?? {}, null, 2));
  set("actionKind", p.action.kind);
  const group = p.action.approvalGroups?.[0];
  if (group) {
    set("quorum", String(group.quorum));
    set("approvers", (group.approvers?.userId?.in ?? []).join(", "));
    byId("policy-initiator-can-approve", HTMLInputElement).checked = group.initiatorCanApprove === true;
  }
  set("autoRejectTimeout", p.action.autoRejectTimeout ? String(p.action.autoRejectTimeout) : "");
  set("walletIds", (p.filters?.walletId?.in ?? []).join(", "));
  showActionSettings();
  heading.textContent = `Edit policy “${p.name}”`;
  submit.textContent = "Save policy (sign with passkey)";
  cancel.hidden = false;
  byId("policy-name", HTMLInputElement).focus();
}

function stopEditing() {
  form.reset();
  showExample();
  showActionSettings();
  heading.textContent = "New policy";
  submit.textContent = "Create policy (sign with passkey)";
  cancel.hidden = true;
}

/** @param {any} p @param {HTMLElement} scope */
async function archive(p, scope) {
  await busy(scope, async () => {
    say(`Sign the archiving of “${p.name}” with your passkey…`);
    const res = await api.signed("DELETE", `/v2/policies/${encodeURIComponent(p.id)}`);
    say(res.pendingApproval ? `Archiving “${p.name}” waits for approval.` : `Policy “${p.name}” archived.`);
    await load();
  });
}

/** The policy body the form describes (Dfns's CreatePolicyBody). */
function policyBody() {
  /** @type {unknown} */
  let configuration;
  try {
    configuration = JSON.parse(field(form, "ruleConfiguration") || "{}");
  } catch {
    throw new Error("The rule configuration is not valid JSON.");
  }
  const approvers = list(field(form, "approvers"));
  const timeout = field(form, "autoRejectTimeout");
  const walletIds = list(field(form, "walletIds"));
  const action =
    actionKind.value === "RequestApproval"
      ? {
          kind: "RequestApproval",
          approvalGroups: [
            {
              name: "Approvers",
              quorum: Number(field(form, "quorum")),
              approvers: approvers.length ? { userId: { in: approvers } } : {},
              initiatorCanApprove: byId("policy-initiator-can-approve", HTMLInputElement).checked,
            },
          ],
          autoRejectTimeout: timeout ? Number(timeout) : null,
        }
      : { kind: actionKind.value };
  return {
    name: field(form, "name"),
    activityKind: field(form, "activityKind"),
    rule: { kind: ruleKind.value, configuration },
    action,
    ...(walletIds.length ? { filters: { walletId: { in: walletIds } } } : {}),
  };
}

ruleKind.addEventListener("change", showExample);
actionKind.addEventListener("change", showActionSettings);
cancel.addEventListener("click", stopEditing);
showExample();
showActionSettings();

onSubmit(form, async () => {
  const policyId = field(form, "policyId");
  const body = policyBody();
  say("Sign the policy with your passkey…");
  const res = policyId ? await api.signed("PUT", `/v2/policies/${encodeURIComponent(policyId)}`, body) : await api.signed("POST", "/v2/policies", body);
  say(res.pendingApproval ? `The change to “${body.name}” waits for approval.` : `Policy “${res.body.name}” ${policyId ? "saved" : "created"}.`);
  stopEditing();
  await load();
});

load().catch((err) => fill(rows, h("tr", {}, h("td", { colspan: 6 }, String(err?.message ?? err)))));
