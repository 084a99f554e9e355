// The ceremony engine in one process: three engines with their real SQLite stores, sealed shares,
// audit logs and the real wasm core, wired by an in-memory transport instead of libp2p (the
// engine's transport is injected for exactly this). FROST keeps it fast; the libp2p tests in
// network.test.ts and refusals.test.ts run the same engine across real processes, ECDSA included.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initMpc } from "../../wasm/index.js";
import type { Party, SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import type { NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { CeremonyEngine } from "../src/ceremony/engine.js";
import { systemClock, type Clock } from "../src/ceremony/session.js";
import { LocalEdge } from "../src/dev/local-edge.js";
import { AuditLog, verifyAuditText } from "../src/storage/audit-log.js";
import { NodeStore } from "../src/storage/node-store.js";
import { ShareVault } from "../src/storage/share-vault.js";

/** A clock whose timers fire only when the test says so (time passes nowhere else). */
class ManualClock implements Clock {
  private t = Date.now();
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }
  advance(ms: number) {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
  }
}

type Tamper = (from: string, to: string, frame: Uint8Array) => Uint8Array | null;

interface TestNode {
  peerId: string;
  region: string;
  engine: CeremonyEngine;
  store: NodeStore;
  audit: AuditLog;
  auditPath: string;
  publicKey: Uint8Array;
}

const dirs: string[] = [];
const edge = new LocalEdge();
let tamper: Tamper | null = null;
const held: { from: string; to: string; frame: Uint8Array }[] = [];
let holdFor: string | null = null;

async function makeNodes(regions: string[], clock: Clock): Promise<TestNode[]> {
  const keys = await Promise.all(regions.map(() => generateKeyPair("Ed25519")));
  const ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
  const nodes: TestNode[] = [];
  const byPeer = new Map<string, TestNode>();
  regions.forEach((region, i) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-engine-"));
    dirs.push(dir);
    const peerId = ids[i]!;
    const store = new NodeStore(join(dir, "node.db"), new ShareVault(randomBytes(32)), peerId);
    const auditPath = join(dir, "audit.jsonl");
    const audit = new AuditLog(auditPath, keys[i]!.raw.subarray(0, 32), store, false);
    const peers = new Map(ids.flatMap((p, j) => (j === i ? [] : [[p, { region: regions[j]! }] as const])));
    const engine = new CeremonyEngine({
      self: { peerId, region },
      peers,
      edgeKeys: new Map([[edge.edgeId, edge.publicKey]]),
      signTimeoutMs: 5_000,
      keygenTimeoutMs: 20_000,
      store,
      audit,
      nodeKey: keys[i]!.raw.subarray(0, 32),
      clock,
      transport: {
        send(to, frame) {
          // Asynchronous delivery, like a network.
          setImmediate(() => {
            if (holdFor === to) return void held.push({ from: peerId, to, frame });
            const out = tamper ? tamper(peerId, to, frame) : frame;
            if (out) byPeer.get(to)?.engine.receiveFrame(peerId, out);
          });
        },
      },
    });
    const node = { peerId, region, engine, store, audit, auditPath, publicKey: keys[i]!.publicKey.raw };
    nodes.push(node);
    byPeer.set(peerId, node);
  });
  return nodes;
}

function partiesOf(nodes: TestNode[], indices?: number[]): Party[] {
  return nodes.map((n, i) => ({ index: i + 1, peerId: n.peerId })).filter((p) => !indices || indices.includes(p.index));
}

async function runAll(nodes: TestNode[], kind: "keygen" | "sign" | "refresh", signed: SignedAuthorization, only?: TestNode[]): Promise<NodeResponseFrame[]> {
  const parties = new Set(signed.authorization.parties.map((p) => p.peerId));
  const targets = (only ?? nodes).filter((n) => parties.has(n.peerId));
  return Promise.all(targets.map((n) => n.engine.run(kind, signed, "coordinator", { accepted: () => {} })));
}

function results(frames: NodeResponseFrame[]) {
  return frames.map((f) => {
    if (f.type !== "result") throw new Error(`expected a result, got ${JSON.stringify(f)}`);
    return f.result;
  });
}

