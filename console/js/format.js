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
