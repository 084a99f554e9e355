// Resharing onto a new party set (wasm/src/reshare.rs): a replacement that holds nothing takes a
// retired party's index from the others (DKLs23 repair / FROST RTS), then every share is
// refreshed. Signatures of the new set are checked with @noble/curves against the unchanged key;
// the retired party's share no longer signs with any new one.
import { beforeAll, describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Ceremony, initMpc, KeyShare, MpcError, randomSessionId, runLocally, type MessageHeader, type Scheme } from "./index.js";

beforeAll(() => initMpc());

const enc = new TextEncoder();

function keygen(scheme: Scheme): KeyShare[] {
  const sessionId = randomSessionId();
  const cs = [1, 2, 3].map((me) => Ceremony.keygen({ scheme, sessionId, me, parties: [1, 2, 3], threshold: 2 }));
  runLocally(cs);
  return cs.map((c) => c.keyShare());
}

type Tamper = (message: Uint8Array, header: MessageHeader) => Uint8Array | null;

/** Party `target` is retired: the others and a replacement (holding nothing) reshare. */
function reshare(shares: KeyShare[], target: number, o: { tamper?: Tamper; publicKey?: Uint8Array } = {}): KeyShare[] {
  const sessionId = randomSessionId();
  const first = shares[0]!;
  const cs = [1, 2, 3].map((p) =>
    p === target
      ? Ceremony.reshare({ sessionId, parties: [1, 2, 3], target, scheme: first.scheme, threshold: 2, publicKey: o.publicKey ?? first.publicKey() })
      : Ceremony.reshare({ sessionId, parties: [1, 2, 3], target, share: shares[p - 1]! }),
  );
  runLocally(cs, o.tamper ? { tamper: o.tamper } : {});
  return cs.map((c) => c.keyShare());
}

function sign(shares: KeyShare[], signers: number[], message: Uint8Array) {
  const sessionId = randomSessionId();
  const cs = signers.map((p) => Ceremony.sign({ share: shares[p - 1]!, sessionId, signers, message }));
  runLocally(cs);
  return cs[0]!.signature();
}

const verifiers: Record<Scheme, (sig: Uint8Array, message: Uint8Array, pk: Uint8Array) => boolean> = {
  "ecdsa-secp256k1": (sig, digest, pk) => secp256k1.verify(sig, digest, pk, { prehash: false }),
  "frost-ed25519": (sig, msg, pk) => ed25519.verify(sig, msg, pk),
  "frost-bip340": (sig, msg, pk) => schnorr.verify(sig, msg, pk),
};

describe("reshare onto a replacement", () => {
  for (const scheme of ["ecdsa-secp256k1", "frost-ed25519", "frost-bip340"] as const) {
    it(`${scheme}: the replacement signs with every other party, under the same key; the retired share signs with none`, () => {
      const old = keygen(scheme);
      const pk = old[0]!.publicKey();
      const fresh = reshare(old, 1);
      for (const s of fresh) expect(Buffer.from(s.publicKey()).equals(Buffer.from(pk))).toBe(true);
      expect(fresh[0]!.partyIndex).toBe(1);
      for (const signers of [[1, 2], [1, 3], [2, 3]]) {
        const message = scheme === "ecdsa-secp256k1" ? sha256(enc.encode(`after reshare ${signers}`)) : enc.encode(`after reshare ${signers}`);
        expect(verifiers[scheme](sign(fresh, signers, message).signature, message, pk)).toBe(true);
      }
      // The retired holder's old share beside any new one: a typed failure, never a signature.
      const message = scheme === "ecdsa-secp256k1" ? sha256(enc.encode("retired")) : enc.encode("retired");
      for (const other of [2, 3]) {
        const mixed = [old[0]!, fresh[1]!, fresh[2]!];
        expect(() => sign(mixed, [1, other], message)).toThrow(MpcError);
      }
    }, 240_000);

    it(`${scheme}: a helper that lies to the replacement, or a key other than the expected one, yields no share`, () => {
      const old = keygen(scheme);
      // Flip a byte of helper 3's last repair-round message to the replacement.
      const repairRound = scheme === "ecdsa-secp256k1" ? 1 : 2;
      const tamper: Tamper = (m, h) => {
        if (h.round !== repairRound || h.from !== 3 || h.to !== 1) return m;
        const out = m.slice();
        out[out.length - 2]! ^= 1;
        return out;
      };
      expect(() => reshare(old, 1, { tamper })).toThrow(MpcError);
      // A key other than the one the helpers hold (ECDSA: any point; FROST: another group's key).
      const other = scheme === "ecdsa-secp256k1" ? secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true) : keygen(scheme)[0]!.publicKey();
      expect(() => reshare(old, 1, { publicKey: other })).toThrow(MpcError);
    }, 240_000);
  }
});
