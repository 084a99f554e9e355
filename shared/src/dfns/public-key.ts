// Credential public keys as clients send them: PEM "PUBLIC KEY" (SubjectPublicKeyInfo), which is
// what Node's crypto and the Dfns key signer produce. We accept the curves the keysigner can sign
// with and refuse everything else at registration time.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { p256 } from "@noble/curves/nist.js";
import { decodeBase64Url } from "./base64url.js";

export type PublicKeyAlgorithm = "P-256" | "secp256k1" | "Ed25519" | "RSA";

export interface ParsedPublicKey {
  algorithm: PublicKeyAlgorithm;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** The subjectPublicKey BIT STRING contents (EC point, Ed25519 key, RSA key). */
  keyBytes: Uint8Array;
}

// Algorithm and curve identifiers, as their DER-encoded OBJECT IDENTIFIER values (hex).
const OID_EC_PUBLIC_KEY = "2a8648ce3d0201"; // 1.2.840.10045.2.1
const OID_PRIME256V1 = "2a8648ce3d030107"; // 1.2.840.10045.3.1.7
const OID_SECP256K1 = "2b8104000a"; // 1.3.132.0.10
const OID_ED25519 = "2b6570"; // 1.3.101.112
const OID_RSA = "2a864886f70d010101"; // 1.2.840.113549.1.1.1

interface Tlv {
  tag: number;
  value: Uint8Array;
  end: number;
}

