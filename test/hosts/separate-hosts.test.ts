// The edge and each share holder on its own host: four Linux network namespaces, four addresses
// on a private bridge, no loopback shortcuts. "eu" and "us" reach each other directly; "ap" is a
// volunteer behind NAT — it has a route to eu only, nobody has a route to it — and is reached
// through eu acting as a libp2p circuit relay (v2), where it holds a reservation (us holds one
// too, so ap can reach it back). The edge (wrangler dev, workerd) dials eu and us over
// websockets and ap through the relay. The unmodified @dfns/sdk creates a wallet (a 2-of-3 key
// generation that needs all three) and signs until every signing pair has been used; each
// signature is verified with @noble/curves against the wallet's key.
//
// Needs root and iproute2 (`ip netns`). Elsewhere it is skipped with the reason printed — unless
// TESSERA_REQUIRE_NETNS=1 (set by .ci/run), where it must run.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { waitReady } from "../../scripts/local-network.js";
import { createHostNetwork, namespacesUnavailable, type HostNetwork } from "./namespaces.js";

const root = join(import.meta.dirname, "../..");
const MPC_NODE = join(root, "mpc-node/bin/mpc-node.mjs");
const WRANGLER = join(root, "node_modules/.bin/wrangler");
const TCP = 4100;
const WS = 4101;
const API = 8787;

const unavailable = namespacesUnavailable();
if (unavailable) {
  if (process.env.TESSERA_REQUIRE_NETNS === "1") throw new Error(`network namespaces are required here (TESSERA_REQUIRE_NETNS=1) but: ${unavailable}`);
  console.warn(`separate-hosts test skipped: ${unavailable}`);
}

const NODES = ["eu", "us", "ap"] as const;
let net: HostNetwork | undefined;
let dir: string;
const children: ChildProcess[] = [];
const logs = new Map<string, string[]>();
const log = (source: string, line: string) => {
  if (!logs.has(source)) logs.set(source, []);
  logs.get(source)!.push(line);
};
let dfns: DfnsApiClient;
let apiUrl: string;

