// @ts-check
// Showing API values to people: amounts in the asset's unit, dates in the reader's locale.

/**
 * An integer amount in an asset's smallest unit, shown in whole units ("1500000000000000000", 18 → "1.5").
 * @param {string} units
 * @param {number} decimals
 */
export function formatUnits(units, decimals) {
  if (!/^-?\d+$/.test(units)) return units;
  const negative = units.startsWith("-");
  const digits = (negative ? units.slice(1) : units).padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return `${negative ? "-" : ""}${BigInt(whole).toLocaleString("en-US")}${fraction ? `.${fraction}` : ""}`;
}

/**
 * Whole units typed by a person → the integer string the API wants ("1.5", 18 → "1500000000000000000").
 * @param {string} amount
 * @param {number} decimals
 */
export function parseUnits(amount, decimals) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`"${amount}" is not an amount (digits, optionally a decimal point)`);
  const fraction = m[2] ?? "";
  if (fraction.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return (BigInt(m[1] ?? "0") * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0")).toString();
}

/** @param {string | null | undefined} iso */
export function formatDate(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Decimals and symbol of a network's native coin, for when the API names only the network. */
const NATIVE_COINS = /** @type {Record<string, { decimals: number, symbol: string }>} */ ({
  Ethereum: { decimals: 18, symbol: "ETH" },
  EthereumSepolia: { decimals: 18, symbol: "SEP" },
  EthereumHolesky: { decimals: 18, symbol: "ETH" },
  Anvil: { decimals: 18, symbol: "ETH" },
  Base: { decimals: 18, symbol: "ETH" },
  BaseSepolia: { decimals: 18, symbol: "ETH" },
  ArbitrumOne: { decimals: 18, symbol: "ETH" },
  Optimism: { decimals: 18, symbol: "ETH" },
  Polygon: { decimals: 18, symbol: "POL" },
  Solana: { decimals: 9, symbol: "SOL" },
  SolanaDevnet: { decimals: 9, symbol: "SOL" },
  Bitcoin: { decimals: 8, symbol: "BTC" },
  BitcoinSignet: { decimals: 8, symbol: "BTC" },
  BitcoinTestnet3: { decimals: 8, symbol: "BTC" },
});

/** @param {string} network @returns {{ decimals: number, symbol: string } | null} */
export function nativeCoin(network) {
  return NATIVE_COINS[network] ?? null;
}

/**
 * A transfer's amount for people: from the asset metadata the API sends, else for a native
 * transfer from the network's coin, else in the smallest unit.
 * @param {any} transfer a Dfns TransferRequest
 */
export function transferAmount(transfer) {
  const body = transfer?.requestBody ?? {};
  if (typeof body.amount !== "string") return "—";
  const asset = transfer.metadata?.asset ?? {};
  if (typeof asset.decimals === "number") return `${formatUnits(body.amount, asset.decimals)} ${asset.symbol ?? ""}`.trim();
  const coin = body.kind === "Native" ? nativeCoin(String(transfer.network)) : null;
  if (coin) return `${formatUnits(body.amount, coin.decimals)} ${coin.symbol}`;
  return `${body.amount} (smallest unit${body.contract ? ` of token ${body.contract}` : ""})`;
}
