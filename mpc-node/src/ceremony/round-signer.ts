// Signs this node's round statements with its peer key and checks peers' statements against their
// peer ids. node:crypto's Ed25519 (OpenSSL) rather than noble here: a statement is signed per
// message and checked per message on the signing path, where the speed work counts microseconds.
// The signatures are plain RFC 8032 Ed25519, so third parties check evidence with noble
// (shared/src/mpc/round-statements.ts).
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { publicKeyOfPeer, statementHash } from "../../../shared/src/mpc/round-statements.js";

const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

export class RoundSigner {
  private readonly key: KeyObject;
  private readonly peers = new Map<string, KeyObject>();

  /** @param seed the node's 32-byte Ed25519 peer-key seed */
  constructor(seed: Uint8Array) {
    const pub = ed25519.getPublicKey(seed);
    this.key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(seed), x: b64url(pub) }, format: "jwk" });
  }

  sign(statement: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, statementHash(statement), this.key));
  }

  verify(peerId: string, statement: Uint8Array, signature: Uint8Array): boolean {
    let key = this.peers.get(peerId);
    if (!key) {
      try {
        key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(publicKeyOfPeer(peerId)) }, format: "jwk" });
      } catch {
        return false;
      }
      this.peers.set(peerId, key);
    }
    return signature.length === 64 && verify(null, statementHash(statement), key, signature);
  }
}

/**
 * SHA-256 through node:crypto (OpenSSL, SHA extensions where the CPU has them): the digests of
 * every round message (tens of KB for ECDSA) are taken on the signing path. Same function as
 * noble's, which third parties use to check the statements.
 */
export function nativeSha256(bytes: Uint8Array): Uint8Array {
  const d = createHash("sha256").update(bytes).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