function run(host: string, argv: string[], name: string): ChildProcess {
  const child = spawn(net!.exec(host)[0]!, [...net!.exec(host).slice(1), ...argv], {
    cwd: root,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.on("exit", () => log(name, "(exited)"));
  children.push(child);
  return child;
}

describe.skipIf(unavailable !== null)("edge and share holders on separate hosts, one behind NAT via a relay", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-hosts-"));
    net = createHostNetwork(["edge", ...NODES], { ap: "eu" });
    const addr = (h: string) => net!.hosts.get(h)!.address;

    // Each node's identity and key-encryption key, made by its own `mpc-node init`.
    const nodes = NODES.map((region) => {
      const nodeDir = join(dir, region);
      const init = spawnSync(process.execPath, [MPC_NODE, "init", "--dir", nodeDir, "--region", region, "--host", addr(region), "--tcp-port", String(TCP), "--ws-port", String(WS)], { encoding: "utf8" });
      if (init.status !== 0) throw new Error(`mpc-node init ${region}: ${init.stderr}`);
      const { peerId } = JSON.parse(init.stdout.trim().split("\n").pop()!) as { peerId: string };
      return { region, peerId, configPath: join(nodeDir, "config.json") };
    });
    const peer = (r: string) => nodes.find((n) => n.region === r)!.peerId;
    const relay = `/ip4/${addr("eu")}/tcp/${TCP}/p2p/${peer("eu")}`;
    // How each node dials the others: directly where a route exists, else through eu's relay.
    const dialable: Record<string, Record<string, string>> = {
      eu: { us: `/ip4/${addr("us")}/tcp/${TCP}`, ap: `${relay}/p2p-circuit` },
      us: { eu: `/ip4/${addr("eu")}/tcp/${TCP}`, ap: `${relay}/p2p-circuit` },
      ap: { eu: `/ip4/${addr("eu")}/tcp/${TCP}`, us: `${relay}/p2p-circuit` },
    };
    const relayOf: Record<string, { serve: boolean; listenVia: string[] }> = {
      eu: { serve: true, listenVia: [] },
      us: { serve: false, listenVia: [relay] },
      ap: { serve: false, listenVia: [relay] },
    };

    const authorizationKey = randomBytes(32);
    const peerSeed = randomBytes(32);
    const edgePeerId = peerIdFromPrivateKey(await generateKeyPairFromSeed("Ed25519", peerSeed)).toString();
    for (const n of nodes) {
      const config = JSON.parse(readFileSync(n.configPath, "utf8")) as Record<string, unknown>;
      config.peers = NODES.filter((r) => r !== n.region).map((r) => ({ peerId: peer(r), multiaddrs: [dialable[n.region]![r]!], region: r }));
      config.edges = [{ id: "edge-hosts", authorizationKey: bytesToHex(ed25519.getPublicKey(authorizationKey)), peerIds: [edgePeerId] }];
      config.relay = relayOf[n.region];
      writeFileSync(n.configPath, JSON.stringify(config, null, 2));
    }
    // eu first: it is the relay the others reserve with; "ready" means reserved.
    for (const group of [["eu"], ["us", "ap"]]) {
      await Promise.all(
        group.map((r) => waitReady(`node ${r}`, run(r, [process.execPath, MPC_NODE, "start", "--config", nodes.find((n) => n.region === r)!.configPath], `node ${r}`), /"event":"ready"/, 60_000, log)),
      );
    }
    for (const r of ["us", "ap"]) expect(logs.get(`node ${r}`)!.join("\n")).not.toMatch(/relay-unreachable/);

    const shareHolders = {
      threshold: 2,
      nodes: [
        { index: 1, peerId: peer("eu"), multiaddrs: [`/ip4/${addr("eu")}/tcp/${WS}/ws`], region: "eu" },
        { index: 2, peerId: peer("us"), multiaddrs: [`/ip4/${addr("us")}/tcp/${WS}/ws`], region: "us" },
        { index: 3, peerId: peer("ap"), multiaddrs: [`/ip4/${addr("eu")}/tcp/${WS}/ws/p2p/${peer("eu")}/p2p-circuit`], region: "ap" },
      ],
    };
    const bootstrapSecret = randomBytes(24).toString("base64url");
    const vars = {
      TESSERA_BOOTSTRAP_SECRET: bootstrapSecret,
      TESSERA_SHARE_HOLDERS: JSON.stringify(shareHolders),
      TESSERA_EDGE_AUTH_KEY: bytesToHex(authorizationKey),
      TESSERA_EDGE_PEER_SEED: bytesToHex(peerSeed),
      TESSERA_EDGE_ID: "edge-hosts",
    };
    const api = run(
      "edge",
      [WRANGLER, "dev", "--local", "--ip", addr("edge"), "--port", String(API), "--inspector-port", "9229", "--persist-to", join(dir, "wrangler"), "--show-interactive-dev-session=false", ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])],
      "api",
    );
    await waitReady("api", api, /Ready on/, 120_000, log);
    apiUrl = `http://${addr("edge")}:${API}`;
    const cfg = await ensureLocalOrg({ baseUrl: apiUrl, bootstrapSecret, file: join(dir, "local.json"), orgName: "separate hosts" });
    dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  }, 300_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ap has no route to us or to the edge: only the relay reaches it", () => {
    const addr = (h: string) => net!.hosts.get(h)!.address;
    const route = (from: string, to: string) => spawnSync("ip", ["-n", net!.hosts.get(from)!.name, "route", "get", addr(to)], { encoding: "utf8" });
    expect(route("ap", "eu").status).toBe(0);
    expect(route("ap", "us").status).not.toBe(0);
    expect(route("ap", "edge").status).not.toBe(0);
    expect(route("eu", "us").status).toBe(0);
  });

  it("creates a wallet (all three hold a share) and signs with every pair through the official SDK", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "separate hosts" } });
    expect(w.status).toBe("Active");
    const publicKey = w.signingKey.publicKey;
    // ShareHolders rotates the signing pair: three signatures use eu+us, us+ap and ap+eu.
    for (let i = 0; i < 3; i++) {
      const hash = bytesToHex(randomBytes(32));
      const res = await dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash: `0x${hash}` } });
      expect(res.status, res.reason).toBe("Signed");
      const compact = Buffer.from(res.signature!.r.slice(2) + res.signature!.s.slice(2), "hex");
      expect(secp256k1.verify(compact, Buffer.from(hash, "hex"), Buffer.from(publicKey, "hex"), { prehash: false })).toBe(true);
    }
    // ap took part in the key generation and in signatures, reached only through the relay.
    const finished = (logs.get("node ap") ?? []).filter((l) => l.includes('"session-finished"')).map((l) => JSON.parse(l) as { kind: string });
    expect(finished.filter((f) => f.kind === "keygen")).toHaveLength(1);
    expect(finished.filter((f) => f.kind === "sign").length).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
