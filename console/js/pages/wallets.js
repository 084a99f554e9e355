// @ts-check
// Wallets: GET /wallets, each wallet's balances from GET /wallets/:id/assets, and
// POST /wallets {network, name} (user-action signed) to create one.
import { byId, field, fill, h } from "../dom.js";
import { formatUnits } from "../format.js";
import { describeError, onSubmit, poll, say, signedInPage } from "../shell.js";

const { api } = signedInPage("wallets");
const rows = byId("wallet-rows");
/** @type {any[]} */
let wallets = [];

/** @param {any} wallet */
function balancesCell(wallet) {
  const cell = h("td", {}, h("span", { class: "muted" }, "…"));
  if (wallet.status !== "Active" || !wallet.address) {
    fill(cell, h("span", { class: "muted" }, "—"));
    return cell;
  }
  api.get(`/wallets/${encodeURIComponent(wallet.id)}/assets`).then(
    (res) => {
      /** @type {any[]} */
      const assets = res.assets ?? [];
      fill(cell, assets.length === 0 ? h("span", { class: "muted" }, "none") : h("ul", { class: "plain" }, assets.map((a) => h("li", {}, `${formatUnits(String(a.balance), Number(a.decimals ?? 0))} ${a.symbol ?? a.kind}`))));
    },
    (err) => fill(cell, h("span", { class: "muted", title: describeError(err) }, "unavailable")),
  );
  return cell;
}

/** @param {any} wallet */
function walletRow(wallet) {
  return h(
    "tr",
    { "data-wallet-id": wallet.id },
    h("td", {}, wallet.name || h("span", { class: "muted" }, "(unnamed)"), h("br"), h("span", { class: "mono muted" }, wallet.id)),
    h("td", {}, wallet.network),
    h("td", { class: "mono" }, wallet.address ?? "—"),
    h("td", { class: `status status-${wallet.status}` }, wallet.status),
    balancesCell(wallet),
    h("td", {}, h("a", { href: `./transfers?wallet=${encodeURIComponent(wallet.id)}`, "aria-label": `Transfers of ${wallet.name || wallet.id}` }, "Transfers")),
  );
}

async function load() {
  let res;
  try {
    res = await api.get("/wallets", { limit: 100 });
  } catch (err) {
    if (wallets.length === 0) fill(rows, h("tr", {}, h("td", { colspan: 6 }, `Wallets could not be listed: ${describeError(err)}`)));
    throw err;
  }
  wallets = res.items ?? [];
  fill(rows, wallets.length === 0 ? h("tr", {}, h("td", { colspan: 6 }, "No wallets yet: create one below.")) : wallets.map(walletRow));
}

/** @type {(() => void) | null} */
let stopPolling = null;
// A wallet whose key is still being generated may show up first as not Active: look again until it is.
function watch() {
  stopPolling?.();
  stopPolling = poll(load, 2000, () => wallets.some((w) => w.status !== "Active" && w.status !== "Archived" && w.status !== "Failed"));
}
watch();

onSubmit(byId("create-wallet-form", HTMLFormElement), async (form) => {
  const name = field(form, "name");
  say("Sign the new wallet with your passkey…");
  // The stage the key generation is in, with the seconds it has taken so far (an ECDSA DKG takes
  // seconds of CPU at every node): updated once a second until the API answers.
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  const started = { at: 0 };
  const waiting = () => say(`Signed. The share-holder nodes are generating the wallet's key together (distributed key generation, ${Math.round((Date.now() - started.at) / 1000)} s so far)…`);
  let wallet;
  try {
    ({ body: wallet } = await api.signed("POST", "/wallets", { network: field(form, "network"), ...(name ? { name } : {}) }, {
      onSigned: () => {
        started.at = Date.now();
        waiting();
        ticker = setInterval(waiting, 1000);
      },
    }));
  } finally {
    clearInterval(ticker);
  }
  form.reset();
  say(`Wallet ${wallet.name ?? wallet.id} created on ${wallet.network}${wallet.address ? ` at ${wallet.address}` : ""}.`);
  watch();
});
