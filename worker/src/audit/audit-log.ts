// The audit log of one organisation, in its own SQLite Durable Object (named by the org id),
// append-only. Kept apart from the Org object so that writing a decision never holds up the
// org's own replies (a Durable Object delays its outgoing messages until its writes commit).
import { DurableObject } from "cloudflare:workers";
import { newId } from "../orgs/ids.js";
import { insertDecisions, listDecisions, type DecisionInput } from "./store.js";

// `seq` is the rowid: nothing deletes a line, so SQLite's max(rowid) + 1 already numbers them in
// order, and AUTOINCREMENT's extra sqlite_sequence write per insert buys nothing here. `audit_id`
// is 100 random bits (orgs/ids.ts) and nothing looks lines up by it, so it has no UNIQUE index to
// maintain on every insert either.
const SCHEMA = `CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY, audit_id TEXT NOT NULL, at TEXT NOT NULL, identity_id TEXT, user_id TEXT,
  token_id TEXT, method TEXT NOT NULL, path TEXT NOT NULL, operation TEXT, decision TEXT NOT NULL, reason TEXT NOT NULL,
  user_action_id TEXT)`;

/** Moves a log created with the earlier schema (AUTOINCREMENT, UNIQUE audit_id) to SCHEMA, lines and their seq unchanged. */
export function migrateAuditLog(ctx: DurableObjectState): void {
  const sql = ctx.storage.sql;
  const existing = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").toArray()[0]?.sql;
  if (existing === undefined) {
    sql.exec(SCHEMA);
    return;
  }
  if (!/AUTOINCREMENT|UNIQUE/i.test(existing)) return;
  ctx.storage.transactionSync(() => {
    sql.exec("ALTER TABLE audit_log RENAME TO audit_log_before");
    sql.exec(SCHEMA);
    sql.exec("INSERT INTO audit_log SELECT seq, audit_id, at, identity_id, user_id, token_id, method, path, operation, decision, reason, user_action_id FROM audit_log_before ORDER BY seq");
    sql.exec("DROP TABLE audit_log_before");
  });
}

export class AuditLog extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    migrateAuditLog(ctx);
  }

  record(d: DecisionInput): void {
    insertDecisions(this.ctx.storage.sql, [{ ...d, id: newId("au"), at: new Date().toISOString() }]);
  }

  /** Several decisions in one call (one commit, one statement), each with the time the edge took it. */
  recordMany(lines: (DecisionInput & { at: string })[]): void {
    insertDecisions(
      this.ctx.storage.sql,
      lines.map((l) => ({ ...l, id: newId("au") })),
    );
  }

  list(q: { limit: number; before?: number; identityId?: string; decision?: string }) {
    return listDecisions(this.ctx.storage.sql, q);
  }
}
