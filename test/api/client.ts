// A test client speaking the Dfns wire protocol the way @dfns/sdk + @dfns/sdk-keysigner do:
// bearer token, and for POST/PUT/DELETE the three-request user-action flow (init, sign, send).
// Keys are generated here, as a client would; the server only ever receives public keys.
import { p256 } from "@noble/curves/nist.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { derToPem } from "../../shared/src/dfns/public-key.js";

export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

export interface KeyCredential {
  algorithm: "P-256" | "Ed25519" | "secp256k1";
  publicKeyPem: string;
  /** Signs like Node's crypto.sign(undefined, data, key): DER ECDSA-SHA256, or raw Ed25519. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export async function newKeyCredential(algorithm: KeyCredential["algorithm"] = "P-256"): Promise<KeyCredential> {
  if (algorithm === "secp256k1") {
    const secret = secp256k1.utils.randomSecretKey();
    const point = secp256k1.getPublicKey(secret, false);
    const prefix = Uint8Array.from([0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00]);
    const spki = new Uint8Array([...prefix, ...point]);
    return {
      algorithm,
      publicKeyPem: derToPem(spki),
      sign: async (data) => secp256k1.sign(data, secret, { prehash: true, format: "der", lowS: false }),
    };
  }
  const params = algorithm === "P-256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "Ed25519" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return {
    algorithm,
    publicKeyPem: derToPem(spki),
    async sign(data) {
      const bytes = data as Uint8Array<ArrayBuffer>;
      if (algorithm === "Ed25519") return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, bytes));
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, bytes));
      return p256.Signature.fromBytes(raw, "compact").toBytes("der");
    },
  };
}

/** The keysigner's answer to a challenge: clientData {type:"key.get", challenge}, signed. */
export async function signChallenge(key: KeyCredential, credId: string, challenge: string) {
  const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
  return {
    kind: "Key" as const,
    credentialAssertion: { credId, clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await key.sign(clientData)) },
  };
}

/** BrowserKeySigner-style registration attestation for a Key credential. */
export async function keyAttestation(key: KeyCredential, credId: string, challenge: string) {
  const clientData = utf8(JSON.stringify({ type: "key.create", challenge }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", clientData as Uint8Array<ArrayBuffer>));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const signed = utf8(JSON.stringify({ clientDataHash: hex(digest), publicKey: key.publicKeyPem }));
  const attestation = { publicKey: key.publicKeyPem, signature: hex(await key.sign(signed)) };
  return {
    credentialKind: "Key" as const,
    credentialInfo: { credId, clientData: encodeBase64Url(clientData), attestationData: encodeBase64Url(utf8(JSON.stringify(attestation))) },
  };
}

export class ApiClient {
  constructor(
    readonly fetcher: Fetcher,
    readonly base: string,
    public token: string,
    public credId: string,
    public key: KeyCredential,
  ) {}

  raw(method: string, path: string, opts: { body?: string; headers?: Record<string, string>; token?: string | null } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? this.token : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    return this.fetcher(this.base + path, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
  }

  get(path: string) {
    return this.raw("GET", path);
  }

  /** Runs /auth/action/init + /auth/action for (method, path, payload); returns the userAction token. */
  async userAction(method: string, path: string, payload: string): Promise<string> {
    const init = await this.raw("POST", "/auth/action/init", {
      body: JSON.stringify({ userActionPayload: payload, userActionHttpMethod: method, userActionHttpPath: path, userActionServerKind: "Api" }),
    });
    if (init.status !== 200) throw new Error(`action/init ${init.status}: ${await init.text()}`);
    const challenge = (await init.json()) as { challenge: string; challengeIdentifier: string };
    const res = await this.raw("POST", "/auth/action", {
      body: JSON.stringify({ challengeIdentifier: challenge.challengeIdentifier, firstFactor: await signChallenge(this.key, this.credId, challenge.challenge) }),
    });
    if (res.status !== 200) throw new Error(`action ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { userAction: string }).userAction;
  }

  /** A state-changing call, signed as the SDK signs it. */
  async signed(method: "POST" | "PUT" | "DELETE", path: string, body: unknown = {}) {
    const payload = JSON.stringify(body);
    const userAction = await this.userAction(method, path, payload);
    return this.raw(method, path, { body: payload, headers: { "x-dfns-useraction": userAction } });
  }
}
