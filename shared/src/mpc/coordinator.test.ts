// The coordinator's own check of what the nodes return (verifySignature): for ECDSA with a recovery
// id it computes the nonce point once from the verification equation (ecdsaRecoveryBit) instead of
// verifying and recovering, so every way a signature can be wrong
// must still be refused — a signature by another key, over another message, a wrong recovery id, a
// high S (malleated twin of a valid signature), garbage.
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { ecdsaRecoveryBit, verifySignature } from "./coordinator.js";

const N = secp256k1.Point.CURVE().n;

describe("verifySignature", () => {
  const sk = secp256k1.utils.randomSecretKey();
  const pk = bytesToHex(secp256k1.getPublicKey(sk, true));
  const msg = new Uint8Array(32).fill(9);
  const sig = secp256k1.sign(msg, sk, { prehash: false, format: "recovered" });
  const recid = sig[0] as 0 | 1;
  const compact = bytesToHex(sig.subarray(1));

  it("accepts a valid ECDSA signature with and without its recovery id", () => {
    expect(verifySignature("ecdsa-secp256k1", { signature: compact, recid, publicKey: pk }, msg)).toBe(true);
    expect(verifySignature("ecdsa-secp256k1", { signature: compact, publicKey: pk }, msg)).toBe(true);
  });

  it("refuses another key, another message, the wrong recovery id, a high S, garbage", () => {
    const other = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
    expect(verifySignature("ecdsa-secp256k1", { signature: compact, recid, publicKey: other }, msg)).toBe(false);
    expect(verifySignature("ecdsa-secp256k1", { signature: compact, recid, publicKey: pk }, new Uint8Array(32).fill(8))).toBe(false);
    expect(verifySignature("ecdsa-secp256k1", { signature: compact, recid: (1 - recid) as 0 | 1, publicKey: pk }, msg)).toBe(false);
    // (r, n - s) with the flipped recovery id recovers the same key: only the low-S rule refuses it.
    const parsed = secp256k1.Signature.fromBytes(sig.subarray(1), "compact");
    const high = new secp256k1.Signature(parsed.r, N - parsed.s);
    const highRecid = (1 - recid) as 0 | 1;
    expect(high.addRecoveryBit(highRecid).recoverPublicKey(msg).toHex(true)).toBe(pk);
    expect(verifySignature("ecdsa-secp256k1", { signature: bytesToHex(high.toBytes("compact")), recid: highRecid, publicKey: pk }, msg)).toBe(false);
    expect(verifySignature("ecdsa-secp256k1", { signature: "00".repeat(64), recid, publicKey: pk }, msg)).toBe(false);
    expect(verifySignature("ecdsa-secp256k1", { signature: "zz", recid, publicKey: pk }, msg)).toBe(false);
  });

  it("finds the recovery id noble's signer gives, for many keys and messages, and nothing for a wrong key or message", () => {
    for (let i = 0; i < 24; i++) {
      const k = secp256k1.utils.randomSecretKey();
      const key = bytesToHex(secp256k1.getPublicKey(k, i % 2 === 0));
      const m = crypto.getRandomValues(new Uint8Array(32));
      const s = secp256k1.sign(m, k, { prehash: false, format: "recovered" });
      expect(ecdsaRecoveryBit(s.subarray(1), m, key)).toBe(s[0]);
      expect(ecdsaRecoveryBit(s.subarray(1), m, pk)).toBe(null);
      expect(ecdsaRecoveryBit(s.subarray(1), crypto.getRandomValues(new Uint8Array(32)), key)).toBe(null);
    }
  });

  it("checks FROST signatures against their own schemes", () => {
    const edSk = ed25519.utils.randomSecretKey();
    const edSig = bytesToHex(ed25519.sign(msg, edSk));
    expect(verifySignature("frost-ed25519", { signature: edSig, publicKey: bytesToHex(ed25519.getPublicKey(edSk)) }, msg)).toBe(true);
    expect(verifySignature("frost-ed25519", { signature: edSig, publicKey: bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey())) }, msg)).toBe(false);
    const sSig = bytesToHex(schnorr.sign(msg, sk));
    expect(verifySignature("frost-bip340", { signature: sSig, publicKey: bytesToHex(schnorr.getPublicKey(sk)) }, msg)).toBe(true);
    expect(verifySignature("frost-bip340", { signature: sSig, publicKey: bytesToHex(schnorr.getPublicKey(sk)) }, new Uint8Array(32))).toBe(false);
  });
});
