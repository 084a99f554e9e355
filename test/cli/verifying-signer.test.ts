// The CLI's signer signs only a challenge that states the request the CLI announced.
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import type { UserActionChallenge } from "@dfns/sdk";
import { describe, expect, it } from "vitest";
import { verifyKeyAssertion } from "../../shared/src/dfns/key-assertion.js";
import { encodeChallenge, userActionChallenge } from "../../shared/src/dfns/user-action.js";
import { ChallengeRefused, VerifyingSigner } from "../../cli/src/verifying-signer.js";

const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
const now = Math.floor(Date.now() / 1000);
const wrap = (challenge: string): UserActionChallenge => ({ challenge, challengeIdentifier: "ch-1", allowCredentials: { key: [{ type: "public-key", id: "cred-1" }], webauthn: [] }, supportedCredentialKinds: [], externalAuthenticationUrl: "", userVerification: "required" });
const body = { kind: "Hash", hash: `0x${"ab".repeat(32)}` };
const action = (over: Partial<{ path: string; payload: string; orgId: string }> = {}) =>
  userActionChallenge({ method: "POST", path: "/wallets/wa-1/signatures", payload: JSON.stringify(body), orgId: "or-1", subject: "us-1", nonce: "n", issuedAt: now, expiry: now + 300, ...over });

describe("VerifyingSigner", () => {
  const signer = () => new VerifyingSigner(new AsymmetricKeySigner({ credId: "cred-1", privateKey: pem }), "or-1");

  it("signs the challenge of the announced request, as the official key signer does", async () => {
    const s = signer();
    s.expect("POST", "/wallets/wa-1/signatures", body);
    const assertion = await s.sign(wrap(action()));
    const check = await verifyKeyAssertion({ publicKeyPem, expectedChallenge: action(), expectedType: "key.get", clientData: assertion.credentialAssertion.clientData, signature: assertion.credentialAssertion.signature });
    expect(check).toEqual({ ok: true });
  });

  it("refuses another body, path or org, a login challenge, an opaque one, and anything unannounced", async () => {
    const cases: [string, RegExp][] = [
      [action({ payload: JSON.stringify({ kind: "Hash", hash: `0x${"cd".repeat(32)}` }) }), /another request body/],
      [action({ path: "/wallets/wa-2/signatures" }), /not \/wallets\/wa-1/],
      [action({ orgId: "or-2" }), /org or-2, not or-1/],
      [encodeChallenge({ kind: "Login", orgId: "or-1", nonce: "n", issuedAt: now, expiry: now + 300 }), /Login challenge/],
      ["q2hhbGxlbmdlLWZyb20tYW4tb2xkLXNlcnZlcg", /not a Tessera challenge/],
    ];
    for (const [challenge, reason] of cases) {
      const s = signer();
      s.expect("POST", "/wallets/wa-1/signatures", body);
      await expect(s.sign(wrap(challenge))).rejects.toThrow(reason);
    }
    // Announced once, signed once: a second challenge is not covered.
    const s = signer();
    s.expect("POST", "/wallets/wa-1/signatures", body);
    await s.sign(wrap(action()));
    await expect(s.sign(wrap(action()))).rejects.toBeInstanceOf(ChallengeRefused);
  });
});
