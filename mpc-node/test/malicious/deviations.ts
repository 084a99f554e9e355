// The cheats the malicious node can be set to, each a `Deviation` (mpc-node/src/ceremony/engine.ts)
// rewriting core messages before the cheater signs them. They work on the wire formats the core
// defines (wasm/src/wire.rs: header, then `u32 | broadcast | direct`) and on frost-core's postcard
// serialisation of its packages (header: version u8 + 4-byte ciphersuite id; a vector's length as a
// varint; elements and scalars as fixed 32-byte arrays; the proof of knowledge as a length-prefixed
// 64-byte string). Ed25519 only: that is the curve these tests cheat on.
import { ed25519 } from "@noble/curves/ed25519.js";
import { randomBytes } from "node:crypto";
import type { Deviation } from "../../src/ceremony/engine.js";

const HEADER = 36;
const L = ed25519.Point.Fn.ORDER;
const G = ed25519.Point.BASE;

function splitBody(message: Uint8Array) {
  const body = message.subarray(HEADER);
  const n = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  return { broadcast: body.subarray(4, 4 + n), direct: body.subarray(4 + n) };
}

function withBody(message: Uint8Array, broadcast: Uint8Array, direct: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + 4 + broadcast.length + direct.length);
  out.set(message.subarray(0, HEADER));
  new DataView(out.buffer).setUint32(HEADER, broadcast.length);
  out.set(broadcast, HEADER + 4);
  out.set(direct, HEADER + 4 + broadcast.length);
  return out;
}

const leToBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).reverse().toString("hex") || "0"}`);
const bigToLe = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse());

/** Offsets of the coefficient commitments in a frost-core round-1 package (ed25519). */
function commitmentOffsets(pkg: Uint8Array): number[] {
  let at = 5; // header: version + ciphersuite id
  const count = pkg[at++]!; // postcard varint; a handful of coefficients fits one byte
  if (pkg.length !== at + 32 * count + 65) throw new Error(`unexpected round-1 package layout (${pkg.length} bytes, ${count} commitments)`);
  return Array.from({ length: count }, (_, i) => at + 32 * i);
}

function randomScalar(): bigint {
  return (leToBig(randomBytes(64)) % (L - 1n)) + 1n;
}

/**
 * FROST DKG (keygen or refresh): tells `victim` about a different polynomial with the same constant
 * term — one coefficient commitment moved by δ·G and the victim's secret share moved by δ·x to
 * match — so every check the victim can make alone passes (the proof of knowledge covers only the
 * constant term) while the victim and the others now hold inconsistent shares of the same group key.
 */
export function equivocateFrostDkg(victim: number): Deviation {
  const delta = randomScalar();
  return {
    core(m, message) {
      if (m.to !== victim || (m.kind !== "keygen" && m.kind !== "refresh")) return message;
      const { broadcast, direct } = splitBody(message);
      // Keygen commitments start with the constant term; a refresh's leave out its zero constant.
      const coefficient = m.kind === "keygen" ? 1 : 0;
      // f'(x) = f(x) + δ·x either way: the victim's share moves by δ·victim.
      const power = BigInt(victim);
      if (m.round === 1) {
        const pkg = broadcast.slice();
        const at = commitmentOffsets(pkg)[coefficient]!;
        const moved = ed25519.Point.fromBytes(pkg.subarray(at, at + 32)).add(G.multiply(delta));
        pkg.set(moved.toBytes(), at);
        return withBody(message, pkg, direct);
      }
      if (m.round === 2) {
        const pkg = direct.slice();
        const at = pkg.length - 32;
        pkg.set(bigToLe((leToBig(pkg.subarray(at)) + delta * power) % L), at);
        return withBody(message, broadcast, pkg);
      }
      return message;
    },
  };
}

/** DKLs23 keygen: a different round-2 broadcast (proof and chain-code commitments) for `victim`. */
export function equivocateDklsBroadcast(victim: number): Deviation {
  return {
    core(m, message) {
      if (m.to !== victim || m.kind !== "keygen" || m.round !== 2) return message;
      const { broadcast, direct } = splitBody(message);
      const other = broadcast.slice();
      other[other.length - 1]! ^= 0x01;
      return withBody(message, other, direct);
    },
  };
}

/** After keygen: confirms a public key package with one verifying share changed. */
export function wrongVerifyingShare(): Deviation {
  return {
    publicView(view) {
      const out = view.slice();
      out[out.length - 1]! ^= 0x01;
      return out;
    },
  };
}

/** FROST signing: different nonce commitments (fresh valid points) for `victim`. */
export function equivocateSigningCommitments(victim: number): Deviation {
  return {
    core(m, message) {
      if (m.to !== victim || m.kind !== "sign" || m.round !== 1) return message;
      const { broadcast, direct } = splitBody(message);
      const other = broadcast.slice();
      // hiding and binding commitments: the two last points
      other.set(G.multiply(randomScalar()).toBytes(), other.length - 64);
      other.set(G.multiply(randomScalar()).toBytes(), other.length - 32);
      return withBody(message, other, direct);
    },
  };
}
