// A share holder that lies on purpose (test/malicious/harness.ts): each attack ends in an abort
// that names the cheater with evidence a third party can check, no honest node stores a broken
// share, and the honest parties sign afterwards without it. Nodes A and B are honest, M cheats,
// D is an honest spare that replaces M when a keygen is re-run.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { initMpc, KeyShare, mpcMemoryBytes } from "../../wasm/index.js";
import type { MpcScheme } from "../../shared/src/mpc/scheme.js";
import type { NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { checkEvidence, type Evidence } from "../../shared/src/mpc/round-statements.js";
import { canonicalJson } from "../../shared/src/mpc/canonical-json.js";
import type { EngineStore } from "../src/ceremony/engine.js";
import { EXPORT_FORMAT } from "../src/cli.js";
import { AuditLog, readAuditLines, type AuditLine } from "../src/storage/audit-log.js";
import type { KeyRecord, NodeStore } from "../src/storage/node-store.js";
import { equivocateDklsBroadcast, equivocateFrostDkg, equivocateSigningCommitments, wrongVerifyingShare } from "./malicious/deviations.js";
import { makeHarness, type Harness } from "./malicious/harness.js";

const ORDER = ["A", "B", "M"];
let h: Harness;

beforeAll(async () => {
  await initMpc();
});
afterEach(() => h?.close());

function failure(f: NodeResponseFrame | undefined) {
  if (f?.type !== "failure") throw new Error(`expected a failure, got ${JSON.stringify(f)}`);
  return f.error;
}
function result(f: NodeResponseFrame | undefined) {
  if (f?.type !== "result") throw new Error(`expected a result, got ${JSON.stringify(f)}`);
  return f.result;
}

/** Every honest party names M, and its audit log holds evidence anyone can check against M's peer id. */
function expectConvicted(out: Map<string, NodeResponseFrame>, honest: string[], kind: Evidence["kind"], keyId: string) {
  const m = h.byName("M").peerId;
  for (const n of honest) {
    const e = failure(out.get(n));
    expect(e.culprits, `${n} names the culprit`).toEqual([m]);
    const entry = h.lastAudit(n).entry as { evidence?: Evidence; error?: { culprits: string[] } };
    expect(entry.evidence?.kind, `${n}'s audit entry holds ${kind} evidence`).toBe(kind);
    // The evidence alone convicts M (signatures against M's peer id) ...
    expect(checkEvidence(entry.evidence!)).toEqual({ ok: true, culprit: m });
    // ... and cannot be turned against anyone else.
    expect(checkEvidence({ ...entry.evidence!, culprit: h.byName("A").peerId } as Evidence).ok).toBe(false);
    // The ban is persisted, as for any culprit the core names.
    expect(h.byName(n).store.isBanned(keyId, m)).toBe(true);
  }
}

async function keygen(keyId: string, scheme: MpcScheme, order: string[]) {
  return h.run("keygen", h.edge.keygen({ keyId, scheme, parties: h.parties(order), threshold: 2 }), order);
}

async function signFrost(keyId: string, order: string[], signers: string[], text: string) {
  const hash = bytesToHex(new TextEncoder().encode(text.padEnd(32, ".")).subarray(0, 32));
  const out = await h.run("sign", h.edge.sign({ keyId, scheme: "frost-ed25519", parties: h.parties(order, signers), body: { kind: "Hash", hash: `0x${hash}` } }), signers);
  return { out, hash };
}

async function expectFrostSigns(keyId: string, order: string[], signers: string[]) {
  const { out, hash } = await signFrost(keyId, order, signers, `after ${signers.join("")}`);
  for (const n of signers) {
    const r = result(out.get(n));
    if (r.kind !== "sign") throw new Error("not a signature");
    expect(ed25519.verify(hexToBytes(r.signature), hexToBytes(hash), hexToBytes(r.publicKey))).toBe(true);
  }
}

describe("a malicious share holder", () => {
  it("equivocating FROST commitments at keygen: named with two signed broadcasts, nothing stored, keygen re-run without it", async () => {
    h = await makeHarness(["A", "B", "M", "D"]);
    // Same constant term, another polynomial for B (party 2): the group key would still match.
    h.byName("M").deviation = equivocateFrostDkg(2);
    const out = await keygen("k-eq", "frost-ed25519", ORDER);
    expectConvicted(out, ["A", "B"], "equivocation", "k-eq");
    for (const n of ["A", "B"]) expect(h.byName(n).store.key("k-eq")).toBeUndefined();
    // Recovery: keygen again with the spare instead of M, then the honest pair signs.
    for (const r of (await keygen("k-re", "frost-ed25519", ["A", "B", "D"])).values()) result(r);
    await expectFrostSigns("k-re", ["A", "B", "D"], ["A", "B"]);
  });

  it("equivocating FROST commitments at refresh: named, every share stays at its old generation, the honest pair signs", async () => {
    h = await makeHarness(["A", "B", "M"]);
    for (const r of (await keygen("k-rf", "frost-ed25519", ORDER)).values()) result(r);
    const before = ["A", "B"].map((n) => bytesToHex(h.byName(n).store.share("k-rf")));
    h.byName("M").deviation = equivocateFrostDkg(2);
    const out = await h.run("refresh", h.edge.refresh({ keyId: "k-rf", scheme: "frost-ed25519", parties: h.parties(ORDER) }), ORDER);
    expectConvicted(out, ["A", "B"], "equivocation", "k-rf");
    ["A", "B"].forEach((n, i) => {
      expect(h.byName(n).store.key("k-rf")?.generation).toBe(0);
      expect(bytesToHex(h.byName(n).store.share("k-rf"))).toBe(before[i]);
    });
    await expectFrostSigns("k-rf", ORDER, ["A", "B"]);
    // M is banned for this key: a session that includes it is refused by the honest node.
    const { out: withM } = await signFrost("k-rf", ORDER, ["A", "M"], "with M");
    expect(failure(withM.get("A")).code).toBe("banned");
  });

  it("inconsistent DKLs23 keygen broadcasts: named before any share is stored, keygen re-run without it", async () => {
    h = await makeHarness(["A", "B", "M", "D"]);
    h.byName("M").deviation = equivocateDklsBroadcast(2);
    const out = await keygen("k-dkls", "ecdsa-secp256k1", ORDER);
    expectConvicted(out, ["A", "B"], "equivocation", "k-dkls");
    for (const n of ["A", "B"]) expect(h.byName(n).store.key("k-dkls")).toBeUndefined();
    const again = await keygen("k-dkls2", "ecdsa-secp256k1", ["A", "B", "D"]);
    for (const r of again.values()) result(r);
    const digest = "5a".repeat(32);
    const signed = await h.run("sign", h.edge.sign({ keyId: "k-dkls2", scheme: "ecdsa-secp256k1", parties: h.parties(["A", "B", "D"], ["A", "B"]), body: { kind: "Hash", hash: `0x${digest}` } }), ["A", "B"]);
    const r = result(signed.get("A"));
    if (r.kind !== "sign") throw new Error("not a signature");
    expect(secp256k1.verify(hexToBytes(r.signature), hexToBytes(digest), hexToBytes(r.publicKey), { prehash: false, format: "compact" })).toBe(true);
  }, 120_000);

  it("a wrong verifying share in the keygen confirmation: named, nothing stored, keygen re-run without it", async () => {
    h = await makeHarness(["A", "B", "M", "D"]);
    h.byName("M").deviation = wrongVerifyingShare();
    const out = await keygen("k-vs", "frost-ed25519", ORDER);
    expectConvicted(out, ["A", "B"], "wrong-public-view", "k-vs");
    for (const n of ["A", "B"]) expect(h.byName(n).store.key("k-vs")).toBeUndefined();
    for (const r of (await keygen("k-vs2", "frost-ed25519", ["A", "B", "D"])).values()) result(r);
    await expectFrostSigns("k-vs2", ["A", "B", "D"], ["A", "B"]);
  });

  it("replayed messages of an old generation: a node that kept its retired share is refused and named", async () => {
    // M's engine sees its store through a view that, once `stale` is set, hands out the share and
    // generation M kept from before the refresh (it did not erase it / it missed the refresh).
    let kept: { record: KeyRecord; share: Uint8Array } | null = null;
    let stale = false;
    const staleView = (name: string, store: NodeStore): EngineStore => {
      if (name !== "M") return store;
      return new Proxy(store, {
        get(target, prop) {
          if (stale && kept && prop === "key") return (id: string) => (id === "k-old" ? kept!.record : target.key(id));
          if (stale && kept && prop === "share") return (id: string) => (id === "k-old" ? kept!.share.slice() : target.share(id));
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    h = await makeHarness(["A", "B", "M"], { storeView: staleView });
    for (const r of (await keygen("k-old", "frost-ed25519", ORDER)).values()) result(r);
    kept = { record: h.byName("M").store.key("k-old")!, share: h.byName("M").store.share("k-old") };
    for (const r of (await h.run("refresh", h.edge.refresh({ keyId: "k-old", scheme: "frost-ed25519", parties: h.parties(ORDER) }), ORDER)).values()) result(r);
    for (const n of ORDER) expect(h.byName(n).store.key("k-old")?.generation).toBe(1);
    stale = true;
    const { out } = await signFrost("k-old", ORDER, ["A", "M"], "stale");
    const a = failure(out.get("A"));
    expect(a.culprits).toEqual([h.byName("M").peerId]);
    const entry = h.lastAudit("A").entry as { evidence?: Evidence };
    expect(entry.evidence?.kind).toBe("stale-generation");
    expect(checkEvidence(entry.evidence!)).toEqual({ ok: true, culprit: h.byName("M").peerId });
    expect(h.byName("A").store.isBanned("k-old", h.byName("M").peerId)).toBe(true);
    await expectFrostSigns("k-old", ORDER, ["A", "B"]);
  });

  it("a signing equivocation: no extra round on the happy path; after the abort the parties compare what they were sent and name it", async () => {
    h = await makeHarness(["A", "B", "M"]);
    for (const r of (await keygen("k-sig", "frost-ed25519", ORDER)).values()) result(r);
    // Happy path: two core rounds, one message per round and peer, nothing else.
    for (const n of h.nodes) n.sent.length = 0;
    await expectFrostSigns("k-sig", ORDER, ["A", "B", "M"]);
    for (const n of h.nodes) expect(n.sent).toEqual([1, 1, 2, 2].map((round) => ({ kind: 1, round })));
    // M sends B other nonce commitments than A. FROST alone would blame an honest party here.
    h.byName("M").deviation = equivocateSigningCommitments(2);
    const { out } = await signFrost("k-sig", ORDER, ["A", "B", "M"], "equivocation");
    expectConvicted(out, ["A", "B"], "equivocation", "k-sig");
    h.byName("M").deviation = null;
    await expectFrostSigns("k-sig", ORDER, ["A", "B"]);
  });
});

describe("refresh erases retired shares", () => {
  it("after a refresh no node's database files hold the retired share, and the new generation signs", async () => {
    h = await makeHarness(["A", "B", "M"]);
    for (const r of (await keygen("k-er", "frost-ed25519", ORDER)).values()) result(r);
    const sealedBefore = h.nodes.map((n) => {
      const db = new DatabaseSync(n.dbPath, { readOnly: true });
      const row = db.prepare("SELECT share FROM keys WHERE key_id = ?").get("k-er") as { share: Uint8Array };
      db.close();
      return Buffer.from(row.share);
    });
    for (const [i, n] of h.nodes.entries()) expect(fileBytes(n.dbPath).includes(sealedBefore[i]!.subarray(0, 48))).toBe(true);
    const secretsBefore = h.nodes.map((n) => frostSigningShare(n.store.share("k-er")));
    for (const r of (await h.run("refresh", h.edge.refresh({ keyId: "k-er", scheme: "frost-ed25519", parties: h.parties(ORDER) }), ORDER)).values()) result(r);
    for (const [i, n] of h.nodes.entries()) {
      expect(n.store.key("k-er")?.generation).toBe(1);
      expect(n.store.retiredGenerations("k-er")).toEqual([]);
      expect(fileBytes(n.dbPath).includes(sealedBefore[i]!.subarray(0, 48)), `${n.name}: the retired share is gone from the database files`).toBe(false);
      expect((h.lastAudit(n.name).entry as { retired?: { erased: boolean } }).retired?.erased).toBe(true);
    }
    await expectFrostSigns("k-er", ORDER, ["B", "M"]);
    // Nor does the MPC core's memory (all three nodes share this process's module): the engine
    // zeroes the decrypted bytes it hands over, and the core frees with a zeroing allocator.
    const memory = Buffer.from(mpcMemoryBytes());
    for (const [i, secret] of secretsBefore.entries()) expect(memory.includes(secret), `${h.nodes[i]!.name}'s retired signing share is not in wasm memory`).toBe(false);
    // (and the search does find a live one: the current share, imported for a moment, is there while held)
    const live = KeyShare.import(h.byName("A").store.share("k-er"));
    expect(Buffer.from(mpcMemoryBytes()).includes(frostSigningShare(h.byName("A").store.share("k-er")))).toBe(true);
    live.free();
  });
});

/**
 * The secret signing share inside an exported FROST ed25519 share: "TSK" | version | scheme |
 * postcard{index, parties, key: KeyPackage bytes, …}; a KeyPackage is header(5) | identifier(32) |
 * signing share(32) | verifying share(32) | …. Checked: signing share · G = verifying share.
 */
function frostSigningShare(exported: Uint8Array): Buffer {
  let at = 7;
  while (exported[at]! & 0x80) at++;
  const key = at + 1;
  const secret = exported.subarray(key + 37, key + 69);
  const verifying = exported.subarray(key + 69, key + 101);
  const scalar = BigInt(`0x${Buffer.from(secret).reverse().toString("hex")}`);
  expect(bytesToHex(ed25519.Point.BASE.multiply(scalar).toBytes())).toBe(bytesToHex(verifying));
  return Buffer.from(secret);
}

describe("cross-anchored audit logs", () => {
  it("audit verify --against a peer's export detects a node that rewrote or truncated its own log and re-signed it", async () => {
    h = await makeHarness(["A", "B", "M"]);
    for (const r of (await keygen("k-au", "frost-ed25519", ORDER)).values()) result(r);
    for (let i = 0; i < 3; i++) await expectFrostSigns("k-au", ORDER, ["A", "B"]);
    const dir = h.byName("A").dir;
    const exportOf = (name: string, file: string, lines: AuditLine[]) => {
      const n = h.byName(name);
      const last = lines.at(-1)!;
      writeFileSync(file, `${JSON.stringify({ format: EXPORT_FORMAT, peerId: n.peerId, head: { seq: last.seq, hash: last.hash } })}\n${lines.map((l) => canonicalJson(l)).join("\n")}\n`);
      return file;
    };
    const aLines = readAuditLines(h.byName("A").auditPath);
    const bExport = exportOf("B", join(dir, "b.export"), readAuditLines(h.byName("B").auditPath));
    // B's log holds A's heads as A signed them into the later sessions' messages.
    expect(readAuditLines(h.byName("B").auditPath).some((l) => (l.entry.peerHeads as Record<string, unknown>)[h.byName("A").peerId])).toBe(true);

    const honest = await cli("audit", "verify", "--export", exportOf("A", join(dir, "a.export"), aLines), "--against", bExport);
    expect(honest.code).toBe(0);
    expect(honest.out.anchors).toBeGreaterThan(0);

    // A's operator edits its first entry and re-signs the whole chain with A's key: on its own the
    // log verifies; against B's export it does not.
    const rewritten = resign(h.byName("A").seed, aLines.map((l, i) => (i === 0 ? { ...l.entry, outcome: "refused" } : l.entry)), join(dir, "rewritten.jsonl"));
    const alone = await cli("audit", "verify", "--export", exportOf("A", join(dir, "rw.export"), rewritten));
    expect(alone.code).toBe(0);
    const caught = await cli("audit", "verify", "--export", exportOf("A", join(dir, "rw2.export"), rewritten), "--against", bExport);
    expect(caught.code).toBe(1);
    expect(String(caught.out.reason)).toMatch(/rewritten/);

    // ... or cuts its log short (re-signing is not even needed).
    const cut = await cli("audit", "verify", "--export", exportOf("A", join(dir, "cut.export"), aLines.slice(0, 1)), "--against", bExport);
    expect(cut.code).toBe(1);
    expect(String(cut.out.reason)).toMatch(/truncated/);
  });
});

const mpcNode = new URL("../bin/mpc-node.mjs", import.meta.url).pathname;
async function cli(...args: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [mpcNode, ...args]);
    return { code: 0, out: JSON.parse(stdout) as Record<string, unknown> };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: JSON.parse(err.stdout || "{}") as Record<string, unknown> };
  }
}

/** A fresh, validly signed chain of `entries` (what an operator holding the node key can produce). */
function resign(seed: Uint8Array, entries: Record<string, unknown>[], path: string): AuditLine[] {
  let head: { seq: number; hash: string } | null = null;
  const log = new AuditLog(path, seed, { auditHead: () => head, setAuditHead: (seq, hash) => void (head = { seq, hash }) }, false);
  const out = entries.map((e) => log.append(e));
  log.close();
  return out;
}

/** The database file and its WAL, as the disk holds them. */
function fileBytes(dbPath: string): Buffer {
  const parts = [readFileSync(dbPath)];
  try {
    parts.push(readFileSync(`${dbPath}-wal`));
  } catch {
    // no WAL file
  }
  return Buffer.concat(parts);
}
