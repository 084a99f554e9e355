// Verifies the answer to a challenge (login or user action) against the credentials registered to
// the challenge's subject: Key credentials as the Dfns key signer signs, passkeys with
// @simplewebauthn/server (origin, RP id, user presence and verification, signature, counter).
import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { decodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { verifyKeyAssertion } from "../../../shared/src/dfns/key-assertion.js";
import type { FirstFactor } from "../../../shared/src/dfns/requests.js";
import type { Env } from "../env.js";
import { failure, success, type Outcome } from "../http/errors.js";
import type { Assertion, PendingChallenge } from "../orgs/org.js";
import { relyingParty, webauthnChallengeMatches } from "./webauthn-config.js";

/** `pending`: the challenge the credential must have signed and the subject's active credentials. */
export async function verifyFirstFactor(env: Env, pending: Pick<PendingChallenge, "challenge" | "credentials">, factor: FirstFactor): Promise<Outcome<Assertion>> {
  const a = factor.credentialAssertion;
  const credential = pending.credentials.find((c) => c.credId === a.credId && c.kind === factor.kind);
  if (!credential) return failure(401, "Credential not registered or not active");

  if (factor.kind === "Key") {
    const check = await verifyKeyAssertion({
      publicKeyPem: credential.publicKeyPem,
      expectedChallenge: pending.challenge,
      expectedType: "key.get",
      clientData: factor.credentialAssertion.clientData,
      signature: factor.credentialAssertion.signature,
    });
    if (!check.ok) return failure(401, `Credential assertion refused: ${check.reason}`);
    return success({
      credentialUuid: credential.credentialUuid,
      signCount: 0,
      clientData: a.clientData,
      signature: a.signature,
      authenticatorData: null,
      userHandle: null,
    });
  }

  const fa = factor.credentialAssertion;
  const cose = credential.cosePublicKey ? decodeBase64Url(credential.cosePublicKey) : null;
  if (!cose) return failure(401, "Credential not registered or not active");
  const rp = relyingParty(env);
  try {
    const result = await verifyAuthenticationResponse({
      response: {
        id: fa.credId,
        rawId: fa.credId,
        type: "public-key",
        response: {
          clientDataJSON: fa.clientData,
          authenticatorData: fa.authenticatorData,
          signature: fa.signature,
          ...(fa.userHandle ? { userHandle: fa.userHandle } : {}),
        },
        clientExtensionResults: {},
      },
      expectedChallenge: webauthnChallengeMatches(pending.challenge),
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      expectedType: "webauthn.get",
      credential: { id: credential.credId, publicKey: new Uint8Array(cose), counter: credential.signCount },
      requireUserVerification: true,
    });
    if (!result.verified) return failure(401, "Credential assertion refused: passkey signature invalid");
    return success({
      credentialUuid: credential.credentialUuid,
      signCount: result.authenticationInfo.newCounter,
      clientData: fa.clientData,
      signature: fa.signature,
      authenticatorData: fa.authenticatorData,
      userHandle: fa.userHandle ?? null,
    });
  } catch (err) {
    // simplewebauthn explains refusals in its error messages (counter, origin, flags…).
    return failure(401, `Credential assertion refused: ${(err as Error).message}`);
  }
}