beforeAll(async () => {
  await initMpc();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("ceremony engine, in one process", () => {
  let nodes: TestNode[];
  let publicKey: string;
  const keyId = "key-frost-1";

  it("runs a 2-of-3 FROST ed25519 keygen; every node keeps a sealed share of the same key", async () => {
    nodes = await makeNodes(["eu", "us", "ap"], systemClock);
    const signed = edge.keygen({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes), threshold: 2 });
    const out = results(await runAll(nodes, "keygen", signed));
    publicKey = out[0]!.publicKey;
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/);
    for (const r of out) expect(r.publicKey).toBe(publicKey);
    for (const n of nodes) {
      expect(n.store.key(keyId)?.publicKey).toBe(publicKey);
      // What is on disk is not the share: the sealed blob does not contain the exported bytes.
      const db = readFileSync(join(n.auditPath, "..", "node.db"));
      const plain = n.store.share(keyId);
      expect(db.includes(Buffer.from(plain.subarray(0, 32)))).toBe(false);
    }
  });

  it("every pair signs; each signature verifies with noble", async () => {
    for (const pair of [[1, 2], [1, 3], [2, 3]]) {
      const hash = bytesToHex(sha256(new TextEncoder().encode(`pair ${pair}`)));
      const signed = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, pair), body: { kind: "Hash", hash: `0x${hash}` } });
      const out = results(await runAll(nodes, "sign", signed));
      expect(out).toHaveLength(2);
      const sig = out[0]!;
      if (sig.kind !== "sign") throw new Error("not a signature");
      expect(out[1]).toEqual(sig);
      expect(ed25519.verify(hexToBytes(sig.signature), hexToBytes(hash), hexToBytes(publicKey))).toBe(true);
    }
  });

  it("holds round messages that arrive before the node has its authorization", async () => {
    const hash = bytesToHex(sha256(new TextEncoder().encode("late authorization")));
    const signed = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 3]), body: { kind: "Hash", hash: `0x${hash}` } });
    const first = nodes[0]!.engine.run("sign", signed, "coordinator", { accepted: () => {} });
    // Node 3 hears about the session only after node 1's first messages reached it.
    await new Promise((r) => setTimeout(r, 50));
    const third = nodes[2]!.engine.run("sign", signed, "coordinator", { accepted: () => {} });
    const out = results(await Promise.all([first, third]));
    if (out[0]!.kind !== "sign") throw new Error("not a signature");
    expect(ed25519.verify(hexToBytes(out[0]!.signature), hexToBytes(hash), hexToBytes(publicKey))).toBe(true);
  });

  it("a bit flipped in a party's round message ends the session with an error naming that party", async () => {
    const victim = nodes[0]!;
    const cheat = nodes[2]!;
    tamper = (from, _to, frame) => {
      if (from !== cheat.peerId || frame[33] !== 1 || frame[34] !== 2) return frame; // round 2 core message: the signature share
      const copy = frame.slice();
      copy[209 + 36 + 10]! ^= 0x40;
      return copy;
    };
    try {
      const signed = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 3]), body: { kind: "Hash", hash: `0x${"ab".repeat(32)}` } });
      const fromVictim = (await runAll(nodes, "sign", signed, [victim, cheat]))[0]!;
      expect(fromVictim.type).toBe("failure");
      if (fromVictim.type !== "failure") return;
      expect(fromVictim.error.culprits).toEqual([cheat.peerId]);
      expect(fromVictim.error.message).toContain(cheat.peerId);
      expect(fromVictim.error.message).toContain("(ap)");
    } finally {
      tamper = null;
    }
    // The next session is unaffected.
    const signed = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 3]), body: { kind: "Hash", hash: `0x${"cd".repeat(32)}` } });
    expect(results(await runAll(nodes, "sign", signed))).toHaveLength(2);
  });

  it("refuses forged, expired and replayed authorizations, and one the user did not sign", async () => {
    const body = { kind: "Hash", hash: `0x${"11".repeat(32)}` };
    const good = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 2]), body });
    const forger = new LocalEdge(edge.edgeId, ed25519.utils.randomSecretKey(), edge.user);
    const forged = forger.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 2]), body });
    const altered = { ...good, authorization: { ...good.authorization, message: "22".repeat(32) } };
    const expired = edge.authorize({ ...good.authorization, nonce: "ee".repeat(16), issuedAt: Date.now() - 120_000, expiresAt: Date.now() - 60_000 });
    for (const [signed, code] of [
      [forged, "forged"],
      [altered, "forged"],
      [expired, "expired"],
    ] as const) {
      for (const f of await runAll(nodes, "sign", signed as SignedAuthorization)) {
        expect(f.type).toBe("failure");
        if (f.type === "failure") expect(f.error.code).toBe(code);
      }
    }
    expect(results(await runAll(nodes, "sign", good))).toHaveLength(2);
    for (const f of await runAll(nodes, "sign", good)) {
      expect(f.type === "failure" && f.error.code).toBe("replayed");
    }
    // A fresh nonce does not make an old session id usable again.
    const sameSession = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 2]), body, sessionId: good.authorization.sessionId });
    for (const f of await runAll(nodes, "sign", sameSession)) {
      expect(f.type === "failure" && f.error.message).toMatch(/session .* already ran/);
    }
    // The edge's key alone: a well-signed authorization whose user action a stranger signed.
    const stranger = new LocalEdge(edge.edgeId, edge.secretKey);
    const strangers = stranger.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 2]), body });
    for (const f of await runAll(nodes, "sign", strangers)) {
      expect(f.type === "failure" && f.error.code).toBe("user-evidence");
    }
  });

  it("refresh changes every share and keeps the key; the new shares sign", async () => {
    const before = nodes.map((n) => bytesToHex(n.store.share(keyId)));
    const out = results(await runAll(nodes, "refresh", edge.refresh({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes) })));
    for (const r of out) expect(r.publicKey).toBe(publicKey);
    nodes.forEach((n, i) => {
      expect(bytesToHex(n.store.share(keyId))).not.toBe(before[i]);
      expect(n.store.key(keyId)?.generation).toBe(1);
    });
    const hash = "33".repeat(32);
    const sig = results(await runAll(nodes, "sign", edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [2, 3]), body: { kind: "Hash", hash: `0x${hash}` } })))[0]!;
    if (sig.kind !== "sign") throw new Error("not a signature");
    expect(ed25519.verify(hexToBytes(sig.signature), hexToBytes(hash), hexToBytes(publicKey))).toBe(true);
  });

  it("every audit log verifies, and names every ceremony including refusals and failures", () => {
    const seen = new Set<string>();
    for (const n of nodes) {
      const text = readFileSync(n.auditPath, "utf8");
      const verdict = verifyAuditText(text, n.publicKey, n.store.auditHead());
      expect(verdict).toMatchObject({ ok: true });
      const outcomes = text
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { entry: { outcome: string } }).entry.outcome);
      expect(outcomes).toContain("ok");
      for (const o of outcomes) seen.add(o);
    }
    expect([...seen].sort()).toEqual(["failed", "ok", "refused"]);
  });
});

