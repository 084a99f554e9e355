// Exact decimal numbers for money: an integer coefficient and a power-of-ten scale
// (value = units / 10^scale). Amounts arrive in an asset's base units (wei, satoshi) as digit
// strings, prices and limits as decimal strings or JSON numbers; every comparison the policy
// engine makes is done on bigints, so 0.1 + 0.2 is exactly 0.3 and an 18-decimal token amount never
// loses a unit. Nothing here ever goes through a binary float.

export interface Decimal {
  /** The value times 10^scale. */
  readonly units: bigint;
  /** Number of decimal places (≥ 0). */
  readonly scale: number;
}

/** Digits, optional fraction, optional exponent — what String(number) and JSON produce. */
const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

const PLAIN_DIGITS = /^\d+$/;

/** Largest scale we accept: more places than any asset or price needs, small enough to stay cheap. */
export const MAX_SCALE = 60;

export class DecimalError extends Error {
  override name = "DecimalError";
}

/**
 * Parses a decimal string ("12", "0.000001", "1e-7") or a finite JSON number. A number is read
 * through its shortest round-trip text (String(0.1) === "0.1"), which is the decimal the client
 * wrote in its JSON, so no binary rounding error enters.
 */
export function parseDecimal(input: string | number): Decimal {
  // Fast path for the common case (safe integers, plain digit strings): no regex, no scale.
  if (typeof input === "number" && Number.isSafeInteger(input)) return { units: BigInt(input), scale: 0 };
  if (typeof input === "string" && input.length > 0 && input.length <= 30 && PLAIN_DIGITS.test(input)) return { units: BigInt(input), scale: 0 };
  if (typeof input === "number" && !Number.isFinite(input)) throw new DecimalError("not a finite number");
  const text = typeof input === "number" ? String(input) : input.trim();
  const m = DECIMAL_TEXT.exec(text);
  if (!m) throw new DecimalError(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
  const [, sign, whole, fraction = "", exponentText] = m;
  const exponent = exponentText ? Number(exponentText) : 0;
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) throw new DecimalError("exponent out of range");
  let units = BigInt(whole! + fraction);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (scale > MAX_SCALE) throw new DecimalError(`more than ${MAX_SCALE} decimal places`);
  return normalize({ units: sign === "-" ? -units : units, scale });
}

/** An amount in base units (e.g. wei) of an asset with `decimals` decimals, as a value of the asset. */
export function fromBaseUnits(baseUnits: string, decimals: number): Decimal {
  if (!/^\d{1,100}$/.test(baseUnits)) throw new DecimalError("base-unit amount must be a non-negative integer string");
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_SCALE) throw new DecimalError("decimals out of range");
  return normalize({ units: BigInt(baseUnits), scale: decimals });
}

export const ZERO: Decimal = { units: 0n, scale: 0 };

/** Drops trailing zero places, so equal values have equal representations. */
function normalize(d: Decimal): Decimal {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return { units, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

/** Sum (not normalized: running totals skip that work; compare and format do not need it). */
export function add(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { units: a.units + b.units, scale: a.scale };
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export function multiply(a: Decimal, b: Decimal): Decimal {
  return normalize({ units: a.units * b.units, scale: a.scale + b.scale });
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compare(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sum(values: Iterable<Decimal>): Decimal {
  let total = ZERO;
  for (const v of values) total = add(total, v);
  return total;
}

/** Plain decimal text, no exponent: "1500", "0.000000000000000001", "-2.5". */
export function formatDecimal(value: Decimal): string {
  const d = normalize(value);
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString();
  if (d.scale === 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(d.scale + 1, "0");
  const cut = padded.length - d.scale;
  return `${negative ? "-" : ""}${padded.slice(0, cut)}.${padded.slice(cut)}`;
}
