// @ts-check
// Transfers of one wallet: GET /wallets/:id/transfers (polled while any is still moving:
// Pending → Executing → Broadcasted → Confirmed, or Failed / Rejected) and
// POST /wallets/:id/transfers {kind, to, amount[, contract]} (user-action signed). A transfer a
// policy holds comes back Pending with an approvalId; approvers decide on the Approvals page.
import { byId, field, fill, h } from "../dom.js";
import { formatDate, formatUnits, nativeCoin, parseUnits, transferAmount } from "../format.js";
import { describeError, onSubmit, poll, say, signedInPage } from "../shell.js";

const { api } = signedInPage("transfers");
const MOVING = new Set(["Pending", "Executing", "Broadcasted"]);

const select = byId("wallet-select", HTMLSelectElement);
const rows = byId("transfer-rows");
const form = byId("transfer-form", HTMLFormElement);
const kind = byId("transfer-kind", HTMLSelectElement);
const contract = byId("transfer-contract", HTMLInputElement);
const amount = byId("transfer-amount", HTMLInputElement);
const decimals = byId("transfer-decimals", HTMLInputElement);
const units = byId("amount-units", HTMLOutputElement);

/** @type {any[]} */
let transfers = [];
/** @type {any[]} */
let assets = [];
/** @type {Map<string, string>} transfer id → last status seen, to announce changes */
const seen = new Map();
/** @type {(() => void) | null} */
let stopPolling = null;

const walletId = () => select.value;

function guessDecimals() {
  const wanted = kind.value === "Erc20" ? assets.find((a) => a.kind === "Erc20" && String(a.contract).toLowerCase() === contract.value.trim().toLowerCase()) : assets.find((a) => a.kind === "Native");
  const network = select.selectedOptions[0]?.dataset.network ?? "";
  if (wanted) decimals.value = String(wanted.decimals);
  else if (kind.value === "Native") decimals.value = String(nativeCoin(network)?.decimals ?? 18);
  showUnits();
}

function showUnits() {
  try {
    units.value = amount.value ? `= ${parseUnits(amount.value, Number(decimals.value))} in the smallest unit` : "";
  } catch (err) {
    units.value = describeError(err);
  }
}

/** @param {any} t */
function transferRow(t) {
  const body = t.requestBody ?? {};
  const status = h("td", { class: `status status-${t.status}`, "data-status": t.status }, t.status);
  if (t.status === "Pending" && t.approvalId) status.append(h("br"), h("a", { href: "./approvals" }, "awaiting approval"));
  if (t.reason) status.append(h("br"), h("span", { class: "muted" }, t.reason));
  return h(
    "tr",
    { "data-transfer-id": t.id },
    h("td", { class: "mono" }, t.id),
    h("td", { class: "mono" }, body.to ?? "—"),
    h("td", {}, transferAmount(t)),
    status,
    h("td", { class: "mono" }, t.txHash ?? "—"),
    h("td", {}, formatDate(t.dateRequested)),
  );
}

async function loadTransfers() {
  const id = walletId();
  if (!id) return;
  const res = await api.get(`/wallets/${encodeURIComponent(id)}/transfers`, { limit: 50 });
  if (id !== walletId()) return;
  transfers = res.items ?? [];
  const changes = [];
  for (const t of transfers) {
    const before = seen.get(t.id);
    if (before && before !== t.status) changes.push(`Transfer ${t.id} is now ${t.status}.`);
    seen.set(t.id, t.status);
  }
  if (changes.length) {
    say(changes.join(" "));
    // Coins moved (or a transfer ended): show the balances as they are now.
    void loadBalances();
  }
  fill(rows, transfers.length === 0 ? h("tr", {}, h("td", { colspan: 6 }, "No transfers from this wallet yet.")) : transfers.map(transferRow));
}

function watch() {
  stopPolling?.();
  stopPolling = poll(loadTransfers, 1500, () => transfers.some((t) => MOVING.has(t.status)));
}

/** The selected wallet's balances from the chain (GET /wallets/:id/assets). */
async function loadBalances() {
  const id = walletId();
  const line = byId("wallet-balances");
  try {
    const res = await api.get(`/wallets/${encodeURIComponent(id)}/assets`);
    if (id !== walletId()) return;
    assets = res.assets ?? [];
    line.textContent = `Balances: ${assets.map((a) => `${formatUnits(String(a.balance), Number(a.decimals ?? 0))} ${a.symbol ?? a.kind}`).join(", ") || "none"}`;
  } catch (err) {
    line.textContent = `Balances unavailable: ${describeError(err)}`;
  }
}

async function selectWallet() {
  const id = walletId();
  history.replaceState(null, "", `./transfers?wallet=${encodeURIComponent(id)}`);
  seen.clear();
  const option = select.selectedOptions[0];
  fill(
    byId("wallet-summary"),
    h("p", {}, "Address: ", h("span", { class: "mono" }, option?.dataset.address || "—"), " · Network: ", option?.dataset.network ?? "—"),
    h("p", { id: "wallet-balances" }, "Balances: …"),
  );
  assets = [];
  guessDecimals();
  watch();
  await loadBalances();
  guessDecimals();
}

async function start() {
  const res = await api.get("/wallets", { limit: 100 });
  /** @type {any[]} */
  const wallets = res.items ?? [];
  if (wallets.length === 0) {
    fill(rows, h("tr", {}, h("td", { colspan: 6 }, "No wallets yet: ", h("a", { href: "./wallets" }, "create one"), " first.")));
    form.hidden = true;
    return;
  }
  fill(select, wallets.map((w) => h("option", { value: w.id, "data-network": w.network, "data-address": w.address ?? "" }, `${w.name || w.id} — ${w.network}`)));
  const wanted = new URLSearchParams(location.search).get("wallet");
  if (wanted && wallets.some((w) => w.id === wanted)) select.value = wanted;
  await selectWallet();
}

select.addEventListener("change", () => void selectWallet());
kind.addEventListener("change", () => {
  byId("contract-field").hidden = kind.value !== "Erc20";
  contract.required = kind.value === "Erc20";
  guessDecimals();
});
contract.addEventListener("change", guessDecimals);
amount.addEventListener("input", showUnits);
decimals.addEventListener("input", showUnits);

onSubmit(form, async () => {
  const body = {
    kind: field(form, "kind"),
    to: field(form, "to"),
    amount: parseUnits(field(form, "amount"), Number(field(form, "decimals"))),
    ...(kind.value === "Erc20" ? { contract: field(form, "contract") } : {}),
  };
  say("Sign the transfer with your passkey…");
  const res = await api.signed("POST", `/wallets/${encodeURIComponent(walletId())}/transfers`, body);
  const t = res.body ?? {};
  seen.set(t.id, t.status);
  say(t.status === "Pending" || res.pendingApproval ? `Transfer ${t.id ?? ""} is waiting for approval by a policy.` : `Transfer ${t.id} is ${t.status}.`);
  form.reset();
  guessDecimals();
  await loadTransfers();
  watch();
});

start().catch((err) => fill(rows, h("tr", {}, h("td", { colspan: 6 }, describeError(err)))));
