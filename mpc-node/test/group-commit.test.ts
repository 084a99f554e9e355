// Group commit (src/storage/group-commit.ts) and the audit log's group mode: a sync covers every
// write made before it was asked for; writers that ask while one runs share the next one; the
// audit head a node records never runs ahead of the lines on disk. Beside them, the store's writes that
// take no commit of their own (peers' audit heads) and the bans it keeps in memory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GroupCommit } from "../src/storage/group-commit.js";
import { AuditLog, readAuditLines } from "../src/storage/audit-log.js";
import { NodeStore } from "../src/storage/node-store.js";
import { ShareVault } from "../src/storage/share-vault.js";
import { DatabaseSync } from "node:sqlite";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("group commit", () => {
  it("one flush at a time; whoever asks while one runs waits for the next, which serves them all", async () => {
    const started: number[] = [];
    const finish: (() => void)[] = [];
    let writes = 0;
    const g = new GroupCommit(
      () =>
        new Promise<void>((resolve) => {
          started.push(writes);
          finish.push(resolve);
        }),
    );
    writes = 1;
    const a = g.sync();
    writes = 2;
    const b = g.sync();
    writes = 3;
    const c = g.sync();
    expect(started).toEqual([1]); // b and c wait: the running flush may have missed writes 2 and 3
    expect(b).toBe(c);
    let bDone = false;
    void b.then(() => (bDone = true));
    finish[0]!();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 3]); // one flush for both, started after their writes
    expect(bDone).toBe(false);
    finish[1]!();
    await c;
    expect(bDone).toBe(true);
  });

  it("a failed flush rejects its waiters; the next one runs again", async () => {
    let fail = true;
    const g = new GroupCommit(async () => {
      if (fail) throw new Error("EIO");
    });
    await expect(g.sync()).rejects.toThrow("EIO");
    fail = false;
    await expect(g.sync()).resolves.toBeUndefined();
  });

  it("audit log, group mode: lines are written at once, the recorded head follows only synced lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-group-"));
    dirs.push(dir);
    let head: { seq: number; hash: string } | null = null;
    const log = new AuditLog(join(dir, "audit.jsonl"), new Uint8Array(32).fill(7), { auditHead: () => head, setAuditHead: (seq, hash) => void (head = { seq, hash }) }, "group");
    log.append({ type: "test", n: 1 });
    const second = log.append({ type: "test", n: 2 });
    expect(readAuditLines(join(dir, "audit.jsonl"))).toHaveLength(2);
    expect(head).toBeNull();
    await log.sync();
    expect(head).toEqual({ seq: 2, hash: second.hash });
    log.close();
  });

  it("peers' audit heads ride along with the store's next commit, or are written when it closes", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-heads-"));
    dirs.push(dir);
    const path = join(dir, "node.db");
    const store = new NodeStore(path, new ShareVault(new Uint8Array(32).fill(1)), "12D3KooWself");
    const onDisk = () => {
      const other = new DatabaseSync(path, { readOnly: true });
      try {
        return (other.prepare("SELECT count(*) AS n FROM peer_audit_heads").get() as { n: number }).n;
      } finally {
        other.close();
      }
    };
    store.recordPeerHeads([["12D3KooWpeer", { seq: 3, hash: "ab".repeat(32) }], ["12D3KooWnone", { seq: 0, hash: "00".repeat(32) }]], 1);
    expect(onDisk()).toBe(0); // no commit of their own
    const claim = { edgeId: "edge", nonce: "n1", sessionId: "s1", expiresAt: 10 };
    expect(store.claim(claim, 1)).toEqual({ ok: true });
    expect(onDisk()).toBe(1); // written with the claim's commit
    store.recordPeerHeads([["12D3KooWpeer", { seq: 4, hash: "cd".repeat(32) }]], 2);
    expect(store.peerHeads("12D3KooWpeer")).toEqual([
      { seq: 3, hash: "ab".repeat(32) },
      { seq: 4, hash: "cd".repeat(32) },
    ]);
    store.recordPeerHeads([["12D3KooWpeer", { seq: 5, hash: "ef".repeat(32) }]], 3);
    store.close();
    expect(onDisk()).toBe(3);
  });

  it("bans are kept across a restart and seen at once", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-bans-"));
    dirs.push(dir);
    const path = join(dir, "node.db");
    let store = new NodeStore(path, new ShareVault(new Uint8Array(32).fill(1)), "12D3KooWself");
    expect(store.isBanned("key-1", "12D3KooWpeer")).toBe(false);
    store.ban("key-1", "12D3KooWpeer", "equivocated", 1);
    expect(store.isBanned("key-1", "12D3KooWpeer")).toBe(true);
    expect(store.isBanned("key-2", "12D3KooWpeer")).toBe(false);
    store.close();
    store = new NodeStore(path, new ShareVault(new Uint8Array(32).fill(1)), "12D3KooWself");
    expect(store.isBanned("key-1", "12D3KooWpeer")).toBe(true);
    store.close();
  });
});
