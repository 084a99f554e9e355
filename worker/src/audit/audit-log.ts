// The audit log of one organisation, in its own SQLite Durable Object (named by the org id),
// append-only. Kept apart from the Org object so that writing a decision never holds up the
// org's own replies (a Durable Object delays its outgoing messages until its writes commit).
import { DurableObject } from "cloudflare:workers";
import { newId } from "../orgs/ids.js";
import { insertDecision, listDecisions, type DecisionInput } from "./store.js";

export class AuditLog extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS audit_log (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, audit_id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, identity_id TEXT, user_id TEXT,
      token_id TEXT, method TEXT NOT NULL, path TEXT NOT NULL, operation TEXT, decision TEXT NOT NULL, reason TEXT NOT NULL,
      user_action_id TEXT)`);
  }

  record(d: DecisionInput): void {
    insertDecision(this.ctx.storage.sql, newId("au"), new Date().toISOString(), d);
  }

  /** Several decisions in one call (one commit), each with the time the edge took it. */
  recordMany(lines: (DecisionInput & { at: string })[]): void {
    for (const { at, ...d } of lines) insertDecision(this.ctx.storage.sql, newId("au"), at, d);
  }

  list(q: { limit: number; before?: number; identityId?: string; decision?: string }) {
    return listDecisions(this.ctx.storage.sql, q);
  }
}
