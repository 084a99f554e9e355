// Three share-holder nodes as real processes (regions eu, us, ap) on loopback, talking libp2p:
// TCP between nodes, WebSockets from the coordinator. ECDSA (DKLs23) and FROST ed25519 keys are
// generated and used by every pair, a node dies in the middle of a signature and comes back, and
// the audit logs are checked with the CLI, including after an entry is edited on disk.
//
// One ECDSA keygen for the whole file (≈ 3.5 s of CPU per party): every test reuses it.
import { presignatureIds } from "../../shared/src/mpc/presigned.js";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { multiaddr } from "@multiformats/multiaddr";
import { CeremonyError, MpcCoordinator } from "../../shared/src/mpc/coordinator.js";
import { readFrames, writeFrame } from "../../shared/src/mpc/frames.js";
import { encodeJsonFrame, PROTOCOL } from "../../shared/src/mpc/protocol.js";
import { createCoordinatorHost, runCli, startLocalCluster, type LocalCluster } from "../src/dev/local-cluster.js";
import { LocalEdge } from "../src/dev/local-edge.js";
import { loadIdentity } from "../src/secrets.js";

const SIGN_TIMEOUT_MS = 4_000;
const edge = new LocalEdge();
let cluster: LocalCluster;
let host: Libp2p;
let coordinator: MpcCoordinator;

function expectEcdsa(signature: string, recid: number | undefined, digest: Uint8Array, publicKey: string) {
  const sig = hexToBytes(signature);
  expect(secp256k1.verify(sig, digest, hexToBytes(publicKey), { prehash: false })).toBe(true);
  const recovered = secp256k1.Signature.fromBytes(sig, "compact").addRecoveryBit(recid!).recoverPublicKey(digest);
  expect(bytesToHex(recovered.toBytes(true))).toBe(publicKey);
}

beforeAll(async () => {
  const c = await createCoordinatorHost();
  host = c.host;
  cluster = await startLocalCluster({ regions: ["eu", "us", "ap"], edge, coordinatorPeerIds: [c.peerId], timeouts: { signMs: SIGN_TIMEOUT_MS } });
  // Generous: an ECDSA keygen is seconds of CPU per node, and CI machines are small and shared.
  coordinator = new MpcCoordinator(host, { timeoutMs: 150_000 });
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await cluster?.stop();
});

