// Identifiers in Dfns's style: a short kind prefix and random base32 (`us-…`, `to-…`, `pm-…`).
// 100 random bits each: unguessable, so an id alone never grants anything but is also never a secret.

const BASE32 = "0123456789abcdefghjkmnpqrstvwxyz";

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export type IdKind = "or" | "us" | "to" | "cr" | "pm" | "as" | "ch" | "ua" | "au" | "xfr" | "tx" | "wh" | "whe" | "wa" | "key" | "sig";

export function newId(kind: IdKind): string {
  const s = base32(randomBytes(13)).slice(0, 20);
  return `${kind}-${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10)}`;
}
