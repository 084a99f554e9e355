// Onboarding and retiring share holders end to end, with real processes: three nodes (eu, us, ap)
// and the edge under wrangler dev; a fourth node's operator runs `mpc-node init` (identity + join
// request); the administrator adds it with `tessera share-holders add` (the SDK's own user-action
// signing) and retires eu with the new node as replacement. Every key eu held is reshared (the new
// node takes eu's party index; every share refreshed), eu erases its shares on its own log's word
// (rows, WAL, VACUUM: read back from its node.db), and the wallets still sign through the official
// SDK — signatures checked with @noble/curves against the unchanged public keys — including
// signatures by the new node.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { freePort, governLocalOrg, startLocalNetwork, waitReady, type LocalNetwork } from "../../scripts/local-network.js";
import { ApiClient } from "../api/client.js";
import { nodeFetch, pemCredential } from "../adversarial/network-rig.js";

const root = join(import.meta.dirname, "../..");
const MPC_NODE = join(root, "mpc-node/bin/mpc-node.mjs");
const TESSERA = join(root, "cli/bin/tessera.mjs");

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;
let raw: ApiClient;
let cfg: { baseUrl: string; orgId: string; authToken: string; credId: string; privateKeyPem: string };
let n4: { dir: string; configPath: string; peerId: string; process?: ChildProcess };

