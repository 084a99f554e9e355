// The audit log's storage: lines written in batches keep their order and numbering, and a log
// created with the earlier schema (AUTOINCREMENT, UNIQUE audit_id) keeps every line when it moves.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AuditLog, migrateAuditLog } from "../../worker/src/audit/audit-log.js";

const line = (i: number) => ({
  identityId: `us-${i}`,
  userId: `us-${i}`,
  tokenId: null,
  method: "POST",
  path: `/p/${i}`,
  operation: i % 2 ? "Wallets:Read" : null,
  decision: i % 3 ? ("allowed" as const) : ("denied" as const),
  reason: `line ${i}`,
  userActionId: null,
  at: new Date(1_700_000_000_000 + i).toISOString(),
});

describe("audit log storage", () => {
  it("a batch of lines (more than one INSERT's worth) is written in order, each with its own id and time, and lists newest first", async () => {
    const log = env.AUDIT.getByName(`or-batch-${crypto.randomUUID()}`);
    const lines = Array.from({ length: 75 }, (_, i) => line(i));
    await log.recordMany(lines.slice(0, 1));
    await log.recordMany(lines.slice(1));
    const all = await log.list({ limit: 500 });
    expect(all.items.map((d) => d.path)).toEqual(lines.map((l) => l.path).reverse());
    expect(all.items.map((d) => d.date)).toEqual(lines.map((l) => l.at).reverse());
    expect(new Set(all.items.map((d) => d.id)).size).toBe(75);
    expect(all.items[74]).toMatchObject({ identityId: "us-0", operation: null, decision: "denied", reason: "line 0" });
    // Pages follow seq.
    const first = await log.list({ limit: 10 });
    const second = await log.list({ limit: 10, before: Number(first.nextPageToken) });
    expect(second.items.map((d) => d.path)).toEqual(lines.slice(55, 65).map((l) => l.path).reverse());
  });

  it("a log with the earlier schema moves to the new one with every line and seq kept; new lines follow the last", async () => {
    const log = env.AUDIT.getByName(`or-migrate-${crypto.randomUUID()}`);
    await runInDurableObject(log, (_o: AuditLog, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE audit_log");
      sql.exec(`CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, audit_id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, identity_id TEXT, user_id TEXT,
        token_id TEXT, method TEXT NOT NULL, path TEXT NOT NULL, operation TEXT, decision TEXT NOT NULL, reason TEXT NOT NULL,
        user_action_id TEXT)`);
      for (const i of [1, 2, 3]) {
        sql.exec("INSERT INTO audit_log (audit_id, at, method, path, decision, reason) VALUES (?, ?, 'GET', ?, 'allowed', 'old')", `au-old-${i}`, line(i).at, `/old/${i}`);
      }
      // A gap, as an AUTOINCREMENT log may have: the seq numbers are kept, not renumbered.
      sql.exec("DELETE FROM audit_log WHERE seq = 2");
      migrateAuditLog(state);
      const schema = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'audit_log'").one().sql;
      expect(schema).not.toMatch(/AUTOINCREMENT|UNIQUE/i);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'audit_log_before'").toArray()).toEqual([]);
      // Idempotent: a second run changes nothing.
      migrateAuditLog(state);
      expect(sql.exec<{ seq: number; audit_id: string }>("SELECT seq, audit_id FROM audit_log ORDER BY seq").toArray()).toEqual([
        { seq: 1, audit_id: "au-old-1" },
        { seq: 3, audit_id: "au-old-3" },
      ]);
    });
    await log.recordMany([line(9)]);
    const all = await log.list({ limit: 10 });
    expect(all.items.map((d) => d.path)).toEqual(["/p/9", "/old/3", "/old/1"]);
    await runInDurableObject(log, (_o: AuditLog, state) => {
      expect(state.storage.sql.exec<{ seq: number }>("SELECT max(seq) AS seq FROM audit_log").one().seq).toBe(4);
    });
  });
});
