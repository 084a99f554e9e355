// @ts-check
// The passkey ceremonies, as the Dfns SDK's WebAuthnSigner (@dfns/sdk-browser) performs them:
// the WebAuthn challenge is the UTF-8 bytes of the Dfns challenge string, the user handle the
// UTF-8 bytes of the user id, and the answer goes back as Dfns's Fido2 credential objects with
// every binary field base64url-encoded. @simplewebauthn/browser does the navigator.credentials
// calls (and turns browser errors into readable ones).
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from "@simplewebauthn/browser";
import { challengeProblem } from "./challenge.js";

/** @param {string} text @returns {string} base64url of the text's UTF-8 bytes */
function utf8Base64Url(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export const passkeysSupported = () => browserSupportsWebAuthn();

/**
 * @typedef {{ id: string, type: "public-key", transports?: string[] }} CredentialRef
 * @typedef {{
 *   challenge: string, challengeIdentifier: string, userVerification?: "required" | "preferred" | "discouraged",
 *   allowCredentials: { webauthn?: CredentialRef[], key?: CredentialRef[] }, rp?: { id: string, name: string } }} DfnsChallenge
 * @typedef {{
 *   challenge: string, user: { id: string, name: string, displayName: string }, rp: { id: string, name: string },
 *   pubKeyCredParams: { type: "public-key", alg: number }[], attestation?: string,
 *   excludeCredentials?: CredentialRef[], authenticatorSelection?: Record<string, unknown> }} DfnsRegistrationChallenge
 * @typedef {{ kind: "Fido2", credentialAssertion: { credId: string, clientData: string, authenticatorData: string, signature: string, userHandle?: string } }} Fido2Assertion
 * @typedef {{ credentialKind: "Fido2", credentialInfo: { credId: string, clientData: string, attestationData: string } }} Fido2Attestation
 */

/**
 * Signs a Dfns challenge (login or user action) with one of the passkeys it allows — only if the
 * challenge describes what this page is doing (`expected`: a login, or exactly this request).
 * @param {DfnsChallenge} challenge
 * @param {{ login: true, orgId?: string } | { orgId?: string, method: string, path: string, payload: string }} expected
 * @returns {Promise<Fido2Assertion>}
 */
export async function signChallenge(challenge, expected) {
  const problem = await challengeProblem(challenge.challenge, expected);
  if (problem) throw new Error(`Not signed: ${problem}. The server asked for a signature that does not match what you are doing.`);
  const allowed = challenge.allowCredentials.webauthn ?? [];
  if (allowed.length === 0) throw new Error("This account has no passkey registered: it cannot sign here.");
  const answer = await startAuthentication({
    optionsJSON: {
      challenge: utf8Base64Url(challenge.challenge),
      allowCredentials: allowed.map(({ id, type }) => ({ id, type })),
      rpId: challenge.rp?.id ?? location.hostname,
      userVerification: challenge.userVerification ?? "required",
      timeout: 60_000,
    },
  });
  return {
    kind: "Fido2",
    credentialAssertion: {
      credId: answer.id,
      clientData: answer.response.clientDataJSON,
      authenticatorData: answer.response.authenticatorData,
      signature: answer.response.signature,
      ...(answer.response.userHandle ? { userHandle: answer.response.userHandle } : {}),
    },
  };
}

/**
 * Creates a passkey answering a registration (or new-credential) challenge.
 * @param {DfnsRegistrationChallenge} challenge
 * @returns {Promise<Fido2Attestation>}
 */
export async function createPasskey(challenge) {
  const answer = await startRegistration({
    optionsJSON: {
      challenge: utf8Base64Url(challenge.challenge),
      rp: challenge.rp,
      user: { id: utf8Base64Url(challenge.user.id), name: challenge.user.name, displayName: challenge.user.displayName },
      pubKeyCredParams: challenge.pubKeyCredParams,
      attestation: /** @type {AttestationConveyancePreference} */ (challenge.attestation ?? "none"),
      excludeCredentials: (challenge.excludeCredentials ?? []).map(({ id, type }) => ({ id, type })),
      authenticatorSelection: challenge.authenticatorSelection ?? { residentKey: "required", userVerification: "required" },
      timeout: 60_000,
    },
  });
  return {
    credentialKind: "Fido2",
    credentialInfo: { credId: answer.id, clientData: answer.response.clientDataJSON, attestationData: answer.response.attestationObject },
  };
}