function run(cmd: string, args: string[]) {
  const r = spawnSync(process.execPath, [cmd, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-reshare-"));
  // The edge's and nodes' own words, printed when something goes wrong (errors only).
  net = await startLocalNetwork({ stateDir: dir, chain: false, solana: false, bitcoin: false, log: (source, line) => void (/error|exception|refused|failed/i.test(line) && console.error(`[${source}] ${line.slice(0, 600)}`)) });
  cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  await governLocalOrg(net, cfg);
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  raw = new ApiClient(nodeFetch, cfg.baseUrl, cfg.authToken, cfg.credId, pemCredential(cfg.privateKeyPem));
}, 240_000);

afterAll(async () => {
  if (n4?.process && n4.process.exitCode === null) n4.process.kill("SIGKILL");
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const node = (region: string) => net.nodes.find((n) => n.region === region)!;
const readDb = <T>(nodeDir: string, query: string, ...args: string[]): T[] => {
  const db = new DatabaseSync(join(nodeDir, "node.db"), { readOnly: true });
  try {
    return db.prepare(query).all(...args) as T[];
  } finally {
    db.close();
  }
};

describe("a fourth share holder joins, a key is reshared onto it, an old one is retired", () => {
  const wallets: { id: string; keyId: string; publicKey: string; scheme: "ECDSA" | "EdDSA" }[] = [];
  let euSealed: Uint8Array[] = [];

  it("creates an ECDSA and an Ed25519 wallet with eu, us, ap and signs", async () => {
    const ecdsa = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia" } });
    const eddsa = await dfns.wallets.createWallet({ body: { network: "SolanaDevnet" } });
    for (const w of [ecdsa, eddsa]) wallets.push({ id: w.id, keyId: w.signingKey.id!, publicKey: w.signingKey.publicKey, scheme: w.signingKey.scheme as "ECDSA" | "EdDSA" });
    const rows = readDb<{ key_id: string; share: Uint8Array; parties: string }>(node("eu").dir, "SELECT key_id, share, parties FROM keys");
    expect(rows.map((r) => r.key_id).sort()).toEqual(wallets.map((w) => w.keyId).sort());
    euSealed = rows.map((r) => new Uint8Array(r.share));
    await signAndVerify(wallets[0]!, "before");
  }, 240_000);

  it("the new node's operator runs `mpc-node init`; the others' operators add its peer entry", async () => {
    const nodeDir = join(dir, "nodes", "sa");
    const [tcp, ws] = [await freePort(), await freePort()];
    const init = run(MPC_NODE, ["init", "--dir", nodeDir, "--region", "sa", "--host", "127.0.0.1", "--tcp-port", String(tcp), "--ws-port", String(ws)]);
    expect(init.status, init.stderr).toBe(0);
    const { peerId } = JSON.parse(init.stdout) as { peerId: string };
    n4 = { dir: nodeDir, configPath: join(nodeDir, "config.json"), peerId };
    // `mpc-node join verify` checks the request and prints the entry the other nodes' configs need.
    const verify = run(MPC_NODE, ["join", "verify", "--request", join(nodeDir, "join-request.json")]);
    expect(verify.status, verify.stderr).toBe(0);
    const entries = JSON.parse(verify.stdout) as { peersEntry: { peerId: string; multiaddrs: string[]; region: string } };
    expect(entries.peersEntry.peerId).toBe(peerId);
    // The new node knows us and ap (the holders it will share keys with) and the same edge.
    const us = JSON.parse(readFileSync(node("us").configPath, "utf8")) as { edges: unknown; evmChainIds: unknown; listen: { tcp: string } };
    const ap = JSON.parse(readFileSync(node("ap").configPath, "utf8")) as { listen: { tcp: string } };
    const mine = JSON.parse(readFileSync(n4.configPath, "utf8")) as Record<string, unknown>;
    mine.peers = [
      { peerId: node("us").peerId, multiaddrs: [us.listen.tcp], region: "us" },
      { peerId: node("ap").peerId, multiaddrs: [ap.listen.tcp], region: "ap" },
    ];
    mine.edges = us.edges;
    mine.evmChainIds = us.evmChainIds;
    writeFileSync(n4.configPath, JSON.stringify(mine, null, 2), { mode: 0o600 });
    // The org's root of trust, out of band, as every node has it.
    await governLocalOrg({ nodes: [{ region: "sa", peerId, dir: nodeDir, configPath: n4.configPath, process: undefined as unknown as ChildProcess }] }, cfg);
    for (const region of ["us", "ap"]) {
      const path = node(region).configPath;
      const c = JSON.parse(readFileSync(path, "utf8")) as { peers: unknown[] };
      c.peers.push(entries.peersEntry);
      writeFileSync(path, JSON.stringify(c, null, 2), { mode: 0o600 });
      await net.killNode(region);
      await net.startNode(region);
    }
    n4.process = spawn(process.execPath, [MPC_NODE, "start", "--config", n4.configPath], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    await waitReady("node sa", n4.process, /"event":"ready"/, 30_000, () => {});
  }, 120_000);

  it("the administrator adds it with `tessera share-holders add` (a governance log entry)", async () => {
    const added = run(TESSERA, ["share-holders", "add", join(n4.dir, "join-request.json"), "--config", join(dir, "local.json"), "--json"]);
    expect(added.status, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ peerId: n4.peerId, status: "Active", source: "Org", region: "sa" });
    const list = (await (await raw.get("/tessera/share-holders")).json()) as { items: { peerId: string; status: string }[] };
    expect(list.items.map((i) => [i.peerId, i.status])).toEqual([
      [node("eu").peerId, "Active"],
      [node("us").peerId, "Active"],
      [node("ap").peerId, "Active"],
      [n4.peerId, "Active"],
    ]);
  }, 60_000);

  it("retiring eu reshares its keys onto the new node; eu erases every share (row, WAL, VACUUM)", async () => {
    const res = await raw.signed("POST", `/tessera/share-holders/${node("eu").peerId}/retire`, { replacement: n4.peerId });
    const body = (await res.json()) as { status: string; reshared: string[]; erased: { ok: boolean; shares: number } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("Retired");
    expect(body.reshared.sort()).toEqual(wallets.map((w) => w.keyId).sort());
    expect(body.erased).toMatchObject({ ok: true });
    expect(body.erased.shares).toBeGreaterThanOrEqual(wallets.length);
    // eu: no key record, no share of any generation, and the sealed bytes are nowhere in its files.
    expect(readDb(node("eu").dir, "SELECT key_id FROM keys")).toEqual([]);
    expect(readDb(node("eu").dir, "SELECT key_id FROM retired_shares")).toEqual([]);
    const files = ["node.db", "node.db-wal"].map((f) => join(node("eu").dir, f)).filter((f) => existsSync(f)).map((f) => readFileSync(f));
    for (const sealed of euSealed) for (const file of files) expect(file.includes(Buffer.from(sealed))).toBe(false);
    // The new node holds both keys at eu's old index, at the others' share generation.
    const mine = readDb<{ key_id: string; my_index: number; generation: number; parties: string }>(n4.dir, "SELECT key_id, my_index, generation, parties FROM keys");
    expect(mine.map((r) => r.key_id).sort()).toEqual(wallets.map((w) => w.keyId).sort());
    for (const r of mine) {
      expect(r.my_index).toBe(1);
      expect(r.generation).toBe(1);
      expect((JSON.parse(r.parties) as { peerId: string }[]).map((p) => p.peerId)).toEqual([n4.peerId, node("us").peerId, node("ap").peerId]);
    }
    const us = readDb<{ generation: number; parties: string }>(node("us").dir, "SELECT generation, parties FROM keys");
    for (const r of us) expect(r.generation).toBe(1);
  }, 240_000);

  it("the wallets still sign through the SDK under their unchanged keys, with every pair of the new set", async () => {
    const before = auditSigns(n4.dir);
    // The coordinator rotates the signers: three signatures use {sa,us}, {us,ap}, {ap,sa}.
    for (const w of wallets) for (let i = 0; i < 3; i++) await signAndVerify(w, `after ${i}`);
    expect(auditSigns(n4.dir) - before).toBeGreaterThanOrEqual(4);
    const list = (await (await raw.get("/tessera/share-holders")).json()) as { items: { peerId: string; status: string; replacement?: string }[] };
    expect(list.items.find((i) => i.peerId === node("eu").peerId)).toMatchObject({ status: "Retired", replacement: n4.peerId });
  }, 240_000);
});

function auditSigns(nodeDir: string): number {
  return readFileSync(join(nodeDir, "audit.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.includes('"kind":"sign"') && l.includes('"outcome":"ok"')).length;
}

async function signAndVerify(w: { id: string; publicKey: string; scheme: "ECDSA" | "EdDSA" }, text: string): Promise<void> {
  if (w.scheme === "ECDSA") {
    const hash = sha256(new TextEncoder().encode(text));
    const res = await dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash: `0x${bytesToHex(hash)}` } });
    expect(res.status).toBe("Signed");
    const compact = Buffer.from(res.signature!.r.slice(2) + res.signature!.s.slice(2), "hex");
    expect(secp256k1.verify(compact, hash, Buffer.from(w.publicKey, "hex"), { prehash: false })).toBe(true);
    return;
  }
  const message = new TextEncoder().encode(text);
  const res = await dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Message", message: `0x${bytesToHex(message)}` } });
  expect(res.status).toBe("Signed");
  const sig = Buffer.from(res.signature!.r.slice(2) + res.signature!.s.slice(2), "hex");
  expect(ed25519.verify(sig, message, Buffer.from(w.publicKey, "hex"))).toBe(true);
}
