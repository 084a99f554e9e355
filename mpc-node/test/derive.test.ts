// Wallets derived from a master key (Dfns signingKey.deriveFrom) at the share holders: three
// engines with their real stores and the real wasm core, in one process. One ECDSA DKG makes the
// master key; every derived key after it costs no ceremony: each node derives the BIP32
// non-hardened child from its own share, records {master, path} (no share), and the child signs
// through the master's shares at that path.
import { DatabaseSync } from "node:sqlite";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { HDKey } from "@scure/bip32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initMpc } from "../../wasm/index.js";
import type { NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { makeHarness, type Harness } from "./malicious/harness.js";

const ORDER = ["A", "B", "C"];
let h: Harness;
let master: { publicKey: string; chainCode: string };

function result(f: NodeResponseFrame | undefined) {
  if (f?.type !== "result") throw new Error(`expected a result, got ${JSON.stringify(f)}`);
  return f.result;
}
function failure(f: NodeResponseFrame | undefined) {
  if (f?.type !== "failure") throw new Error(`expected a failure, got ${JSON.stringify(f)}`);
  return f.error;
}

beforeAll(async () => {
  await initMpc();
  h = await makeHarness(ORDER);
  const out = await h.run("keygen", h.edge.keygen({ keyId: "key-master", scheme: "ecdsa-secp256k1", parties: h.parties(ORDER), threshold: 2, walletId: "wa-master", network: "EthereumSepolia" }), ORDER);
  const r = result(out.get("A"));
  if (r.kind !== "keygen" || !r.chainCode) throw new Error("no ECDSA key");
  master = { publicKey: r.publicKey, chainCode: r.chainCode };
}, 180_000);
afterAll(() => h?.close());

const derive = (keyId: string, walletId: string, o: { path?: string; authorizedPath?: string } = {}) =>
  h.run("keygen", h.edge.derive({ keyId, masterKeyId: "key-master", parties: h.parties(ORDER), threshold: 2, walletId, network: "EthereumSepolia", ...o }), ORDER);

describe("deriveFrom at the share holders", () => {
  it("every node derives the BIP32 child of the master (as @scure/bip32 does from the extended public key) and stores no share for it", async () => {
    const out = await derive("key-child-1", "wa-child-1", { path: "m/0/7" });
    const expected = new HDKey({ publicKey: hexToBytes(master.publicKey), chainCode: hexToBytes(master.chainCode) }).derive("m/0/7").publicKey!;
    for (const n of ORDER) {
      const r = result(out.get(n));
      expect(r).toEqual({ kind: "keygen", keyId: "key-child-1", publicKey: Buffer.from(expected).toString("hex") });
      const stored = h.byName(n).store.key("key-child-1")!;
      expect(stored).toMatchObject({ masterKeyId: "key-master", derivationPath: "m/0/7", walletId: "wa-child-1", network: "EthereumSepolia", publicKey: r.publicKey });
      expect(h.lastAudit(n).entry).toMatchObject({ kind: "keygen", keyId: "key-child-1", outcome: "ok", derivedFrom: { keyId: "key-master", path: "m/0/7" } });
      const db = new DatabaseSync(h.byName(n).dbPath, { readOnly: true });
      try {
        expect((db.prepare("SELECT count(*) AS n FROM keys WHERE key_id = 'key-child-1'").get() as { n: number }).n).toBe(0);
        const row = db.prepare("SELECT * FROM derived_keys WHERE key_id = 'key-child-1'").get() as Record<string, unknown>;
        // Well under the 1 KB a derived wallet may cost at a node.
        expect(JSON.stringify(row).length).toBeLessThan(1024);
      } finally {
        db.close();
      }
    }
  });

  it("the child signs through the master's shares at its path; noble verifies against the child key, not the master", async () => {
    const out = await derive("key-child-2", "wa-child-2");
    const child = result(out.get("A")).publicKey;
    const hash = "5a".repeat(32);
    const signers = ["A", "C"];
    const path = h.byName("A").store.key("key-child-2")!.derivationPath!;
    expect(path).toMatch(/^m\/\d+\/\d+$/);
    const signed = await h.run("sign", h.edge.sign({ keyId: "key-child-2", scheme: "ecdsa-secp256k1", parties: h.parties(ORDER, signers), walletId: "wa-child-2", derivationPath: path, body: { kind: "Hash", hash: `0x${hash}` } }), signers);
    const r = result(signed.get("A"));
    if (r.kind !== "sign") throw new Error("not a signature");
    expect(r.publicKey).toBe(child);
    const sig = hexToBytes(r.signature);
    expect(secp256k1.verify(sig, hexToBytes(hash), hexToBytes(child), { prehash: false })).toBe(true);
    expect(secp256k1.verify(sig, hexToBytes(hash), hexToBytes(master.publicKey), { prehash: false })).toBe(false);
    // Without the path (the master's own key) the nodes refuse: a derived key signs at its path only.
    const bare = await h.run("sign", h.edge.sign({ keyId: "key-child-2", scheme: "ecdsa-secp256k1", parties: h.parties(ORDER, signers), walletId: "wa-child-2", body: { kind: "Hash", hash: `0x${hash}` } }), signers);
    expect(failure(bare.get("A")).code).toBe("mismatch");
  });

  it("a path already derived is refused by every node (two wallets never share a child key)", async () => {
    const out = await derive("key-child-3", "wa-child-3", { path: "m/0/7" });
    for (const n of ORDER) {
      const e = failure(out.get(n));
      expect(e.code).toBe("mismatch");
      expect(e.message).toContain("already derived");
      expect(h.byName(n).store.key("key-child-3")).toBeUndefined();
    }
  });

  it("a path the edge chose instead of the user's is refused", async () => {
    const out = await derive("key-child-4", "wa-child-4", { path: "m/1/1", authorizedPath: "m/0/7" });
    for (const n of ORDER) expect(failure(out.get(n)).code).toBe("intent");
  });
});
