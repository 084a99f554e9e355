// The node's synchronous signature checks for the authorization (NativeVerify in
// shared/src/dfns/public-key.ts): the edge's Ed25519 signature and the user's credential signature
// (P-256, Ed25519, RSA) through node:crypto. WebCrypto runs the same OpenSSL code in Node, but as a
// job on the thread pool whose result the request then waits for behind everything else queued on
// the event loop — under load ≈ 1 ms or more on a signature's critical path for each check.
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";

/** Imported keys by SPKI (the edges' keys and recent users' credentials); bounded, oldest first out. */
const keys = new Map<string, KeyObject | null>();
const MAX_KEYS = 1024;

function keyOf(spki: Uint8Array): KeyObject | null {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString("base64");
  let key = keys.get(id);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    } catch {
      key = null;
    }
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(id, key);
  }
  return key;
}

export function nativeVerify(algorithm: "P-256" | "Ed25519" | "RSA", spki: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = keyOf(spki);
  if (!key) return false;
  try {
    switch (algorithm) {
      case "Ed25519":
        return key.asymmetricKeyType === "ed25519" && signature.length === 64 && verify(null, message, key, signature);
      case "P-256":
        // r‖s, as WebCrypto takes it; like WebCrypto, either s is accepted.
        return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" && signature.length === 64 && verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
      case "RSA":
        return key.asymmetricKeyType === "rsa" && verify("sha256", message, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
  } catch {
    return false;
  }
  return false;
}
