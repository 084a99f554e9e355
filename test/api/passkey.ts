// A software WebAuthn authenticator for tests: it does what a real one does — a P-256 key pair,
// authenticatorData (RP id hash, flags, signature counter, attested credential data), CBOR
// attestation object ("none"), and ECDSA over authenticatorData ‖ SHA-256(clientDataJSON).
import { p256 } from "@noble/curves/nist.js";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { decodeBase64Url, encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";

const sha256 = async (b: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u32(n: number): Uint8Array {
  return Uint8Array.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export class SoftwareAuthenticator {
  readonly credId = encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  private readonly secret = p256.utils.randomSecretKey();

  constructor(
    readonly rpId = "localhost",
    readonly origin = "http://localhost:8787",
  ) {}

  private clientData(type: "webauthn.create" | "webauthn.get", challenge: string): Uint8Array {
    // Dfns clients hand WebAuthn the challenge string's UTF-8 bytes; clientDataJSON carries them base64url.
    return utf8(JSON.stringify({ type, challenge: encodeBase64Url(utf8(challenge)), origin: this.origin, crossOrigin: false }));
  }

  /** Registration (navigator.credentials.create) answer, as Dfns's credentialInfo. */
  async attest(challenge: string) {
    const point = p256.getPublicKey(this.secret, false);
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, point.subarray(1, 33)],
        [-3, point.subarray(33, 65)],
      ]),
    );
    const rawId = decodeBase64Url(this.credId)!;
    const authData = concat(
      await sha256(utf8(this.rpId)),
      Uint8Array.of(FLAG_UP | FLAG_UV | FLAG_AT),
      u32(0),
      new Uint8Array(16), // AAGUID
      Uint8Array.of(rawId.length >> 8, rawId.length & 255),
      rawId,
      cose,
    );
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]) as never);
    return {
      credentialKind: "Fido2" as const,
      credentialInfo: {
        credId: this.credId,
        clientData: encodeBase64Url(this.clientData("webauthn.create", challenge)),
        attestationData: encodeBase64Url(attestationObject),
      },
    };
  }

  /** Assertion (navigator.credentials.get) with the given signature counter, as Dfns's Fido2 factor. */
  async assert(challenge: string, counter: number) {
    const clientData = this.clientData("webauthn.get", challenge);
    const authData = concat(await sha256(utf8(this.rpId)), Uint8Array.of(FLAG_UP | FLAG_UV), u32(counter));
    const signed = concat(authData, await sha256(clientData));
    const signature = p256.sign(signed, this.secret, { prehash: true, format: "der" });
    return {
      kind: "Fido2" as const,
      credentialAssertion: {
        credId: this.credId,
        clientData: encodeBase64Url(clientData),
        authenticatorData: encodeBase64Url(authData),
        signature: encodeBase64Url(signature),
      },
    };
  }
}
