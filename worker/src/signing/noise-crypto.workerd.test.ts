// The edge's native noise cipher against @noble's (what libp2p-noise uses without it): the same
// ciphertexts for the same inputs, and nothing decrypts that was altered.
import { pureJsCrypto } from "@chainsafe/libp2p-noise";
import { Uint8ArrayList } from "uint8arraylist";
import { describe, expect, it } from "vitest";
import { workerdNoiseCrypto } from "./noise-crypto.js";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const bytes = (b: Uint8Array | { subarray(): Uint8Array }) => (b instanceof Uint8Array ? b : b.subarray());
// A list as libp2p hands it over (its own uint8arraylist version: the same shape, another type).
type Input = Parameters<typeof workerdNoiseCrypto.chaCha20Poly1305Encrypt>[0];
const list = (...parts: Uint8Array[]) => new Uint8ArrayList(...parts) as unknown as Input;

describe("workerd noise cipher", () => {
  it("seals exactly as @noble/ciphers does and opens what it seals", () => {
    for (const size of [0, 1, 15, 16, 17, 63, 64, 65, 1199, 1200, 3300, 65_519]) {
      const k = random(32);
      const nonce = random(12);
      const ad = random(size % 3 === 0 ? 0 : 32);
      const plaintext = random(size);
      const sealed = bytes(workerdNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
      expect(sealed).toEqual(bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)));
      expect(bytes(workerdNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k))).toEqual(plaintext);
      expect(bytes(pureJsCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k))).toEqual(plaintext);
    }
  });

  it("takes a Uint8ArrayList as libp2p hands it over", () => {
    const k = random(32);
    const nonce = random(12);
    const parts = [random(100), random(1), random(2000)];
    const whole = new Uint8ArrayList(...parts).subarray();
    const sealed = bytes(workerdNoiseCrypto.chaCha20Poly1305Encrypt(list(...parts), nonce, new Uint8Array(0), k));
    expect(sealed).toEqual(bytes(pureJsCrypto.chaCha20Poly1305Encrypt(whole, nonce, new Uint8Array(0), k)));
    const split = list(sealed.subarray(0, 7), sealed.subarray(7));
    expect(bytes(workerdNoiseCrypto.chaCha20Poly1305Decrypt(split, nonce, new Uint8Array(0), k))).toEqual(whole);
  });

  it("refuses a frame altered anywhere, under another nonce, key or associated data", () => {
    const k = random(32);
    const nonce = random(12);
    const ad = random(32);
    const plaintext = random(500);
    const sealed = bytes(workerdNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
    const open = (c: Uint8Array, n = nonce, a = ad, key = k) => () => workerdNoiseCrypto.chaCha20Poly1305Decrypt(c, n, a, key);
    for (const at of [0, 250, sealed.length - 17, sealed.length - 16, sealed.length - 1]) {
      const altered = sealed.slice();
      altered[at]! ^= 0x01;
      expect(open(altered)).toThrow();
    }
    expect(open(sealed, random(12))).toThrow();
    expect(open(sealed, nonce, random(32))).toThrow();
    expect(open(sealed, nonce, ad, random(32))).toThrow();
    expect(open(sealed.subarray(0, 15))).toThrow();
    expect(open(sealed.subarray(0, sealed.length - 1))).toThrow();
  });
});
