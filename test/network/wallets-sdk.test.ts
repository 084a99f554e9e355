// Layers 1–4 end to end, with real processes: three share-holder nodes (eu, us, ap) and the edge
// API under wrangler dev; the unmodified @dfns/sdk 0.8.21 + keysigner creates a wallet (a 2-of-3
// DKLs23 key generation among the nodes), lists it and signs a hash, and @dfns/lib-viem signs a
// transaction and a message through viem. Every signature is checked with @noble/curves or viem.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { DfnsWallet } from "@dfns/lib-viem";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { recoverMessageAddress, recoverTransactionAddress, parseEther } from "viem";
import { toAccount, type CustomSource } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { governLocalOrg, startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-net-"));
  net = await startLocalNetwork({ stateDir: dir, chain: false });
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  // As npm start does: the nodes hold the org's root of trust and judge every request by its governance log.
  await governLocalOrg(net, cfg);
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 180_000);

afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("wallets and signatures through the share holders", () => {
  let walletId: string;
  let publicKey: string;
  let address: string;

  it("creates an EVM wallet by distributed key generation and lists it", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "treasury" } });
    expect(w.status).toBe("Active");
    expect(w.signingKey).toMatchObject({ scheme: "ECDSA", curve: "secp256k1" });
    expect(w.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    walletId = w.id;
    publicKey = w.signingKey.publicKey;
    address = w.address!;
    const list = await dfns.wallets.listWallets({});
    expect(list.items.map((x) => x.id)).toContain(walletId);
    expect((await dfns.wallets.getWallet({ walletId })).address).toBe(address);
  }, 120_000);

  it("generateSignature kind Hash: the threshold signature verifies against the wallet's key", async () => {
    const hash = bytesToHex(sha256(new TextEncoder().encode("pay 5 to bob")));
    const res = await dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: `0x${hash}` } });
    expect(res.status).toBe("Signed");
    const sig = res.signature!;
    const compact = Buffer.from(sig.r.slice(2) + sig.s.slice(2), "hex");
    expect(secp256k1.verify(compact, Buffer.from(hash, "hex"), Buffer.from(publicKey, "hex"), { prehash: false })).toBe(true);
    const got = await dfns.wallets.getSignature({ walletId, signatureId: res.id });
    expect(got.status).toBe("Signed");
  }, 60_000);

  it("@dfns/lib-viem signs a transaction and a message that recover to the wallet address", async () => {
    // lib-viem bundles its own viem 1.x types; at runtime its wallet is a custom account source.
    const account = toAccount((await DfnsWallet.init({ walletId, dfnsClient: dfns })) as unknown as CustomSource);
    const signedTx = await account.signTransaction({ chainId: 11155111, type: "eip1559", to: "0x000000000000000000000000000000000000dEaD", value: parseEther("0.01"), nonce: 0, gas: 21000n, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n });
    expect((await recoverTransactionAddress({ serializedTransaction: signedTx as Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"] })).toLowerCase()).toBe(address.toLowerCase());
    const signature = await account.signMessage({ message: "hello from tessera" });
    expect((await recoverMessageAddress({ message: "hello from tessera", signature })).toLowerCase()).toBe(address.toLowerCase());
  }, 60_000);

  it("after a signature the key's presignature pool fills in the background; the next signatures are one round from it", async () => {
    // What each node recorded: presigning sessions, and signatures with the presignature they used.
    const entries = () =>
      net.nodes.flatMap((n) => {
        const path = join(n.dir, "audit.jsonl");
        if (!existsSync(path)) return [];
        return readFileSync(path, "utf8")
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { entry: Record<string, unknown> }).entry);
      });
    const presigned = () => new Set(entries().filter((e) => e.kind === "presign" && e.outcome === "ok").map((e) => e.sessionId)).size;
    const deadline = Date.now() + 30_000;
    while (presigned() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(presigned()).toBeGreaterThanOrEqual(2);
    for (const text of ["presigned 1", "presigned 2"]) {
      const hash = bytesToHex(sha256(new TextEncoder().encode(text)));
      const res = await dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: `0x${hash}` } });
      expect(res.status).toBe("Signed");
      const compact = Buffer.from(res.signature!.r.slice(2) + res.signature!.s.slice(2), "hex");
      expect(secp256k1.verify(compact, Buffer.from(hash, "hex"), Buffer.from(publicKey, "hex"), { prehash: false })).toBe(true);
      // Both signers signed it from a presignature (one round), the same one. The edge may have
      // assembled the signature from their partials before they logged it: wait for their entries.
      const ofHash = () => entries().filter((e) => e.kind === "sign" && e.outcome === "ok" && String(e.digest).replace(/^0x/, "") === hash);
      for (const until = Date.now() + 10_000; ofHash().length < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
      const signed = ofHash();
      expect(signed).toHaveLength(2);
      expect(signed.every((e) => typeof e.presignature === "string" && e.presignature === signed[0]!.presignature)).toBe(true);
      // One of a batch a presigning ceremony made (several per ceremony, each named in its audit line).
      const batches = entries().filter((e) => e.kind === "presign" && e.outcome === "ok");
      expect(batches.some((e) => (e.result as { presignatureIds: string[] }).presignatureIds.includes(String(signed[0]!.presignature)))).toBe(true);
      expect(batches.every((e) => e.count === 8 && (e.result as { presignatureIds: string[] }).presignatureIds.length === 8)).toBe(true);
    }
  }, 90_000);

  it("sends a node only the governance entries it lacks, and the whole log again to one that lost its copy", async () => {
    const sign = async (text: string) => {
      const hash = bytesToHex(sha256(new TextEncoder().encode(text)));
      const res = await dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: `0x${hash}` } });
      expect(res.status).toBe("Signed");
      const compact = Buffer.from(res.signature!.r.slice(2) + res.signature!.s.slice(2), "hex");
      expect(secp256k1.verify(compact, Buffer.from(hash, "hex"), Buffer.from(publicKey, "hex"), { prehash: false })).toBe(true);
    };
    const entries = (region: string) => {
      const db = new DatabaseSync(join(net.nodes.find((n) => n.region === region)!.dir, "node.db"), { readOnly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM governance_entries").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    // Two entries in the org's log (a governance change each).
    const permission = await dfns.permissions.createPermission({ body: { name: "feed test", operations: ["Wallets:Read"] } });
    await dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: "feed test (renamed)" } });
    // Every node takes part in some signature (the signer sets rotate): the edge then knows how far each one's log reaches.
    for (let i = 0; i < 3; i++) await sign(`known ${i}`);
    const held = entries("eu");
    expect(held).toBeGreaterThan(0);
    // eu loses its copy of the org's log (restored from an old backup, say): the edge still believes it has it,
    // so the next ceremony with eu carries no entries eu lacks; eu refuses the head, and is sent the whole log.
    await net.killNode("eu");
    const db = new DatabaseSync(join(net.nodes.find((n) => n.region === "eu")!.dir, "node.db"));
    db.exec("DELETE FROM governance_entries");
    db.close();
    await net.startNode("eu");
    for (let i = 0; i < 6 && entries("eu") < held; i++) await sign(`after the loss ${i}`);
    expect(entries("eu")).toBe(held);
  }, 120_000);

  it("refuses a bad signature request with a 4xx before any ceremony", async () => {
    const err = await dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: "0x1234" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DfnsError);
    expect((err as DfnsError).httpStatus).toBe(400);
    const missing = await dfns.wallets.getWallet({ walletId: "wa-00000-00000-0000000000" }).catch((e: unknown) => e);
    expect((missing as DfnsError).httpStatus).toBe(404);
  });
});