/** Reads one DER TLV at `offset`; null if truncated or using a non-minimal/indefinite length. */
function readTlv(bytes: Uint8Array, offset: number): Tlv | null {
  if (offset + 2 > bytes.length) return null;
  const tag = bytes[offset]!;
  let len = bytes[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || pos + n > bytes.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | bytes[pos + i]!;
    pos += n;
    if (len < 0x80) return null;
  }
  if (pos + len > bytes.length) return null;
  return { tag, value: bytes.subarray(pos, pos + len), end: pos + len };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function pemToDer(pem: string): Uint8Array | null {
  const m = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/.exec(pem.trim());
  if (!m) return null;
  const b64 = m[1]!.replace(/\s+/g, "");
  return decodeBase64Url(b64.replace(/\+/g, "-").replace(/\//g, "_"));
}

export function derToPem(der: Uint8Array): string {
  let b64 = "";
  for (const b of der) b64 += String.fromCharCode(b);
  const text = btoa(b64);
  const lines = text.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

// Parsed keys by PEM text, so a credential that signs again skips the DER walk and the on-curve
// check (and, below, the WebCrypto import). Keyed by the key itself, so an entry can never be
// stale: whether a credential may still sign is decided elsewhere (the org's credential rows),
// never by this cache. Bounded: the oldest entry goes first.
const PARSED_CACHE_SIZE = 512;
const parsedKeys = new Map<string, ParsedPublicKey | null>();

/** Parses a PEM SPKI public key; null if malformed or of an unsupported algorithm/curve. */
export function parsePublicKeyPem(pem: string): ParsedPublicKey | null {
  const known = parsedKeys.get(pem);
  if (known !== undefined) return known;
  const parsed = parseUncached(pem);
  if (parsedKeys.size >= PARSED_CACHE_SIZE) parsedKeys.delete(parsedKeys.keys().next().value!);
  parsedKeys.set(pem, parsed);
  return parsed;
}

function parseUncached(pem: string): ParsedPublicKey | null {
  const spki = pemToDer(pem);
  if (!spki) return null;
  const outer = readTlv(spki, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== spki.length) return null;
  const algSeq = readTlv(outer.value, 0);
  if (!algSeq || algSeq.tag !== 0x30) return null;
  const bitString = readTlv(outer.value, algSeq.end);
  if (!bitString || bitString.tag !== 0x03 || bitString.end !== outer.value.length) return null;
  if (bitString.value[0] !== 0) return null; // no unused bits in a key
  const keyBytes = bitString.value.subarray(1);
  const algOid = readTlv(algSeq.value, 0);
  if (!algOid || algOid.tag !== 0x06) return null;
  const alg = hex(algOid.value);
  if (alg === OID_EC_PUBLIC_KEY) {
    const curve = readTlv(algSeq.value, algOid.end);
    if (!curve || curve.tag !== 0x06) return null;
    const curveOid = hex(curve.value);
    try {
      if (curveOid === OID_PRIME256V1) {
        p256.Point.fromBytes(keyBytes); // on-curve check
        return { algorithm: "P-256", spki, keyBytes };
      }
      if (curveOid === OID_SECP256K1) {
        secp256k1.Point.fromBytes(keyBytes);
        return { algorithm: "secp256k1", spki, keyBytes };
      }
    } catch {
      return null;
    }
    return null;
  }
  if (alg === OID_ED25519) return keyBytes.length === 32 ? { algorithm: "Ed25519", spki, keyBytes } : null;
  if (alg === OID_RSA) return { algorithm: "RSA", spki, keyBytes };
  return null;
}

function toBuffer(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}

// The WebCrypto key of a parsed key, imported once (a parsed key has one algorithm, so one import).
const importedKeys = new WeakMap<ParsedPublicKey, Promise<CryptoKey>>();

function imported(key: ParsedPublicKey, algorithm: RsaHashedImportParams | EcKeyImportParams | { name: "Ed25519" }): Promise<CryptoKey> {
  let k = importedKeys.get(key);
  if (!k) {
    k = crypto.subtle.importKey("spki", toBuffer(key.spki), algorithm, false, ["verify"]);
    // A failed import is not remembered: the next verification tries again (and fails the same way).
    k.catch(() => importedKeys.delete(key));
    importedKeys.set(key, k);
  }
  return k;
}

/**
 * A runtime's own synchronous check of a signature WebCrypto would otherwise check: the key as DER
 * SubjectPublicKeyInfo, the signature as WebCrypto takes it (ECDSA P-256 with SHA-256 as r‖s, pure
 * Ed25519, RSA PKCS#1 v1.5 with SHA-256); false for anything it cannot check. The share holders
 * pass Node's (mpc-node/src/ceremony/native-verify.ts): the same OpenSSL primitives WebCrypto runs
 * there, without a thread-pool round trip per check, which under load the request waited for
 * behind whatever else the event loop had queued.
 */
export type NativeVerify = (algorithm: "P-256" | "Ed25519" | "RSA", spki: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/**
 * Verifies `signature` over `message` the way Node's crypto.sign(undefined, message, key) makes it:
 * ECDSA-SHA-256 with a DER (or 64-byte r‖s) signature for EC keys, pure Ed25519, RSA PKCS#1 v1.5
 * SHA-256. WebCrypto does the work where it has the curve, or `native` when given; secp256k1 goes
 * through @noble/curves. Returns false (never throws) for any malformed input.
 */
export async function verifyWithPublicKey(key: ParsedPublicKey, message: Uint8Array, signature: Uint8Array, native?: NativeVerify): Promise<boolean> {
  try {
    switch (key.algorithm) {
      case "P-256": {
        const compact = ecdsaCompact(p256, signature);
        if (!compact) return false;
        if (native) return native("P-256", key.spki, message, compact);
        const k = await imported(key, { name: "ECDSA", namedCurve: "P-256" });
        return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, k, toBuffer(compact), toBuffer(message));
      }
      case "secp256k1": {
        const compact = ecdsaCompact(secp256k1, signature);
        if (!compact) return false;
        // Node's signer does not normalise s, so high-s signatures are legitimate here.
        return secp256k1.verify(compact, message, key.keyBytes, { lowS: false, prehash: true });
      }
      case "Ed25519": {
        if (signature.length !== 64) return false;
        if (native) return native("Ed25519", key.spki, message, signature);
        const k = await imported(key, { name: "Ed25519" });
        return await crypto.subtle.verify({ name: "Ed25519" }, k, toBuffer(signature), toBuffer(message));
      }
      case "RSA": {
        if (native) return native("RSA", key.spki, message, signature);
        const k = await imported(key, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" });
        return await crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, k, toBuffer(signature), toBuffer(message));
      }
    }
  } catch {
    return false;
  }
}

type EcdsaCurve = typeof p256 | typeof secp256k1;

/** DER or r‖s → 64-byte r‖s, via the library's own strict DER parser. */
function ecdsaCompact(curve: EcdsaCurve, signature: Uint8Array): Uint8Array | null {
  try {
    const format = signature.length === 64 && signature[0] !== 0x30 ? "compact" : "der";
    return curve.Signature.fromBytes(signature, format).toBytes("compact");
  } catch {
    return null;
  }
}
