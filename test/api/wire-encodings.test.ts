// Properties of the encodings other components rely on: the user-action commitment (recomputed by
// the share-holder nodes), base64url, and public-key parsing (never throws on garbage).
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { verifyKeyAssertion } from "../../shared/src/dfns/key-assertion.js";
import { parsePublicKeyPem } from "../../shared/src/dfns/public-key.js";
import { challengeProblem, decodeChallenge, encodeChallenge, userActionChallenge, userActionClaims, type UserActionCommitment } from "../../shared/src/dfns/user-action.js";

const commitment = fc.record({
  method: fc.constantFrom("POST", "PUT", "DELETE"),
  path: fc.string(),
  payload: fc.string({ unit: "binary" }),
  orgId: fc.string(),
  subject: fc.string(),
  nonce: fc.string(),
  issuedAt: fc.nat(),
  expiry: fc.nat(),
});

describe("transparent challenges", () => {
  it("are a fixed, documented encoding (known-answer vector)", () => {
    const c: UserActionCommitment = { method: "POST", path: "/wallets/wa-1/transfers", payload: '{"kind":"Native","to":"0xab","amount":"1"}', orgId: "or-1", subject: "us-1", nonce: "n", issuedAt: 1699999700, expiry: 1700000000 };
    const challenge = userActionChallenge(c);
    expect(new TextDecoder().decode(decodeBase64Url(challenge)!)).toBe(
      'tessera.challenge.v1\n{"bodySha256":"' +
        createHash("sha256").update(c.payload).digest("hex") +
        '","expiry":1700000000,"issuedAt":1699999700,"kind":"UserAction","method":"POST","nonce":"n","orgId":"or-1","path":"/wallets/wa-1/transfers","subject":"us-1"}',
    );
    expect(challenge).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("decode to exactly the claims they were made from, and nothing else decodes", () => {
    fc.assert(
      fc.property(commitment, (c) => {
        expect(decodeChallenge(userActionChallenge(c))).toEqual(userActionClaims(c));
      }),
      { numRuns: 300 },
    );
    const login = encodeChallenge({ kind: "Login", orgId: "or-1", nonce: "n", issuedAt: 1, expiry: 2 });
    expect(decodeChallenge(login)).toEqual({ kind: "Login", orgId: "or-1", nonce: "n", issuedAt: 1, expiry: 2 });
    // A random (opaque) challenge, a non-canonical re-encoding, an unknown kind: not challenges.
    expect(decodeChallenge(encodeBase64Url(new Uint8Array(32).fill(9)))).toBeNull();
    expect(decodeChallenge(encodeBase64Url(utf8('tessera.challenge.v1\n{"orgId":"or-1","kind":"Login","nonce":"n","issuedAt":1,"expiry":2}')))).toBeNull();
    expect(decodeChallenge(encodeBase64Url(utf8('tessera.challenge.v1\n{"expiry":2,"issuedAt":1,"kind":"Transfer","nonce":"n","orgId":"or-1"}')))).toBeNull();
  });

  it("change when any field changes", () => {
    fc.assert(
      fc.property(commitment, fc.constantFrom("path", "payload", "orgId", "subject", "nonce"), (c, field) => {
        const changed = { ...c, [field]: `${c[field as keyof UserActionCommitment]}x` };
        expect(userActionChallenge(changed)).not.toBe(userActionChallenge(c));
      }),
      { numRuns: 200 },
    );
  });

  it("let a client refuse a challenge that does not describe its request", () => {
    const now = 1_700_000_000;
    const request = { orgId: "or-1", method: "POST", path: "/wallets/wa-1/signatures", payload: '{"kind":"Hash","hash":"0x01"}' };
    const good = userActionChallenge({ ...request, subject: "us-1", nonce: "n", issuedAt: now, expiry: now + 300 });
    expect(challengeProblem(good, request, now)).toBeNull();
    expect(challengeProblem(good, { ...request, payload: '{"kind":"Hash","hash":"0x02"}' }, now)).toMatch(/another request body/);
    expect(challengeProblem(good, { ...request, path: "/wallets/wa-2/signatures" }, now)).toMatch(/not \/wallets\/wa-2/);
    expect(challengeProblem(good, { ...request, orgId: "or-2" }, now)).toMatch(/org or-1, not or-2/);
    expect(challengeProblem(good, { login: true }, now)).toMatch(/login page was handed a UserAction/);
    const login = encodeChallenge({ kind: "Login", orgId: "or-1", nonce: "n", issuedAt: now, expiry: now + 300 });
    expect(challengeProblem(login, { login: true, orgId: "or-1" }, now)).toBeNull();
    expect(challengeProblem(login, request, now)).toMatch(/Login challenge was offered for a user action/);
    expect(challengeProblem(userActionChallenge({ ...request, subject: "us-1", nonce: "n", issuedAt: now, expiry: now + 86_400 }), request, now)).toMatch(/longer/);
    expect(challengeProblem(encodeBase64Url(new Uint8Array(32)), request, now)).toMatch(/not a Tessera challenge/);
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
