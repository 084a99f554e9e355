// The decision log: one row per request decision the API took for an identified caller
// (allowed or denied, and why). Append-only: nothing updates or deletes these rows.

export interface DecisionInput {
  identityId: string | null;
  userId: string | null;
  tokenId: string | null;
  method: string;
  path: string;
  operation: string | null;
  decision: "allowed" | "denied";
  reason: string;
  userActionId: string | null;
}

export interface DecisionRecord extends DecisionInput {
  id: string;
  date: string;
}

interface DecisionRow {
  audit_id: string;
  at: string;
  identity_id: string | null;
  user_id: string | null;
  token_id: string | null;
  method: string;
  path: string;
  operation: string | null;
  decision: string;
  reason: string;
  user_action_id: string | null;
  [key: string]: SqlStorageValue;
}

const COLUMNS = "(audit_id, at, identity_id, user_id, token_id, method, path, operation, decision, reason, user_action_id)";
const ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** Rows per INSERT: 11 bindings each, and workerd allows at most 100 bound parameters per statement. */
const ROWS_PER_INSERT = 9;

export interface DecisionLine extends DecisionInput {
  id: string;
  at: string;
}

/** The lines in order, as one multi-row INSERT per ROWS_PER_INSERT lines (one statement for a typical batch). */
export function insertDecisions(sql: SqlStorage, lines: DecisionLine[]): void {
  for (let i = 0; i < lines.length; i += ROWS_PER_INSERT) {
    const chunk = lines.slice(i, i + ROWS_PER_INSERT);
    const args: SqlStorageValue[] = [];
    for (const d of chunk) {
      args.push(d.id, d.at, d.identityId, d.userId, d.tokenId, d.method, d.path.slice(0, 512), d.operation, d.decision, d.reason.slice(0, 512), d.userActionId);
    }
    sql.exec(`INSERT INTO audit_log ${COLUMNS} VALUES ${Array(chunk.length).fill(ROW).join(", ")}`, ...args);
  }
}

export function listDecisions(sql: SqlStorage, q: { limit: number; before?: number; identityId?: string; decision?: string }): { items: DecisionRecord[]; nextPageToken?: string } {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  if (q.before !== undefined) {
    where.push("seq < ?");
    args.push(q.before);
  }
  if (q.identityId) {
    where.push("(identity_id = ? OR user_id = ?)");
    args.push(q.identityId, q.identityId);
  }
  if (q.decision) {
    where.push("decision = ?");
    args.push(q.decision);
  }
  const rows = sql
    .exec<DecisionRow & { seq: number }>(
      `SELECT * FROM audit_log ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY seq DESC LIMIT ?`,
      ...args,
      q.limit + 1,
    )
    .toArray();
  const page = rows.slice(0, q.limit);
  const items = page.map((r) => ({
    id: r.audit_id,
    date: r.at,
    identityId: r.identity_id,
    userId: r.user_id,
    tokenId: r.token_id,
    method: r.method,
    path: r.path,
    operation: r.operation,
    decision: r.decision as "allowed" | "denied",
    reason: r.reason,
    userActionId: r.user_action_id,
  }));
  const last = page[page.length - 1];
  return rows.length > q.limit && last ? { items, nextPageToken: String(last.seq) } : { items };
}
