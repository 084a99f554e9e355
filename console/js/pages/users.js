// @ts-check
// Users: GET /auth/users; inviting one is POST /auth/users {email, kind: "CustomerEmployee"}
// (→ the user and a one-time registrationCode) and POST /permissions/:id/assignments
// {identityId} to give them a permission; both user-action signed. The invitation link opens
// the register page with the organisation, username and code filled in.
import { byId, field, fill, h } from "../dom.js";
import { onSubmit, say, signedInPage } from "../shell.js";

const { api, session } = signedInPage("users");
const rows = byId("user-rows");
const permissionSelect = byId("invite-permission", HTMLSelectElement);

/** @param {any} u */
function userRow(u) {
  const permissions = (u.permissionAssignments ?? []).map((/** @type {any} */ a) => a.permissionName).join(", ");
  return h(
    "tr",
    { "data-user-id": u.userId },
    h("td", {}, u.username, u.userId === session.userId ? h("span", { class: "muted" }, " (you)") : null),
    h("td", { class: "mono" }, u.userId),
    h("td", {}, u.isRegistered ? "yes" : "not yet"),
    h("td", { class: u.isActive ? "status status-Active" : "status status-Archived" }, u.isActive ? "yes" : "no"),
    h("td", {}, permissions || h("span", { class: "muted" }, "none")),
  );
}

async function loadUsers() {
  /** @type {any[]} */
  const users = (await api.get("/auth/users")).items ?? [];
  const people = users.filter((u) => !u.isServiceAccount);
  fill(rows, people.length === 0 ? h("tr", {}, h("td", { colspan: 5 }, "No users.")) : people.map(userRow));
}

async function loadPermissions() {
  /** @type {any[]} */
  const permissions = ((await api.get("/permissions")).items ?? []).filter((/** @type {any} */ p) => !p.isArchived);
  fill(permissionSelect, permissions.map((p) => h("option", { value: p.id }, `${p.name} — ${p.operations.length} operation${p.operations.length === 1 ? "" : "s"}`)));
}

/** @param {{ username: string, registrationCode: string }} invitation */
function showInvitation({ username, registrationCode }) {
  const url = new URL("./register", location.href);
  url.search = new URLSearchParams({ org: session.orgId, username, code: registrationCode }).toString();
  byId("invitation-org").textContent = session.orgId;
  byId("invitation-username").textContent = username;
  byId("invitation-code").textContent = registrationCode;
  const link = byId("invitation-link", HTMLAnchorElement);
  link.href = url.toString();
  link.textContent = url.toString();
  byId("invitation").hidden = false;
  byId("invitation-heading").focus();
}

byId("copy-invitation").addEventListener("click", async () => {
  await navigator.clipboard.writeText(byId("invitation-link", HTMLAnchorElement).href);
  say("Invitation link copied.");
});

onSubmit(byId("invite-form", HTMLFormElement), async (form) => {
  const email = field(form, "email");
  const permissionId = field(form, "permissionId");
  say("Sign the new user with your passkey…");
  const { body: user } = await api.signed("POST", "/auth/users", { email, kind: "CustomerEmployee" });
  if (permissionId) {
    say("Now sign the permission assignment with your passkey…");
    await api.signed("POST", `/permissions/${encodeURIComponent(permissionId)}/assignments`, { identityId: user.userId });
  }
  form.reset();
  await loadUsers();
  say(`User ${user.username} created. Hand over the invitation below.`);
  showInvitation({ username: user.username, registrationCode: user.registrationCode });
});

Promise.all([loadUsers(), loadPermissions()]).catch((err) => fill(rows, h("tr", {}, h("td", { colspan: 5 }, String(err?.message ?? err)))));
