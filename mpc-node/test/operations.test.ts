// Operating a node, against real processes: the Prometheus metrics and `mpc-node status` after
// real ceremonies and a refusal, and rotating the key-encryption key of a node's share store —
// refused while the node runs; afterwards only the new key opens the shares and the node signs
// with them again.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CeremonyError, MpcCoordinator } from "../../shared/src/mpc/coordinator.js";
import { loadConfig } from "../src/config.js";
import { createCoordinatorHost, runCli, startLocalCluster, type LocalCluster } from "../src/dev/local-cluster.js";
import { LocalEdge } from "../src/dev/local-edge.js";
import type { NodeStatus } from "../src/operations/status.js";
import { loadIdentity, loadKek } from "../src/secrets.js";
import { NodeStore } from "../src/storage/node-store.js";
import { ShareVault } from "../src/storage/share-vault.js";

const edge = new LocalEdge();
let cluster: LocalCluster;
let host: Libp2p;
let coordinator: MpcCoordinator;
const keyId = "key-ops-ed25519";
let publicKey: string;

beforeAll(async () => {
  const c = await createCoordinatorHost();
  host = c.host;
  cluster = await startLocalCluster({ regions: ["eu", "us"], edge, coordinatorPeerIds: [c.peerId], admin: true });
  coordinator = new MpcCoordinator(host, { timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await cluster?.stop();
});

const adminOf = (i: number) => loadConfig(cluster.nodes[i]!.configPath).admin!.listen;
const metric = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

async function sign(text: string) {
  const message = new TextEncoder().encode(text);
  const authorization = edge.sign({ keyId, scheme: "frost-ed25519", parties: cluster.parties(), body: { kind: "Message", message: `0x${bytesToHex(message)}` } });
  const sig = await coordinator.sign({ nodes: cluster.addresses(), authorization });
  expect(ed25519.verify(hexToBytes(sig.signature), message, hexToBytes(publicKey))).toBe(true);
  return authorization;
}

describe("onboarding: the join request", () => {
  it("`init` writes a join request signed by the node's key; `join verify` accepts it and prints the config entries, and refuses it altered", async () => {
    const dir = join(cluster.root, "newcomer");
    const init = await runCli(["init", "--dir", dir, "--region", "sa", "--host", "0.0.0.0", "--advertise", "sa.example.org", "--tcp-port", "4100", "--ws-port", "4101"]);
    expect(init.status, init.stderr).toBe(0);
    const { peerId, joinRequest } = JSON.parse(init.stdout) as { peerId: string; joinRequest: string };
    const ok = await runCli(["join", "verify", "--request", joinRequest, "--index", "4"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      peerId,
      peersEntry: { peerId, multiaddrs: ["/dns4/sa.example.org/tcp/4100"], region: "sa" },
      shareHoldersEntry: { index: 4, peerId, multiaddrs: ["/dns4/sa.example.org/tcp/4101/ws"], region: "sa" },
    });
    // Someone on the way points the edge at their own address: the signature no longer holds.
    const altered = JSON.parse(readFileSync(joinRequest, "utf8")) as { addresses: { edge: string[] } };
    altered.addresses.edge = ["/dns4/attacker.example/tcp/4101/ws"];
    const tampered = join(dir, "tampered.json");
    writeFileSync(tampered, JSON.stringify(altered));
    const bad = await runCli(["join", "verify", "--request", tampered]);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, reason: expect.stringMatching(/signature is not 12D3\w+'s/) });
  });
});

describe("operating a node", () => {
  it("exposes ceremonies by kind and result, durations, refusals by reason, keys and peers as Prometheus metrics", async () => {
    const kg = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId, scheme: "frost-ed25519", parties: cluster.parties(), threshold: 2 }) });
    publicKey = kg.publicKey;
    const authorization = await sign("first");
    // The same authorization again: every node refuses it as replayed.
    const replay = await coordinator.sign({ nodes: cluster.addresses(), authorization }).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(CeremonyError);

    const res = await fetch(`http://${adminOf(0)}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(metric(text, 'tessera_node_ceremonies_total{kind="keygen",result="ok"}')).toBe(1);
    expect(metric(text, 'tessera_node_ceremonies_total{kind="sign",result="ok"}')).toBe(1);
    expect(metric(text, 'tessera_node_ceremonies_total{kind="sign",result="refused"}')).toBe(1);
    expect(metric(text, 'tessera_node_refusals_total{kind="sign",reason="replayed"}')).toBe(1);
    expect(metric(text, 'tessera_node_ceremony_duration_seconds_count{kind="sign"}')).toBe(1);
    expect(metric(text, 'tessera_node_ceremony_duration_seconds_bucket{kind="sign",le="+Inf"}')).toBe(1);
    expect(metric(text, "tessera_node_keys")).toBe(1);
    expect(metric(text, "tessera_node_bans")).toBe(0);
    expect(metric(text, "tessera_node_peers_connected")).toBe(1);
    expect(metric(text, "tessera_node_edges_connected")).toBe(1);
    expect((await fetch(`http://${adminOf(0)}/nothing`)).status).toBe(404);
  }, 120_000);

  it("`mpc-node status` shows peers, keys held, the last ceremonies and bans — live, then from the files once stopped", async () => {
    const [eu, us] = cluster.nodes;
    const live = await runCli(["status", "--config", eu!.configPath]);
    expect(live.status, live.stderr).toBe(0);
    const s = JSON.parse(live.stdout) as NodeStatus;
    expect(s).toMatchObject({ peerId: eu!.peerId, region: "eu", running: true, keys: { total: 1, byScheme: { "frost-ed25519": 1 } }, bans: [], activeSessions: 0 });
    expect(s.peers).toEqual([{ region: "us", peerId: us!.peerId, connected: true }]);
    expect(s.lastCeremonies.map((c) => `${c.kind}:${c.outcome}`)).toEqual(["sign:refused", "sign:ok", "keygen:ok"]);
    expect(s.lastCeremonies[0]!.code).toBe("replayed");

    await eu!.stop();
    const offline = JSON.parse((await runCli(["status", "--config", eu!.configPath])).stdout) as NodeStatus;
    expect(offline).toMatchObject({ running: false, keys: { total: 1 } });
    expect(offline.peers[0]!.connected).toBeNull();
    expect(offline.lastCeremonies).toHaveLength(3);
  }, 60_000);

  it("rotates the share store's key-encryption key: refused while running, then only the new key opens the shares, and the node signs again", async () => {
    const eu = cluster.nodes[0]!;
    const config = loadConfig(eu.configPath);
    const { peerId } = loadIdentity(config.paths.identity);
    const oldKek = loadKek(config.paths.kek, {});

    await eu.start();
    const busy = await runCli(["kek", "rotate", "--config", eu.configPath]);
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/the node is running \(pid \d+\)/);
    await eu.stop();

    const rotated = await runCli(["kek", "rotate", "--config", eu.configPath]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ ok: true, resealed: { keys: 1, retired: 0 } });
    const newKek = loadKek(config.paths.kek, {});
    expect(bytesToHex(newKek)).not.toBe(bytesToHex(oldKek));
    expect((await import("node:fs")).statSync(config.paths.kek!).mode & 0o777).toBe(0o600);
    expect(readFileSync(config.paths.kek!, "utf8")).not.toContain(Buffer.from(oldKek).toString("base64"));

    const withOld = new NodeStore(config.paths.database, new ShareVault(oldKek), peerId);
    expect(() => withOld.share(keyId)).toThrow(/does not decrypt/);
    withOld.close();
    const withNew = new NodeStore(config.paths.database, new ShareVault(newKek), peerId);
    expect(withNew.share(keyId).length).toBeGreaterThan(0);
    withNew.close();

    await eu.start();
    await sign("after the key-encryption key was rotated");
  }, 120_000);
});
