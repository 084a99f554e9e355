// The sign-demo example is a contract (one JSON line); check it with noble, per scheme.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { secp256k1, schnorr } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

const run = promisify(execFile);
const demo = new URL("./examples/sign-demo.mjs", import.meta.url).pathname;

async function demoLine(...args: string[]) {
  const { stdout } = await run(process.execPath, [demo, ...args]);
  const lines = stdout.trim().split("\n");
  expect(lines.length).toBe(1);
  return JSON.parse(lines[0]!) as { scheme: string; publicKey: string; digest: string; signature: string; recid: number | null };
}

const hex = (s: string) => Buffer.from(s, "hex");

describe("node wasm/examples/sign-demo.mjs", () => {
  it("ECDSA (default): compressed key, r||s and recid over SHA-256 of the text", async () => {
    const out = await demoLine("pay bob 5");
    expect(out.scheme).toBe("ecdsa-secp256k1");
    expect(out.digest).toBe(Buffer.from(sha256(new TextEncoder().encode("pay bob 5"))).toString("hex"));
    expect(hex(out.publicKey).length).toBe(33);
    expect(secp256k1.verify(hex(out.signature), hex(out.digest), hex(out.publicKey), { prehash: false })).toBe(true);
    const recovered = secp256k1.Signature.fromBytes(hex(out.signature), "compact").addRecoveryBit(out.recid!).recoverPublicKey(hex(out.digest));
    expect(Buffer.from(recovered.toBytes(true)).toString("hex")).toBe(out.publicKey);
  }, 90_000);

  it("--scheme ed25519 and --scheme bip340 sign the digest bytes", async () => {
    const ed = await demoLine("hello", "--scheme", "ed25519");
    expect(ed.scheme).toBe("frost-ed25519");
    expect(ed25519.verify(hex(ed.signature), hex(ed.digest), hex(ed.publicKey))).toBe(true);
    const tr = await demoLine("--scheme", "bip340", "hello");
    expect(tr.scheme).toBe("frost-bip340");
    expect(schnorr.verify(hex(tr.signature), hex(tr.digest), hex(tr.publicKey))).toBe(true);
  }, 60_000);

  it("refuses an unknown scheme with usage and exit code 2", async () => {
    await expect(run(process.execPath, [demo, "x", "--scheme", "rsa"])).rejects.toMatchObject({ code: 2 });
  });
});
