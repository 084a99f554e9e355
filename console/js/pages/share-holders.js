// @ts-check
// Share holders: GET /tessera/share-holders; POST /tessera/share-holders {joinRequest} adds a node
// by its operator's signed join request; POST /tessera/share-holders/:peerId/retire {replacement}
// reshares its keys onto the replacement and has it erase its shares. Both user-action signed,
// both governance log entries the nodes replay.
import { byId, field, fill, h } from "../dom.js";
import { onSubmit, say, signedInPage } from "../shell.js";

const { api } = signedInPage("share-holders");
const rows = byId("holder-rows");
const retirePeer = byId("retire-peer", HTMLSelectElement);
const retireReplacement = byId("retire-replacement", HTMLSelectElement);

/** @param {any} s */
function holderRow(s) {
  return h(
    "tr",
    { "data-peer-id": s.peerId },
    h("td", { class: "mono" }, s.peerId),
    h("td", {}, s.region ?? ""),
    h("td", { class: s.status === "Active" ? "status status-Active" : "status status-Archived" }, s.status),
    h("td", {}, s.source === "Org" ? "your organisation" : "the deployment"),
    h("td", { class: "mono" }, s.replacement ?? ""),
  );
}

async function load() {
  /** @type {any[]} */
  const holders = (await api.get("/tessera/share-holders")).items ?? [];
  fill(rows, holders.length === 0 ? h("tr", {}, h("td", { colspan: 5 }, "No share holders.")) : holders.map(holderRow));
  const active = holders.filter((s) => s.status === "Active");
  fill(retirePeer, active.map((s) => h("option", { value: s.peerId }, `${s.region ?? ""} ${s.peerId}`)));
  fill(retireReplacement, [h("option", { value: "" }, "(none)"), ...active.filter((s) => s.source === "Org").map((s) => h("option", { value: s.peerId }, `${s.region ?? ""} ${s.peerId}`))]);
}

onSubmit(byId("add-form", HTMLFormElement), async (form) => {
  let joinRequest;
  try {
    joinRequest = JSON.parse(field(form, "joinRequest"));
  } catch {
    throw new Error("The join request is not JSON: paste the whole join-request.json.");
  }
  say("Sign the new share holder with your passkey…");
  const { body } = await api.signed("POST", "/tessera/share-holders", { joinRequest });
  form.reset();
  await load();
  say(`Share holder ${body.peerId} added.`);
});

onSubmit(byId("retire-form", HTMLFormElement), async (form) => {
  const peerId = field(form, "peerId");
  const replacement = field(form, "replacement");
  say("Sign the retirement with your passkey; the share holders then reshare its keys…");
  const { body } = await api.signed("POST", `/tessera/share-holders/${encodeURIComponent(peerId)}/retire`, replacement ? { replacement } : {});
  await load();
  say(`Share holder ${peerId} retired: ${body.reshared?.length ?? 0} key(s) reshared${body.erased?.ok ? `, ${body.erased.shares} share(s) erased by the node` : ""}.`);
});

load().catch((err) => fill(rows, h("tr", {}, h("td", { colspan: 5 }, String(err?.message ?? err)))));
