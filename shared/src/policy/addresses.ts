// Comparing blockchain addresses as the chains do: EVM hex addresses and bech32 addresses are
// case-insensitive (checksum casing is presentation), base58 and other encodings are not.
// Whitelists and sanction lists are matched on this canonical form.

const EVM_HEX = /^0x[0-9a-fA-F]{40}$/;
/** bech32 / bech32m: human-readable part, "1", data; all one case by the spec. */
const BECH32 = /^[a-zA-Z]{1,83}1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,}$/;

export function canonicalAddress(address: string): string {
  const a = address.trim();
  if (EVM_HEX.test(a)) return a.toLowerCase();
  if (BECH32.test(a) && (a === a.toLowerCase() || a === a.toUpperCase())) return a.toLowerCase();
  return a;
}
