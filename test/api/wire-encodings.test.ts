// Properties of the encodings other components rely on: the user-action commitment (recomputed by
// the share-holder nodes), base64url, and public-key parsing (never throws on garbage).
import { generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { verifyKeyAssertion } from "../../shared/src/dfns/key-assertion.js";
import { parsePublicKeyPem } from "../../shared/src/dfns/public-key.js";
import { canonicalUserActionBytes, userActionChallenge, type UserActionCommitment } from "../../shared/src/dfns/user-action.js";

const commitment = fc.record({
  method: fc.constantFrom("POST", "PUT", "DELETE"),
  path: fc.string(),
  payload: fc.string({ unit: "binary" }),
  orgId: fc.string(),
  subject: fc.string(),
  nonce: fc.string(),
  expiry: fc.nat(),
});

describe("user-action commitment", () => {
  it("is a fixed, documented encoding (known-answer vector)", () => {
    const c: UserActionCommitment = { method: "POST", path: "/wallets/wa-1/transfers", payload: '{"kind":"Native","to":"0xab","amount":"1"}', orgId: "or-1", subject: "us-1", nonce: "n", expiry: 1700000000 };
    expect(new TextDecoder().decode(canonicalUserActionBytes(c))).toBe(
      '{"domain":"tessera.user-action.v1","expiry":1700000000,"method":"POST","nonce":"n","orgId":"or-1","path":"/wallets/wa-1/transfers","payload":"{\\"kind\\":\\"Native\\",\\"to\\":\\"0xab\\",\\"amount\\":\\"1\\"}","subject":"us-1"}',
    );
    expect(userActionChallenge(c)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("round-trips: the canonical bytes parse back to exactly the committed fields (so distinct actions never collide)", () => {
    fc.assert(
      fc.property(commitment, (c) => {
        const parsed = JSON.parse(new TextDecoder().decode(canonicalUserActionBytes(c)));
        expect(parsed).toEqual({ domain: "tessera.user-action.v1", ...c });
      }),
      { numRuns: 300 },
    );
  });

  it("changes the challenge when any field changes", () => {
    fc.assert(
      fc.property(commitment, fc.constantFrom("path", "payload", "orgId", "subject", "nonce"), (c, field) => {
        const changed = { ...c, [field]: `${c[field as keyof UserActionCommitment]}x` };
        expect(userActionChallenge(changed)).not.toBe(userActionChallenge(c));
      }),
      { numRuns: 200 },
    );
  });
});

describe("base64url and keys", () => {
  it("base64url round-trips and agrees with Node's encoder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64url"));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
    expect(decodeBase64Url("ab$c")).toBeNull();
  });

  it("parses the keys Node generates and refuses garbage without throwing", () => {
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(parsePublicKeyPem(p256)?.algorithm).toBe("P-256");
    expect(parsePublicKeyPem(k1)?.algorithm).toBe("secp256k1");
    expect(parsePublicKeyPem(ed)?.algorithm).toBe("Ed25519");
    expect(parsePublicKeyPem(p384)).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (der) => {
        const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(der).toString("base64")}\n-----END PUBLIC KEY-----`;
        expect(() => parsePublicKeyPem(pem)).not.toThrow();
      }),
    );
  });

  it("verifies what Node's crypto.sign makes, for every supported curve, like the keysigner", async () => {
    for (const [type, opts] of [["ec", { namedCurve: "P-256" }], ["ec", { namedCurve: "secp256k1" }], ["ed25519", {}]] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as "ec", opts as { namedCurve: string });
      const clientData = utf8(JSON.stringify({ type: "key.get", challenge: "abc" }));
      const signature = sign(undefined, clientData, privateKey).toString("base64url");
      const input = { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), expectedChallenge: "abc", expectedType: "key.get" as const, clientData: encodeBase64Url(clientData) };
      expect(await verifyKeyAssertion({ ...input, signature })).toEqual({ ok: true });
      expect(await verifyKeyAssertion({ ...input, expectedChallenge: "abd", signature })).toMatchObject({ ok: false });
      const flipped = Buffer.from(signature, "base64url");
      flipped[flipped.length - 2] ^= 1;
      expect(await verifyKeyAssertion({ ...input, signature: flipped.toString("base64url") })).toMatchObject({ ok: false });
    }
  });
});
