// The node's two secrets on disk: its Ed25519 peer key (identity on libp2p, signer of the audit
// log) and the key-encryption key sealing its shares. Both are created once, with mode 600, never
// overwritten, and refused at load time if other users could read them. Neither is ever logged.
import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { Ed25519PrivateKey } from "@libp2p/interface";

export const KEK_ENV = "TESSERA_MPC_KEK";

function assertPrivate(path: string, what: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new Error(`${what} ${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
}

export async function createIdentity(path: string): Promise<string> {
  const key = await generateKeyPair("Ed25519");
  // "wx": never replace an existing identity (the peer id is how every other node knows us).
  writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600, flag: "wx" });
  return peerIdFromPrivateKey(key).toString();
}

export function loadIdentity(path: string): { privateKey: Ed25519PrivateKey; peerId: string; signingSeed: Uint8Array } {
  assertPrivate(path, "identity file");
  const key = privateKeyFromProtobuf(readFileSync(path));
  if (key.type !== "Ed25519") throw new Error(`identity ${path} is a ${key.type} key; nodes use Ed25519`);
  return { privateKey: key, peerId: peerIdFromPrivateKey(key).toString(), signingSeed: key.raw.subarray(0, 32) };
}

export function createKek(path: string): void {
  writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
}

/** The KEK from the environment (base64) if set, else from the file. */
export function loadKek(path: string | null, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  let text: string;
  if (env[KEK_ENV]) {
    text = env[KEK_ENV]!;
  } else if (path) {
    assertPrivate(path, "key-encryption key file");
    text = readFileSync(path, "utf8");
  } else {
    throw new Error(`no key-encryption key: set kekFile in the config or ${KEK_ENV}`);
  }
  const kek = Buffer.from(text.trim(), "base64");
  if (kek.length !== 32) throw new Error("the key-encryption key must be 32 bytes, base64");
  return new Uint8Array(kek);
}
