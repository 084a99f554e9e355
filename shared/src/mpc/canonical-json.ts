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
  try {
    return encode(value, 0);
  } catch (e) {
    if (e instanceof Refusal) throw new CanonicalJsonError(`$${e.path.reverse().join("")}: ${e.message}`);
    throw e;
  }
}

const MAX_DEPTH = 64;

/** A refusal on its way up, collecting the path (innermost first) only when one is thrown. */
class Refusal extends Error {
  readonly path: string[] = [];
}

function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new Refusal(`nested deeper than ${MAX_DEPTH}`);
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isSafeInteger(value)) throw new Refusal(`only safe integers can be encoded, got ${value}`);
      return String(value === 0 ? 0 : value);
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          out += member(value[i], depth, i);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Refusal("only plain objects can be encoded");
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = "{";
      for (const k of keys) {
        const v = record[k];
        if (v === undefined) continue;
        if (out.length > 1) out += ",";
        out += `${JSON.stringify(k)}:${member(v, depth, k)}`;
      }
      return `${out}}`;
    }
    default:
      throw new Refusal(`a ${typeof value} cannot be encoded`);
  }
}

/** A member's encoding; a refusal inside it gets this member's step of the path (built only then). */
function member(v: unknown, depth: number, step: string | number): string {
  try {
    return encode(v, depth + 1);
  } catch (e) {
    if (e instanceof Refusal) e.path.push(typeof step === "number" ? `[${step}]` : `.${step}`);
    throw e;
  }
}

export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