describe("three share-holder processes over libp2p", () => {
  const ecdsaKey = "key-ecdsa-net";
  let ecdsaPublicKey: string;

  async function signHash(pair: number[], text: string, timeoutMs?: number) {
    const digest = sha256(new TextEncoder().encode(text));
    const authorization = edge.sign({ keyId: ecdsaKey, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` } });
    const sig = await coordinator.sign({ nodes: cluster.addresses(), authorization, ...(timeoutMs ? { timeoutMs } : {}) });
    return { sig, digest, authorization };
  }

  it("runs a 2-of-3 ECDSA keygen; each pair then signs, and noble verifies every signature", async () => {
    const kg = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId: ecdsaKey, scheme: "ecdsa-secp256k1", parties: cluster.parties(), threshold: 2 }) });
    ecdsaPublicKey = kg.publicKey;
    expect(ecdsaPublicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(kg.chainCode).toMatch(/^[0-9a-f]{64}$/);
    for (const pair of [[1, 2], [1, 3], [2, 3]]) {
      const { sig, digest } = await signHash(pair, `ecdsa pair ${pair}`);
      expect(sig.publicKey).toBe(ecdsaPublicKey);
      expectEcdsa(sig.signature, sig.recid, digest, ecdsaPublicKey);
    }
  }, 240_000);

  it("the coordinator's ceremonies share one long-lived stream per node (no stream or protocol negotiation per ceremony)", async () => {
    for (const pair of [[1, 2], [2, 3], [1, 3]]) await signHash(pair, `one stream ${pair}`);
    for (const n of cluster.nodes) {
      const streams = host.getConnections().filter((c) => c.remotePeer.toString() === n.peerId).flatMap((c) => c.streams);
      expect(streams.filter((st) => st.protocol === PROTOCOL.ceremonies)).toHaveLength(1);
      expect(streams.filter((st) => st.protocol === PROTOCOL.sign || st.protocol === PROTOCOL.keygen)).toHaveLength(0);
    }
  }, 60_000);

  it("a batch of presignatures in one ceremony, one audit line; a signature from one of them is assembled by the coordinator from the signers' partials; the signers still finish and log it", async () => {
    const pair = [1, 3];
    const batch = edge.presign({ keyId: ecdsaKey, parties: cluster.parties(pair), count: 3 });
    const pre = await coordinator.presign({ nodes: cluster.addresses(), authorization: batch });
    expect(pre.presignatureIds).toEqual(presignatureIds(batch.authorization.sessionId, 3));
    const presignatureId = pre.presignatureIds[1]!;
    const digest = sha256(new TextEncoder().encode("assembled at the coordinator"));
    const authorization = edge.sign({ keyId: ecdsaKey, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` }, presignature: presignatureId });
    const assembling = new MpcCoordinator(host, { timeoutMs: 30_000, assemblePresigned: true });
    const sig = await assembling.sign({ nodes: cluster.addresses(), authorization, publicKey: ecdsaPublicKey });
    expect(sig.assembled).toBe(true);
    expectEcdsa(sig.signature, sig.recid, digest, ecdsaPublicKey);
    const sid = authorization.authorization.sessionId;
    for (const i of pair) {
      const n = cluster.nodes[i - 1]!;
      await n.waitForLog((l) => l.event === "session-finished" && l.sessionId === sid, 10_000);
      const lines = readFileSync(join(n.dir, "audit.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { entry: Record<string, unknown> }).entry);
      expect(lines.find((e) => e.sessionId === sid)).toMatchObject({ outcome: "ok", presignature: presignatureId, partialSentToCoordinator: true, result: { signature: sig.signature } });
      const presigned = lines.filter((e) => e.sessionId === batch.authorization.sessionId);
      expect(presigned).toHaveLength(1);
      expect(presigned[0]).toMatchObject({ kind: "presign", count: 3, outcome: "ok", result: { presignatureIds: pre.presignatureIds } });
    }
  }, 60_000);

  it("a share holder (not an edge) that opens the ceremonies stream is refused: no request of its runs", async () => {
    const [eu, us] = cluster.nodes;
    // eu's own identity: a configured peer, admitted by the gater, but not an edge.
    const { host: impostor } = await createCoordinatorHost(loadIdentity(join(eu!.dir, "peer.key")).privateKey);
    try {
      const digest = sha256(new TextEncoder().encode("from a peer"));
      const authorization = edge.sign({ keyId: ecdsaKey, scheme: "ecdsa-secp256k1", parties: cluster.parties([1, 2]), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` } });
      const stream = await impostor.dialProtocol(multiaddr(`${us!.address.multiaddrs[0]}/p2p/${us!.peerId}`), PROTOCOL.ceremonies);
      // The node may have closed the stream before the request is even written.
      const answer = await writeFrame(stream, encodeJsonFrame({ type: "authorize", id: 1, kind: "sign", signed: authorization }))
        .then(() => readFrames(stream, 1 << 20).next())
        .then(
          (f) => (f.done ? "closed" : "answered"),
          () => "closed",
        );
      expect(answer).toBe("closed");
      await us!.waitForLog((l) => l.event === "refused-stream" && l.protocol === PROTOCOL.ceremonies && l.peer === eu!.peerId, 5_000);
      expect(us!.logs.some((l) => l.event === "session-accepted" && l.sessionId === authorization.authorization.sessionId)).toBe(false);
    } finally {
      await impostor.stop();
    }
  }, 30_000);

  it("does the same with FROST ed25519, and a refresh keeps the key while every share changes", async () => {
    const keyId = "key-ed25519-net";
    const kg = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId, scheme: "frost-ed25519", parties: cluster.parties(), threshold: 2 }) });
    expect(kg.publicKey).toMatch(/^[0-9a-f]{64}$/);
    const signPair = async (pair: number[], text: string) => {
      const message = new TextEncoder().encode(text);
      // EdDSA signs the message itself (Dfns kind Message, hex).
      const authorization = edge.sign({ keyId, scheme: "frost-ed25519", parties: cluster.parties(pair), body: { kind: "Message", message: `0x${bytesToHex(message)}` } });
      const sig = await coordinator.sign({ nodes: cluster.addresses(), authorization });
      expect(ed25519.verify(hexToBytes(sig.signature), message, hexToBytes(kg.publicKey))).toBe(true);
    };
    for (const pair of [[1, 2], [1, 3], [2, 3]]) await signPair(pair, `ed25519 pair ${pair}`);
    const refreshed = await coordinator.refresh({ nodes: cluster.addresses(), authorization: edge.refresh({ keyId, scheme: "frost-ed25519", parties: cluster.parties() }) });
    expect(refreshed.publicKey).toBe(kg.publicKey);
    await signPair([1, 3], "after refresh");
  }, 60_000);

  it("a node dying mid-signature gives a timeout error naming it; the other pair signs; restarted, it signs with its stored share", async () => {
    const [eu, us] = cluster.nodes;
    // Make the interruption deterministic: eu is paused while the session starts, us takes the
    // authorization and begins its rounds, then us freezes (a hung machine: its connections stay
    // open, nothing answers) and eu resumes into a session whose partner has gone silent.
    eu!.signal("SIGSTOP");
    const digest = sha256(new TextEncoder().encode("interrupted"));
    const authorization = edge.sign({ keyId: ecdsaKey, scheme: "ecdsa-secp256k1", parties: cluster.parties([1, 2]), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` } });
    const sid = authorization.authorization.sessionId;
    const started = Date.now();
    const outcome = coordinator.sign({ nodes: cluster.addresses(), authorization, timeoutMs: 30_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    try {
      await us!.waitForLog((l) => l.event === "session-accepted" && l.sessionId === sid, 20_000);
      us!.signal("SIGSTOP");
    } finally {
      eu!.signal("SIGCONT");
    }
    const err = await outcome;
    const elapsed = Date.now() - started;
    // Then the frozen node is killed for good.
    await us!.kill();

    expect(err).toBeInstanceOf(CeremonyError);
    const e = err as CeremonyError;
    expect(e.message).toMatch(/timed out after 4000 ms in round \d waiting for party 2 = 12D3\w+ \(us\)/);
    expect(e.message).toContain(us!.peerId);
    expect(e.blamed).toEqual([us!.peerId]);
    const fromEu = e.failures.find((f) => f.peerId === eu!.peerId)!;
    expect(fromEu).toMatchObject({ stage: "failed", code: "timeout", waitingFor: [us!.peerId] });
    expect(e.failures.find((f) => f.peerId === us!.peerId)?.stage).toBe("silent");
    expect(elapsed).toBeLessThan(25_000);

    // The remaining pair signs while us is down.
    const other = await signHash([1, 3], "while us is down");
    expectEcdsa(other.sig.signature, other.sig.recid, other.digest, ecdsaPublicKey);

    // Restarted, us still holds its share (sealed in its database) and signs with it.
    await us!.start();
    for (const pair of [[2, 3], [1, 2]]) {
      const again = await signHash(pair, `us is back ${pair}`);
      expectEcdsa(again.sig.signature, again.sig.recid, again.digest, ecdsaPublicKey);
    }
  }, 120_000);

  it("every node's audit log verifies; editing, removing or cutting an entry on disk makes `audit verify` fail", async () => {
    const verifyAll = () => Promise.all(cluster.nodes.map((n) => runCli(["audit", "verify", "--config", n.configPath])));
    const [eu, us, ap] = cluster.nodes;
    const exportPath = join(cluster.root, "eu-audit-export.jsonl");
    const [verdicts, exportRun] = await Promise.all([verifyAll(), runCli(["audit", "export", "--config", eu!.configPath, "--out", exportPath])]);
    cluster.nodes.forEach((n, i) => {
      const r = verdicts[i]!;
      expect(r.status, r.stderr).toBe(0);
      const verdict = JSON.parse(r.stdout) as { ok: boolean; entries: number; peerId: string };
      expect(verdict).toMatchObject({ ok: true, peerId: n.peerId });
      expect(verdict.entries).toBeGreaterThanOrEqual(5);
      // Every ceremony is there with its digest, parties, outcome and timings.
      const lines = readFileSync(join(n.dir, "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { entry: Record<string, unknown> });
      const sign = lines.find((l) => l.entry.kind === "sign" && l.entry.outcome === "ok")!.entry;
      expect(sign).toMatchObject({ keyId: expect.any(String), digest: expect.stringMatching(/^[0-9a-f]+$/), parties: expect.any(Array), timings: expect.any(Object) });
    });
    expect(exportRun.status).toBe(0);

    // Tamper with one log per node, three different ways; keep the originals to put back.
    const originals = cluster.nodes.map((n) => readFileSync(join(n.dir, "audit.jsonl"), "utf8"));
    const entries = (i: number) => originals[i]!.trim().split("\n");
    // us: one entry edited (a ceremony's outcome rewritten).
    const edited = entries(1);
    const victim = edited.findIndex((l) => l.includes('"outcome":"ok"'));
    edited[victim] = edited[victim]!.replace('"outcome":"ok"', '"outcome":"failed"');
    writeFileSync(join(us!.dir, "audit.jsonl"), `${edited.join("\n")}\n`);
    // ap: one entry removed.
    const removed = entries(2);
    removed.splice(1, 1);
    writeFileSync(join(ap!.dir, "audit.jsonl"), `${removed.join("\n")}\n`);
    // eu: the last entry cut off (caught by the head the node recorded in its database).
    writeFileSync(join(eu!.dir, "audit.jsonl"), `${entries(0).slice(0, -1).join("\n")}\n`);

    const [[euCut, usEdited, apRemoved], exported] = await Promise.all([verifyAll(), runCli(["audit", "verify", "--export", exportPath])]);
    // The export taken before the tampering still verifies on its own, against its peer id.
    expect(exported.status, exported.stdout).toBe(0);
    expect(usEdited!.status).toBe(1);
    expect(JSON.parse(usEdited!.stdout)).toMatchObject({ ok: false, line: victim + 1, reason: expect.stringMatching(/altered/) });
    expect(apRemoved!.status).toBe(1);
    expect(JSON.parse(apRemoved!.stdout).reason).toMatch(/removed|chain/);
    expect(euCut!.status).toBe(1);
    expect(JSON.parse(euCut!.stdout).reason).toMatch(/truncated/);

    cluster.nodes.forEach((n, i) => writeFileSync(join(n.dir, "audit.jsonl"), originals[i]!));
    for (const r of await verifyAll()) expect(r.status).toBe(0);
    // Thirteen CLI processes, three or four at a time: each takes ≈ 6 s to start on a loaded 2-core machine.
  }, 180_000);
});
