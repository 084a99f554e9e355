// Verifies a new credential (registration, or an extra credential) before it is stored.
// Key: the Dfns BrowserKeySigner format — clientData {type:"key.create", challenge} and
// attestationData {publicKey: PEM, signature: hex over JSON {clientDataHash, publicKey}}.
// Fido2: a WebAuthn registration (attestation "none" or a verifiable statement), ES256 only.
import { verifyRegistrationResponse } from "@simplewebauthn/server";
import { convertCOSEtoPKCS } from "@simplewebauthn/server/helpers";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodeBase64Url, encodeBase64Url, utf8 } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import { derToPem, parsePublicKeyPem, verifyWithPublicKey } from "../../../shared/src/dfns/public-key.js";
import type { CredentialAttestation } from "../../../shared/src/dfns/requests.js";
import type { Env } from "../env.js";
import { failure, success, type Outcome } from "../http/errors.js";
import type { NewCredential } from "../orgs/org.js";
import { relyingParty, webauthnChallengeMatches } from "./webauthn-config.js";

// SubjectPublicKeyInfo prefix of an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const P256_SPKI_PREFIX = hexToBytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");

function parseJsonBytes(bytes: Uint8Array | null): Record<string, unknown> | null {
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function verifyAttestation(env: Env, challenge: string, att: CredentialAttestation, name: string): Promise<Outcome<NewCredential>> {
  const info = att.credentialInfo;
  if (att.credentialKind === "Key") {
    const clientDataBytes = decodeBase64Url(info.clientData);
    const clientData = parseJsonBytes(clientDataBytes);
    if (!clientData || clientData.type !== "key.create" || typeof clientData.challenge !== "string" || !constantTimeEqual(clientData.challenge, challenge)) {
      return failure(401, "Credential attestation refused: clientData does not answer the challenge");
    }
    const attestation = parseJsonBytes(decodeBase64Url(info.attestationData));
    if (!attestation || typeof attestation.publicKey !== "string" || typeof attestation.signature !== "string" || !/^[0-9a-fA-F]+$/.test(attestation.signature)) {
      return failure(400, "Credential attestation refused: attestationData must hold publicKey and a hex signature");
    }
    const key = parsePublicKeyPem(attestation.publicKey);
    if (!key) return failure(400, "Credential attestation refused: unsupported or malformed public key");
    const signed = utf8(JSON.stringify({ clientDataHash: bytesToHex(sha256(clientDataBytes!)), publicKey: attestation.publicKey }));
    if (attestation.signature.length % 2 !== 0 || !(await verifyWithPublicKey(key, signed, hexToBytes(attestation.signature)))) {
      return failure(401, "Credential attestation refused: signature invalid");
    }
    return success({ credId: info.credId, kind: "Key", name, publicKeyPem: attestation.publicKey, cosePublicKey: null, signCount: 0, relyingPartyId: "", origin: "" });
  }

  const rp = relyingParty(env);
  try {
    const result = await verifyRegistrationResponse({
      response: {
        id: info.credId,
        rawId: info.credId,
        type: "public-key",
        response: { clientDataJSON: info.clientData, attestationObject: info.attestationData },
        clientExtensionResults: {},
      },
      expectedChallenge: webauthnChallengeMatches(challenge),
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: [-7],
    });
    if (!result.verified || !result.registrationInfo) return failure(401, "Credential attestation refused: passkey registration invalid");
    const { credential, origin } = result.registrationInfo;
    const point = convertCOSEtoPKCS(credential.publicKey);
    if (point.length !== 65 || point[0] !== 0x04) return failure(400, "Credential attestation refused: only ES256 (P-256) passkeys are supported");
    const spki = new Uint8Array(P256_SPKI_PREFIX.length + point.length);
    spki.set(P256_SPKI_PREFIX);
    spki.set(point, P256_SPKI_PREFIX.length);
    return success({
      credId: credential.id,
      kind: "Fido2",
      name,
      publicKeyPem: derToPem(spki),
      cosePublicKey: encodeBase64Url(credential.publicKey),
      signCount: credential.counter,
      relyingPartyId: rp.id,
      origin,
    });
  } catch (err) {
    return failure(401, `Credential attestation refused: ${(err as Error).message}`);
  }
}
