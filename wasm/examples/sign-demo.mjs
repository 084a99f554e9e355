#!/usr/bin/env node
// A whole threshold ceremony in one process: 2-of-3 distributed key generation, then two of
// the three parties sign the SHA-256 of the text you give. No party ever holds the key.
//
//   node wasm/examples/sign-demo.mjs "hello"                  # ECDSA secp256k1 (DKLs23)
//   node wasm/examples/sign-demo.mjs "hello" --scheme ed25519  # FROST Ed25519
//   node wasm/examples/sign-demo.mjs "hello" --scheme bip340   # FROST BIP340 (Taproot)
//
// Prints one JSON line: scheme, publicKey, digest (the bytes signed), signature, recid.
import { createHash } from "node:crypto";
import { register } from "tsx/esm/api";

register();
const { initMpc, Ceremony, runLocally, randomSessionId } = await import("../index.ts");

const SCHEMES = { ecdsa: "ecdsa-secp256k1", "ecdsa-secp256k1": "ecdsa-secp256k1", ed25519: "frost-ed25519", bip340: "frost-bip340" };

const args = process.argv.slice(2);
const at = args.indexOf("--scheme");
const schemeArg = at >= 0 ? args.splice(at, 2)[1] : "ecdsa";
const scheme = SCHEMES[schemeArg];
if (!scheme || args.length !== 1) {
  console.error('usage: node wasm/examples/sign-demo.mjs "<text>" [--scheme ecdsa|ed25519|bip340]');
  process.exit(2);
}

await initMpc();
const parties = [1, 2, 3];
const keygenId = randomSessionId();
const keygen = parties.map((me) => Ceremony.keygen({ scheme, sessionId: keygenId, me, parties, threshold: 2 }));
runLocally(keygen);
const shares = keygen.map((c) => c.keyShare());

const digest = createHash("sha256").update(args[0], "utf8").digest();
const signId = randomSessionId();
const signers = [1, 3];
const signing = signers.map((p) => Ceremony.sign({ share: shares[p - 1], sessionId: signId, signers, message: new Uint8Array(digest) }));
runLocally(signing);
const { signature, recid } = signing[0].signature();

const hex = (b) => Buffer.from(b).toString("hex");
console.log(JSON.stringify({ scheme, publicKey: hex(shares[0].publicKey()), digest: hex(digest), signature: hex(signature), recid: recid ?? null }));
