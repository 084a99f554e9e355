// The coordinator's half of the one-round-trip signature from a presignature
// (wasm/vendor/dkls23-core/PRESIGN.md, "Assembling at the coordinator"): each signer, once it has
// checked the request and spent its presignature, sends the coordinator what it broadcasts to the
// other signers, `(u_i', w_i)`, with the signature's public `r = x(R')`; the coordinator computes
// `s = Σw_i / Σu_i` (DKLs23's phase 4) and keeps the signature only if it verifies against the
// key. Runtime-neutral (noble), so the edge runs it in workerd.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { MAX_PRESIGNATURE_BATCH } from "./authorization.js";
import { ecdsaRecoveryBit } from "./coordinator.js";

/**
 * The ids of the `count` presignatures a presigning ceremony makes, in order: for each `i`,
 * `SHA-256("tessera.mpc.presignature.v1\n" || session id || u32 BE i)`. The authorization names
 * the session and the count, so every node, the edge and an auditor derive the same ids; they are
 * distinct from each other and from every session id (another domain), and each is the id its
 * presignature is made under in the core and later named by the signature that uses it.
 */
export function presignatureIds(sessionId: string, count: number): string[] {
  if (!/^[0-9a-f]{64}$/.test(sessionId)) throw new Error("a session id is 32 bytes of lower-case hex");
  if (!Number.isInteger(count) || count < 1 || count > MAX_PRESIGNATURE_BATCH) throw new Error(`a presigning ceremony makes 1 to ${MAX_PRESIGNATURE_BATCH} presignatures, not ${count}`);
  const domain = new TextEncoder().encode("tessera.mpc.presignature.v1\n");
  const input = new Uint8Array(domain.length + 32 + 4);
  input.set(domain);
  input.set(hexToBytes(sessionId), domain.length);
  const view = new DataView(input.buffer);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    view.setUint32(domain.length + 32, i);
    out.push(bytesToHex(sha256(input)));
  }
  return out;
}

/** `x(R') || u_i' || w_i`, 32 bytes each (wasm Ceremony.partial()). */
export const PARTIAL_BYTES = 96;

const Fn = secp256k1.Point.Fn;
const big = (b: Uint8Array) => BigInt(`0x${bytesToHex(b) || "0"}`);

/**
 * The signature the partials assemble to, low-S with its recovery id, if it verifies against
 * `publicKey` (compressed hex) for the 32-byte `digest`; null for anything else (partials of
 * different instance points, a zero sum, a wrong partial). Verification is what makes a partial
 * from a lying signer harmless: the caller then waits for the signers' own results instead.
 */
export function combinePartials(partials: Uint8Array[], digest: Uint8Array, publicKey: string): { signature: string; recid: 0 | 1 } | null {
  if (partials.length < 2 || partials.some((p) => p.length !== PARTIAL_BYTES)) return null;
  const x = bytesToHex(partials[0]!.subarray(0, 32));
  if (partials.some((p) => bytesToHex(p.subarray(0, 32)) !== x)) return null;
  const r = big(partials[0]!.subarray(0, 32));
  if (r === 0n || r >= Fn.ORDER) return null;
  let u = 0n;
  let w = 0n;
  for (const p of partials) {
    u = Fn.add(u, Fn.create(big(p.subarray(32, 64))));
    w = Fn.add(w, Fn.create(big(p.subarray(64, 96))));
  }
  if (Fn.is0(u)) return null;
  let s = Fn.mul(w, Fn.inv(u));
  if (s > Fn.ORDER >> 1n) s = Fn.neg(s);
  if (s === 0n) return null;
  const signature = x + s.toString(16).padStart(64, "0");
  try {
    const recid = ecdsaRecoveryBit(hexToBytes(signature), digest, publicKey);
    return recid === null ? null : { signature, recid };
  } catch {
    return null;
  }
}
