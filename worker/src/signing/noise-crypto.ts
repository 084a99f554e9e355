// The edge's noise transport cipher: ChaCha20-Poly1305 from workerd's node:crypto (BoringSSL)
// instead of @noble/ciphers in JavaScript. Every frame to and from a share holder is sealed with it
// after the handshake; in workerd the JS cipher cost ≈ 0.4 ms per 3 KB authorization frame, the
// native one a tenth of that (the Node share holders already use node:crypto through
// libp2p-noise's own Node build). The handshake (X25519, SHA-256, HKDF) stays @noble's
// (pureJsCrypto): it runs once per connection. Same RFC 8439 AEAD, same bytes on the wire
// (noise-crypto.workerd.test.ts compares both ciphers on the same inputs).
import { createCipheriv, createDecipheriv } from "node:crypto";
import { pureJsCrypto, type ICryptoInterface } from "@chainsafe/libp2p-noise";

const AEAD = "chacha20-poly1305";
const TAG_BYTES = 16;

/** The bytes of a Uint8Array or of the Uint8ArrayList libp2p may hand over (copied into one). */
function bytesOf(data: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

function joined(a: Uint8Array, b: Uint8Array, c?: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + (c?.length ?? 0));
  out.set(a);
  out.set(b, a.length);
  if (c) out.set(c, a.length + b.length);
  return out;
}

export const workerdNoiseCrypto: ICryptoInterface = {
  ...pureJsCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    const data = bytesOf(plaintext);
    const cipher = createCipheriv(AEAD, k, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(ad, { plaintextLength: data.length });
    return joined(cipher.update(data), cipher.final(), cipher.getAuthTag());
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k) {
    const data = bytesOf(ciphertext);
    if (data.length < TAG_BYTES) throw new Error("Invalid chacha20poly1305 decryption");
    const decipher = createDecipheriv(AEAD, k, nonce, { authTagLength: TAG_BYTES });
    const body = data.subarray(0, data.length - TAG_BYTES);
    decipher.setAAD(ad, { plaintextLength: body.length });
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    // final() throws when the tag does not verify: a forged or corrupted frame never decrypts.
    return joined(decipher.update(body), decipher.final());
  },
};
