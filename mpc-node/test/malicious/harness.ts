// The malicious-node harness: share holders running the real CeremonyEngine with their real SQLite
// stores, sealed shares, audit logs and the real wasm core, wired by an in-memory transport — and
// one of them built to cheat. The cheating node is the same engine given a `deviation` (engine.ts):
// it rewrites what that node sends *before* the node signs it, so every lie is as validly signed
// as a real cheater's would be. The deviation is an EngineOptions field only tests construct: the
// daemon never passes one and the node's config file (zod, strict) has no field that could.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { Party } from "../../../shared/src/mpc/authorization.js";
import type { NodeResponseFrame } from "../../../shared/src/mpc/protocol.js";
import { CeremonyEngine, type Deviation, type EngineStore } from "../../src/ceremony/engine.js";
import { systemClock } from "../../src/ceremony/session.js";
import { LocalEdge } from "../../src/dev/local-edge.js";
import { AuditLog, readAuditLines, type AuditLine } from "../../src/storage/audit-log.js";
import { NodeStore } from "../../src/storage/node-store.js";
import { ShareVault } from "../../src/storage/share-vault.js";

export interface HarnessNode {
  name: string;
  peerId: string;
  dir: string;
  dbPath: string;
  auditPath: string;
  seed: Uint8Array;
  engine: CeremonyEngine;
  store: NodeStore;
  audit: AuditLog;
  /** What this node's engine sees of its store (a cheater's may differ from the database). */
  view: EngineStore;
  /** Set to make this node cheat; null = honest. */
  deviation: Deviation | null;
  /** Core frames this node sent, by session (to count rounds). */
  sent: { kind: number; round: number }[];
}

export interface Harness {
  nodes: HarnessNode[];
  edge: LocalEdge;
  byName(name: string): HarnessNode;
  /** The parties of a key made by `order` (index = position + 1), optionally only `subset`. */
  parties(order: string[], subset?: string[]): Party[];
  run(kind: "keygen" | "sign" | "refresh", signed: ReturnType<LocalEdge["keygen"]>, names: string[]): Promise<Map<string, NodeResponseFrame>>;
  lastAudit(name: string): AuditLine;
  close(): void;
}

export async function makeHarness(names: string[], opts: { storeView?: (name: string, store: NodeStore) => EngineStore } = {}): Promise<Harness> {
  const edge = new LocalEdge();
  const keys = await Promise.all(names.map(() => generateKeyPair("Ed25519")));
  const ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
  const nodes: HarnessNode[] = [];
  const byPeer = new Map<string, HarnessNode>();
  names.forEach((name, i) => {
    const dir = mkdtempSync(join(tmpdir(), `tessera-mal-${name}-`));
    const peerId = ids[i]!;
    const seed = keys[i]!.raw.subarray(0, 32);
    const dbPath = join(dir, "node.db");
    const store = new NodeStore(dbPath, new ShareVault(randomBytes(32)), peerId);
    const auditPath = join(dir, "audit.jsonl");
    const audit = new AuditLog(auditPath, seed, store, false);
    const view = opts.storeView?.(name, store) ?? store;
    const node = { name, peerId, dir, dbPath, auditPath, seed, store, audit, view, deviation: null, sent: [] } as unknown as HarnessNode;
    node.engine = new CeremonyEngine({
      self: { peerId, region: name },
      peers: new Map(ids.flatMap((p, j) => (j === i ? [] : [[p, { region: names[j]! }] as const]))),
      edgeKeys: new Map([[edge.edgeId, edge.publicKey]]),
      signTimeoutMs: 10_000,
      keygenTimeoutMs: 60_000,
      exchangeTimeoutMs: 5_000,
      store: view,
      audit,
      nodeKey: seed,
      clock: systemClock,
      // A getter, so a test can turn the cheating on and off between ceremonies.
      get deviation() {
        return node.deviation ?? undefined;
      },
      transport: {
        send(to, frame) {
          node.sent.push({ kind: frame[33]!, round: frame[34]! });
          setImmediate(() => byPeer.get(to)?.engine.receiveFrame(peerId, frame));
        },
      },
    });
    nodes.push(node);
    byPeer.set(peerId, node);
  });
  const byName = (n: string) => nodes.find((x) => x.name === n)!;
  return {
    nodes,
    edge,
    byName,
    parties: (order, subset) => order.map((n, i) => ({ index: i + 1, peerId: byName(n).peerId, name: n })).filter((p) => !subset || subset.includes(p.name)).map(({ index, peerId }) => ({ index, peerId })),
    async run(kind, signed, ns) {
      const out = await Promise.all(ns.map((n) => byName(n).engine.run(kind, signed, "coordinator", { accepted: () => {} })));
      return new Map(ns.map((n, i) => [n, out[i]!]));
    },
    lastAudit: (n) => readAuditLines(byName(n).auditPath).at(-1)!,
    close() {
      for (const n of nodes) {
        n.engine.close();
        n.audit.close();
        n.store.close();
        rmSync(n.dir, { recursive: true, force: true });
      }
    },
  };
}
