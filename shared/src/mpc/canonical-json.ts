// Canonical JSON: one byte string per value, so a signature over it means the same thing to every
// party that re-encodes the parsed value (the edge signing an authorization, a node checking it, a
// node chaining its audit log). Rules, in the spirit of RFC 8785 but restricted so that no
// floating-point formatting question can arise:
//   - objects: keys sorted by UTF-16 code units (Array.prototype.sort's default order), members
//     whose value is `undefined` omitted, no whitespace;
//   - arrays: in order;
//   - strings: exactly as JSON.stringify writes them (specified by ECMA-262, including the escaping
//     of lone surrogates);
//   - numbers: safe integers only, in decimal; anything else (fractions, NaN, ±Infinity, -0 is
//     written as 0) is refused rather than guessed at;
//   - true, false, null as themselves. Anything else (bigint, Uint8Array, Date, …) is refused.
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

export function canonicalJson(value: unknown): string {
  return encode(value, "$", 0);
}

const MAX_DEPTH = 64;

function encode(value: unknown, at: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(`${at}: nested deeper than ${MAX_DEPTH}`);
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(`${at}: only safe integers can be encoded, got ${value}`);
      return String(value === 0 ? 0 : value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${at}[${i}]`, depth + 1)).join(",")}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(`${at}: only plain objects can be encoded`);
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${encode(record[k], `${at}.${k}`, depth + 1)}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`${at}: a ${typeof value} cannot be encoded`);
  }
}

export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
