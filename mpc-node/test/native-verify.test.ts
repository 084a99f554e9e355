// The node's synchronous signature checks (src/ceremony/native-verify.ts) against WebCrypto's,
// through the same shared verifyWithPublicKey: for each credential algorithm a node checks
// (Ed25519, P-256, RSA) they accept and refuse exactly the same signatures — valid ones, a changed
// message, a changed signature, another key, a key of another algorithm, garbage.
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parsePublicKeyPem, verifyWithPublicKey, type ParsedPublicKey } from "../../shared/src/dfns/public-key.js";
import { nativeVerify } from "../src/ceremony/native-verify.js";

const kinds = {
  Ed25519: () => generateKeyPairSync("ed25519"),
  "P-256": () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }),
  RSA: () => generateKeyPairSync("rsa", { modulusLength: 2048 }),
} as const;

function credential(kind: keyof typeof kinds) {
  const { publicKey, privateKey } = kinds[kind]();
  const parsed = parsePublicKeyPem(publicKey.export({ type: "spki", format: "pem" }).toString())!;
  // As the Dfns key signer signs: crypto.sign(undefined, message, key) (DER for ECDSA).
  const signWith = (m: Uint8Array) => new Uint8Array(sign(kind === "Ed25519" ? null : "sha256", m, privateKey));
  return { parsed, signWith };
}

async function both(key: ParsedPublicKey, message: Uint8Array, signature: Uint8Array): Promise<[boolean, boolean]> {
  return [await verifyWithPublicKey(key, message, signature), await verifyWithPublicKey(key, message, signature, nativeVerify)];
}

describe("native signature checks agree with WebCrypto's", () => {
  for (const kind of Object.keys(kinds) as (keyof typeof kinds)[]) {
    it(kind, async () => {
      const a = credential(kind);
      const b = credential(kind);
      const message = new TextEncoder().encode(`{"type":"key.get","challenge":"${kind}"}`);
      const signature = a.signWith(message);
      expect(await both(a.parsed, message, signature)).toEqual([true, true]);
      const changed = message.slice();
      changed[3]! ^= 1;
      expect(await both(a.parsed, changed, signature)).toEqual([false, false]);
      for (const at of [0, 10, signature.length - 1]) {
        const bad = signature.slice();
        bad[at]! ^= 0x40;
        expect(await both(a.parsed, message, bad)).toEqual([false, false]);
      }
      expect(await both(b.parsed, message, signature)).toEqual([false, false]);
      expect(await both(a.parsed, message, new Uint8Array(0))).toEqual([false, false]);
    });
  }

  it("a key is only used as its own algorithm; garbage keys are refused", () => {
    const ed = credential("Ed25519");
    const message = new Uint8Array(32).fill(5);
    const signature = ed.signWith(message);
    expect(nativeVerify("Ed25519", ed.parsed.spki, message, signature)).toBe(true);
    expect(nativeVerify("P-256", ed.parsed.spki, message, signature)).toBe(false);
    expect(nativeVerify("RSA", ed.parsed.spki, message, signature)).toBe(false);
    expect(nativeVerify("Ed25519", new Uint8Array(44).fill(7), message, signature)).toBe(false);
  });
});
