// Presignatures at the share holders (wasm/vendor/dkls23-core/PRESIGN.md): three ceremony engines
// with their real SQLite stores, sealed storage and the real wasm core, wired in memory. A 2-of-3
// ECDSA key presigns ahead of time; a signature from a presignature is one round and verifies
// with noble (recovery id included); a presignature signs at most once, also after a node restarts
// on the same database.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PrivateKey } from "@libp2p/interface";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initMpc } from "../../wasm/index.js";
import type { CeremonyKind, Party, SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import type { NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { combinePartials } from "../../shared/src/mpc/presigned.js";
import { readAuditLines } from "../src/storage/audit-log.js";
import { CeremonyEngine, type Deviation } from "../src/ceremony/engine.js";
import { presignatureIds } from "../../shared/src/mpc/presigned.js";
import { systemClock } from "../src/ceremony/session.js";
import { LocalEdge } from "../src/dev/local-edge.js";
import { AuditLog } from "../src/storage/audit-log.js";
import { NodeStore } from "../src/storage/node-store.js";
import { groupCommit } from "../src/storage/group-commit.js";
import { ShareVault } from "../src/storage/share-vault.js";

const dirs: string[] = [];
const edge = new LocalEdge();

interface TestNode {
  /** Holds the node's disk syncs until opened (the group commit test); null: they run at once. */
  gate?: { open: Promise<void>; syncs: number; sent: number } | null;
  peerId: string;
  dir: string;
  sealKey: Buffer;
  key: PrivateKey;
  engine: CeremonyEngine;
  store: NodeStore;
}

const byPeer = new Map<string, TestNode>();
let ids: string[] = [];

/** Opens (or re-opens, after a "restart") a node's store and engine on its directory; `deviation` makes it a cheat. */
function open(node: Omit<TestNode, "engine" | "store">, deviation?: Deviation): TestNode {
  const store = new NodeStore(join(node.dir, "node.db"), new ShareVault(node.sealKey), node.peerId);
  // As the daemon runs them: audit lines and relaxed commits synced by one group commit.
  const audit = new AuditLog(join(node.dir, "audit.jsonl"), node.key.raw.subarray(0, 32), store, "group");
  const gated = (sync: () => Promise<void>) => async () => {
    const gate = byPeer.get(node.peerId)?.gate;
    if (gate) {
      gate.syncs++;
      await gate.open;
    }
    await sync();
  };
  const durable = { store: gated(groupCommit(() => store.syncToDisk())), audit: gated(groupCommit(() => audit.sync())) };
  const peers = new Map(ids.filter((p) => p !== node.peerId).map((p) => [p, { region: p.slice(-4) }] as const));
  const engine = new CeremonyEngine({
    self: { peerId: node.peerId, region: node.peerId.slice(-4) },
    peers,
    edgeKeys: new Map([[edge.edgeId, edge.publicKey]]),
    signTimeoutMs: 20_000,
    keygenTimeoutMs: 120_000,
    store,
    audit,
    durable,
    nodeKey: node.key.raw.subarray(0, 32),
    ...(deviation ? { deviation } : {}),
    clock: systemClock,
    transport: {
      send: (to, frame) => {
        const gate = byPeer.get(node.peerId)?.gate;
        if (gate) gate.sent++;
        setImmediate(() => byPeer.get(to)?.engine.receiveFrame(node.peerId, frame));
      },
    },
  });
  const full = { ...node, store, engine };
  byPeer.set(node.peerId, full);
  return full;
}

async function run(nodes: TestNode[], kind: CeremonyKind, signed: SignedAuthorization): Promise<NodeResponseFrame[]> {
  const parties = new Set(signed.authorization.parties.map((p) => p.peerId));
  return Promise.all(nodes.filter((n) => parties.has(n.peerId)).map((n) => n.engine.run(kind, signed, "coordinator", { accepted: () => {} })));
}

function ok(frames: NodeResponseFrame[]) {
  return frames.map((f) => {
    if (f.type !== "result") throw new Error(`expected a result, got ${JSON.stringify(f)}`);
    return f.result;
  });
}

let nodes: TestNode[];
const keyId = "key-presign-ecdsa";
let publicKey: string;
const parties = (indices: number[]): Party[] => nodes.map((n, i) => ({ index: i + 1, peerId: n.peerId })).filter((p) => indices.includes(p.index));

beforeAll(async () => {
  await initMpc();
  const keys = await Promise.all([0, 1, 2].map(() => generateKeyPair("Ed25519")));
  ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
  nodes = keys.map((key, i) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-presign-"));
    dirs.push(dir);
    return open({ peerId: ids[i]!, dir, sealKey: randomBytes(32), key });
  });
  const out = ok(await run(nodes, "keygen", edge.keygen({ keyId, scheme: "ecdsa-secp256k1", parties: parties([1, 2, 3]), threshold: 2 })));
  publicKey = out[0]!.publicKey;
}, 240_000);

afterAll(() => {
  for (const n of byPeer.values()) n.store.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** One presigning ceremony of `count` presignatures; their ids. */
async function presignBatch(signers: number[], count: number): Promise<string[]> {
  const signed = edge.presign({ keyId, parties: parties(signers), count });
  const out = ok(await run(nodes, "presign", signed));
  expect(out).toHaveLength(2);
  const r = out[0]!;
  if (r.kind !== "presign") throw new Error("not a presignature");
  expect(out[1]).toEqual(r);
  expect(r.presignatureIds).toEqual(presignatureIds(signed.authorization.sessionId, count));
  return r.presignatureIds;
}

async function presign(signers: number[]): Promise<string> {
  return (await presignBatch(signers, 1))[0]!;
}

function signWith(presignature: string | undefined, signers: number[], text: string, derivationPath?: string) {
  const hash = bytesToHex(sha256(new TextEncoder().encode(text)));
  const signed = edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties: parties(signers), body: { kind: "Hash", hash: `0x${hash}` }, ...(presignature ? { presignature } : {}), ...(derivationPath ? { derivationPath } : {}) });
  return { hash, signed };
}

function expectValid(r: { kind: string; signature?: string; recid?: number; publicKey: string }, hash: string) {
  if (r.kind !== "sign") throw new Error("not a signature");
  expect(r.publicKey).toBe(publicKey);
  const sig = hexToBytes(r.signature!);
  expect(secp256k1.verify(sig, hexToBytes(hash), hexToBytes(publicKey), { prehash: false })).toBe(true);
  const recovered = secp256k1.Signature.fromBytes(sig, "compact").addRecoveryBit(r.recid!).recoverPublicKey(hexToBytes(hash));
  expect(bytesToHex(recovered.toBytes(true))).toBe(publicKey);
}

describe("presignatures at the share holders", () => {
  it("every signer pair presigns; each presignature signs once in one round; noble verifies the signature and its recovery id", async () => {
    for (const pair of [[1, 2], [1, 3], [2, 3]]) {
      const id = await presign(pair);
      for (const n of nodes) expect(n.store.presignatureCount(keyId)).toBe(pair.includes(nodes.indexOf(n) + 1) ? 1 : 0);
      const { hash, signed } = signWith(id, pair, `presigned ${pair}`);
      const out = ok(await run(nodes, "sign", signed));
      expect(out[1]).toEqual(out[0]);
      expectValid(out[0]!, hash);
      for (const n of nodes) expect(n.store.presignatureCount(keyId)).toBe(0);
    }
  }, 120_000);

  it("a presignature used once is refused for a second message, also after every node restarted on the same database", async () => {
    const id = await presign([1, 2]);
    const first = signWith(id, [1, 2], "first message");
    expectValid(ok(await run(nodes, "sign", first.signed))[0]!, first.hash);

    // Restart every node: new store and engine over the same files.
    for (const n of [...nodes]) n.store.close();
    nodes = nodes.map((n) => open({ peerId: n.peerId, dir: n.dir, sealKey: n.sealKey, key: n.key }));
    const again = signWith(id, [1, 2], "second message");
    const frames = await run(nodes, "sign", again.signed);
    for (const f of frames) {
      expect(f.type).toBe("failure");
      if (f.type === "failure") expect(f.error.message).toMatch(/not held by this node/);
    }
    // The key itself still signs after the restart, with or without a fresh presignature.
    const plain = signWith(undefined, [1, 3], "plain after restart");
    expectValid(ok(await run(nodes, "sign", plain.signed))[0]!, plain.hash);
    const fresh = signWith(await presign([2, 3]), [2, 3], "presigned after restart");
    expectValid(ok(await run(nodes, "sign", fresh.signed))[0]!, fresh.hash);
  }, 180_000);

  it("each signer's partial, sent to the coordinator once it spent the presignature, assembles to the signers' own signature; a wrong one to nothing", async () => {
    const id = await presign([2, 3]);
    const { hash, signed } = signWith(id, [2, 3], "assembled by the coordinator");
    const partials = new Map<string, string>();
    const signers = nodes.filter((n) => signed.authorization.parties.some((p) => p.peerId === n.peerId));
    const frames = await Promise.all(signers.map((n) => n.engine.run("sign", signed, "coordinator", { accepted: () => {}, partial: (sid, partial) => partials.set(n.peerId, `${sid}:${partial}`) })));
    const out = ok(frames);
    expectValid(out[0]!, hash);
    expect(partials.size).toBe(2);
    const bytes = [...partials.values()].map((v) => {
      const [sid, partial] = v.split(":");
      expect(sid).toBe(signed.authorization.sessionId);
      return hexToBytes(partial!);
    });
    const assembled = combinePartials(bytes, hexToBytes(hash), publicKey);
    expect(assembled).not.toBeNull();
    expect(assembled!.signature).toBe(out[0]!.kind === "sign" ? out[0]!.signature : null);
    expect(assembled!.recid).toBe(out[0]!.kind === "sign" ? out[0]!.recid : null);
    // A signer that lies in its partial (or partials of another signature) assembles to nothing:
    // the coordinator checks the signature against the key before believing it.
    const lying = bytes.map((b) => b.slice());
    lying[1]![95]! ^= 1;
    expect(combinePartials(lying, hexToBytes(hash), publicKey)).toBeNull();
    expect(combinePartials(bytes, sha256(new TextEncoder().encode("another message")), publicKey)).toBeNull();
    // Each signer's audit entry says its partial went to the coordinator.
    for (const n of signers) {
      const entry = readAuditLines(join(n.dir, "audit.jsonl")).map((l) => l.entry).find((e) => e.sessionId === signed.authorization.sessionId && e.outcome === "ok");
      expect(entry).toMatchObject({ kind: "sign", presignature: id, partialSentToCoordinator: true });
    }
  }, 120_000);

  it("group commit: nothing computed from a presignature leaves a signer before its spending (and the authorization's claim) is on disk", async () => {
    const id = await presign([1, 2]);
    const { hash, signed } = signWith(id, [1, 2], "held until synced");
    const signers = nodes.slice(0, 2);
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    for (const n of signers) n.gate = { open: opened, syncs: 0, sent: 0 };
    const partials: string[] = [];
    const running = Promise.all(signers.map((n) => n.engine.run("sign", signed, "coordinator", { accepted: () => {}, partial: (_sid, p) => partials.push(p) })));
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (const n of signers) {
        // Spent (committed, not yet synced) and waiting for the sync: no round message, no partial.
        expect(n.gate!.syncs).toBe(1);
        expect(n.store.presignatureCount(keyId)).toBe(0);
        expect(n.gate!.sent).toBe(0);
      }
      expect(partials).toHaveLength(0);
    } finally {
      open();
    }
    const out = ok(await running);
    expectValid(out[0]!, hash);
    expect(partials).toHaveLength(2);
    // One sync before the ceremony started, one before the answer (after the audit line).
    for (const n of signers) expect(n.gate!.syncs).toBe(2);
    for (const n of signers) n.gate = null;
  }, 120_000);

  it("a presignature is bound to its signer set: another pair cannot use it, and it stays unused", async () => {
    const id = await presign([1, 3]);
    const wrong = signWith(id, [1, 2], "wrong signers");
    for (const f of await run(nodes, "sign", wrong.signed)) expect(f.type).toBe("failure");
    // Node 1 held it for {1,3}: asked for {1,2} it refused without consuming it.
    expect(nodes[0]!.store.presignatureCount(keyId)).toBe(1);
    const right = signWith(id, [1, 3], "right signers");
    expectValid(ok(await run(nodes, "sign", right.signed))[0]!, right.hash);
  }, 120_000);

  it("one ceremony makes a batch: every signer stores all of it in one go and audits it in one line; each presignature signs once (noble verifies), also after a restart", async () => {
    const before = nodes.map((n) => n.store.presignatureCount(keyId));
    const ids = await presignBatch([1, 2], 5);
    expect(new Set(ids).size).toBe(5);
    nodes.forEach((n, i) => expect(n.store.presignatureCount(keyId)).toBe(before[i]! + (i < 2 ? 5 : 0)));
    for (const n of nodes.slice(0, 2)) {
      const lines = readAuditLines(join(n.dir, "audit.jsonl")).map((l) => l.entry).filter((e) => e.kind === "presign" && (e.result as { presignatureIds?: string[] } | undefined)?.presignatureIds?.[0] === ids[0]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ outcome: "ok", count: 5, result: { presignatureIds: ids, publicKey } });
    }
    const rs = new Set<string>();
    for (const [i, id] of ids.slice(0, 3).entries()) {
      const { hash, signed } = signWith(id, [1, 2], `batch ${i}`);
      const out = ok(await run(nodes, "sign", signed));
      expectValid(out[0]!, hash);
      rs.add(out[0]!.kind === "sign" ? out[0]!.signature.slice(0, 64) : "");
    }
    expect(rs.size).toBe(3);
    // Restart: the used ones are refused, the unused ones of the same batch still sign once.
    for (const n of [...nodes]) n.store.close();
    nodes = nodes.map((n) => open({ peerId: n.peerId, dir: n.dir, sealKey: n.sealKey, key: n.key }));
    for (const id of ids.slice(0, 3)) {
      for (const f of await run(nodes, "sign", signWith(id, [1, 2], `reused ${id}`).signed)) {
        expect(f.type).toBe("failure");
        if (f.type === "failure") expect(f.error.message).toMatch(/not held by this node/);
      }
    }
    for (const id of ids.slice(3)) {
      const { hash, signed } = signWith(id, [1, 2], `after restart ${id}`);
      expectValid(ok(await run(nodes, "sign", signed))[0]!, hash);
      for (const f of await run(nodes, "sign", signWith(id, [1, 2], `twice ${id}`).signed)) expect(f.type).toBe("failure");
    }
    nodes.forEach((n, i) => expect(n.store.presignatureCount(keyId)).toBe(before[i]!));
  }, 240_000);

  it("a signer whose batch message holds another number of presignatures (or a cut one) ends the ceremony named as the culprit; the honest signer stores nothing of the batch", async () => {
    const changes: [string, (m: Uint8Array) => Uint8Array][] = [
      // Round 1 is direct-only: the broadcast bundle is `count | (0)*count`, the direct one follows;
      // its last presignature's message is dropped, and the count says so.
      ["one presignature fewer", (m) => {
        const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
        const direct = 36 + 4 + view.getUint32(36);
        const count = view.getUint32(direct);
        let at = direct + 4;
        for (let i = 0; i < count - 1; i++) at += 4 + view.getUint32(at);
        const out = m.slice(0, at);
        new DataView(out.buffer).setUint32(direct, count - 1);
        return out;
      }],
      ["a cut message", (m) => m.slice(0, m.length - 10)],
    ];
    for (const [what, change] of changes) {
      const honest = nodes[0]!;
      const cheat = open({ peerId: nodes[1]!.peerId, dir: nodes[1]!.dir, sealKey: nodes[1]!.sealKey, key: nodes[1]!.key }, { core: (m, message) => (m.kind === "presign" && m.round === 1 ? change(message) : message) });
      try {
        const before = honest.store.presignatureCount(keyId);
        const signed = edge.presign({ keyId, parties: parties([1, 2]), count: 4 });
        const stop = new AbortController();
        const cheating = cheat.engine.run("presign", signed, "coordinator", { accepted: () => {}, signal: stop.signal });
        const answer = await honest.engine.run("presign", signed, "coordinator", { accepted: () => {} });
        stop.abort();
        await cheating;
        expect(answer.type, what).toBe("failure");
        if (answer.type !== "failure") continue;
        expect(answer.started, what).toBe(true);
        expect(answer.error.code, what).toBe("malformed");
        expect(answer.error.culprits, what).toEqual([cheat.peerId]);
        expect(answer.error.message, what).toMatch(/batch from party 2/);
        expect(honest.store.presignatureCount(keyId), what).toBe(before);
      } finally {
        cheat.store.close();
      }
    }
    // The honest node goes on presigning with an honest peer.
    nodes[1] = open({ peerId: nodes[1]!.peerId, dir: nodes[1]!.dir, sealKey: nodes[1]!.sealKey, key: nodes[1]!.key });
    const [id] = await presignBatch([1, 2], 1);
    const { hash, signed } = signWith(id, [1, 2], "after the cheat");
    expectValid(ok(await run(nodes, "sign", signed))[0]!, hash);
  }, 240_000);
});