describe("timeouts", () => {
  it("a party that never answers is named by the timeout, through waitingFor()", async () => {
    const clock = new ManualClock();
    const nodes = await makeNodes(["eu", "us", "ap"], clock);
    const keyId = "key-timeout";
    results(await runAll(nodes, "keygen", edge.keygen({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes), threshold: 2 })));
    // Node 2 accepts, but everything sent to it is swallowed, and it never reaches node 1 either.
    const signed = edge.sign({ keyId, scheme: "frost-ed25519", parties: partiesOf(nodes, [1, 2]), body: { kind: "Hash", hash: `0x${"44".repeat(32)}` } });
    holdFor = nodes[1]!.peerId;
    tamper = (from, to, frame) => (from === nodes[1]!.peerId ? null : frame);
    try {
      let accepted!: () => void;
      const started = new Promise<void>((r) => (accepted = r));
      const run = nodes[0]!.engine.run("sign", signed, "coordinator", { accepted });
      // The session's timer exists only once the authorization is checked (asynchronous work, slow on a loaded machine).
      await started;
      await new Promise((r) => setTimeout(r, 50));
      clock.advance(5_001);
      const f = await run;
      expect(f.type).toBe("failure");
      if (f.type !== "failure") return;
      expect(f.error.code).toBe("timeout");
      expect(f.error.waitingFor).toEqual([nodes[1]!.peerId]);
      expect(f.error.message).toMatch(/timed out after 5000 ms in round \d+ waiting for party 2 = 12D3\w+ \(us\)/);
    } finally {
      holdFor = null;
      tamper = null;
      held.length = 0;
    }
  });
});
