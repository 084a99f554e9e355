// Layer 3's SQLite, inside the per-org PolicyState Durable Object: policies (current row plus
// every version), usage (velocity reservations), approvals with their decisions, the held
// requests they gate, and the outbox of resume events. Row ↔ object conversions live here; the
// rules about what may change live in state.ts.
import { newId } from "../orgs/ids.js";
import type { ApprovalStatus, RecordedDecision } from "../../../shared/src/policy/approvals.js";
import type { PolicyBody } from "../../../shared/src/policy/schema.js";
import type { AssetRef, Policy, PolicyEvaluation, RequiredApprovalGroup, UsageEntry } from "../../../shared/src/policy/types.js";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS policies (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, policy_id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, status TEXT NOT NULL,
     body TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  // Append-only history: who changed which policy to what, under which signed user action.
  `CREATE TABLE IF NOT EXISTS policy_versions (
     policy_id TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
     changed_by TEXT NOT NULL, user_action_id TEXT, changed_at TEXT NOT NULL, PRIMARY KEY (policy_id, version))`,
  // One row per request that passed (or is held): Reserved → Committed (signed) or Released.
  `CREATE TABLE IF NOT EXISTS usage (
     reservation_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, wallet_id TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL,
     lease_until INTEGER, network TEXT NOT NULL, asset TEXT, amount TEXT, usd_value TEXT, approval_id TEXT, released_reason TEXT)`,
  `CREATE INDEX IF NOT EXISTS usage_wallet ON usage (wallet_id, state, at)`,
  // The request as the gate judged it, by its initiator's user action: what the share holders are
  // told beside the user's own request when they evaluate the policies themselves.
  `CREATE TABLE IF NOT EXISTS signing_requests (challenge TEXT PRIMARY KEY, request_id TEXT NOT NULL, request TEXT NOT NULL, at INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS usage_request ON usage (request_id)`,
  `CREATE INDEX IF NOT EXISTS usage_lease ON usage (state, lease_until)`,
  `CREATE TABLE IF NOT EXISTS approvals (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, approval_id TEXT NOT NULL UNIQUE, request_id TEXT NOT NULL, status TEXT NOT NULL,
     initiator_id TEXT NOT NULL, groups TEXT NOT NULL, policy_ids TEXT NOT NULL, evaluations TEXT NOT NULL, activity TEXT NOT NULL,
     expires_at INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, resolved_at TEXT)`,
  `CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, expires_at)`,
  // signingFacts finds a request's approvals on every allowed signature request.
  `CREATE INDEX IF NOT EXISTS approvals_request ON approvals (request_id)`,
  `CREATE TABLE IF NOT EXISTS approval_decisions (
     approval_id TEXT NOT NULL, user_id TEXT NOT NULL, is_service_account INTEGER NOT NULL, value TEXT NOT NULL, reason TEXT,
     user_action_id TEXT, decided_at TEXT NOT NULL, PRIMARY KEY (approval_id, user_id))`,
  // The request an approval holds, exactly as the gate received it (with the initiator's evidence).
  `CREATE TABLE IF NOT EXISTS held_requests (
     request_id TEXT PRIMARY KEY, approval_id TEXT NOT NULL, reservation_id TEXT NOT NULL, status TEXT NOT NULL,
     input TEXT NOT NULL, facts TEXT NOT NULL, granted TEXT NOT NULL, outcome_reason TEXT, created_at TEXT NOT NULL, resolved_at TEXT)`,
  // Resume events for the signing layer, delivered at least once by the alarm.
  `CREATE TABLE IF NOT EXISTS resumes (
     request_id TEXT PRIMARY KEY, event TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER, delivered_at TEXT, last_error TEXT)`,
];

export function migrate(sql: SqlStorage): void {
  for (const statement of SCHEMA) sql.exec(statement);
}

/** Dfns-style ids with layer 3's prefixes, on the same random body as every other id (orgs/ids.ts). */
export function layer3Id(prefix: "pl" | "ap" | "rs"): string {
  return `${prefix}-${newId("au").slice(3)}`;
}

export function getMeta(sql: SqlStorage, key: string): string | null {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
}

export function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
}

// ── policies ────────────────────────────────────────────────────────────────────────────────

interface PolicyRow {
  seq: number;
  policy_id: string;
  version: number;
  status: string;
  body: string;
  created_at: string;
  updated_at: string;
  [key: string]: SqlStorageValue;
}

function policyFromRow(row: PolicyRow): Policy {
  const body = JSON.parse(row.body) as PolicyBody;
  return {
    id: row.policy_id,
    name: body.name,
    status: row.status as Policy["status"],
    version: row.version,
    activityKind: body.activityKind,
    rule: body.rule,
    action: body.action,
    filters: body.filters,
    dateCreated: row.created_at,
    dateUpdated: row.updated_at,
  };
}

export function getPolicy(sql: SqlStorage, id: string): Policy | null {
  const row = sql.exec<PolicyRow>("SELECT * FROM policies WHERE policy_id = ?", id).toArray()[0];
  return row ? policyFromRow(row) : null;
}

export function activePolicies(sql: SqlStorage): Policy[] {
  return sql.exec<PolicyRow>("SELECT * FROM policies WHERE status = 'Active' ORDER BY seq").toArray().map(policyFromRow);
}

export function listPolicies(sql: SqlStorage, q: { limit: number; before?: number; status?: string }): { items: Policy[]; nextPageToken?: string } {
  const rows = sql
    .exec<PolicyRow>(
      `SELECT * FROM policies WHERE (? IS NULL OR seq < ?) AND (? IS NULL OR status = ?) ORDER BY seq DESC LIMIT ?`,
      q.before ?? null,
      q.before ?? null,
      q.status ?? null,
      q.status ?? null,
      q.limit + 1,
    )
    .toArray();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return rows.length > q.limit && last ? { items: page.map(policyFromRow), nextPageToken: String(last.seq) } : { items: page.map(policyFromRow) };
}

export function writePolicy(
  sql: SqlStorage,
  p: { id: string; version: number; status: Policy["status"]; body: PolicyBody; changedBy: string; userActionId: string | null; now: string },
): void {
  const body = JSON.stringify(p.body);
  if (p.version === 1) {
    sql.exec("INSERT INTO policies (policy_id, version, status, body, created_at, updated_at) VALUES (?, 1, ?, ?, ?, ?)", p.id, p.status, body, p.now, p.now);
  } else {
    sql.exec("UPDATE policies SET version = ?, status = ?, body = ?, updated_at = ? WHERE policy_id = ?", p.version, p.status, body, p.now, p.id);
  }
  sql.exec(
    "INSERT INTO policy_versions (policy_id, version, status, body, changed_by, user_action_id, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    p.id,
    p.version,
    p.status,
    body,
    p.changedBy,
    p.userActionId,
    p.now,
  );
}

export function policyBody(p: Policy): PolicyBody {
  return { name: p.name, activityKind: p.activityKind, rule: p.rule, action: p.action, filters: p.filters };
}

// ── usage (velocity reservations) ───────────────────────────────────────────────────────────

interface UsageRow {
  reservation_id: string;
  request_id: string;
  wallet_id: string;
  state: string;
  at: number;
  lease_until: number | null;
  network: string;
  asset: string | null;
  amount: string | null;
  usd_value: string | null;
  approval_id: string | null;
  released_reason: string | null;
  [key: string]: SqlStorageValue;
}

export type UsageState = "Reserved" | "Committed" | "Released" | "Lapsed";

export interface StoredUsage {
  reservationId: string;
  requestId: string;
  walletId: string;
  state: UsageState;
  at: number;
  leaseUntil: number | null;
  approvalId: string | null;
}

function storedUsage(r: UsageRow): StoredUsage {
  return { reservationId: r.reservation_id, requestId: r.request_id, walletId: r.wallet_id, state: r.state as UsageState, at: r.at, leaseUntil: r.lease_until, approvalId: r.approval_id };
}

/** What counts against a wallet's velocity now: every reservation, and commits younger than `since`. */
export function walletUsage(sql: SqlStorage, walletId: string, since: number, excludeReservation?: string): UsageEntry[] {
  return sql
    .exec<UsageRow>(
      `SELECT * FROM usage WHERE wallet_id = ? AND (state = 'Reserved' OR (state = 'Committed' AND at > ?)) AND reservation_id IS NOT ?`,
      walletId,
      since,
      excludeReservation ?? null,
    )
    .toArray()
    .map((r) => ({
      id: r.reservation_id,
      walletId: r.wallet_id,
      state: r.state as "Reserved" | "Committed",
      at: r.at,
      network: r.network,
      ...(r.asset ? { asset: JSON.parse(r.asset) as AssetRef } : {}),
      ...(r.amount !== null ? { amount: r.amount } : {}),
      ...(r.usd_value !== null ? { usdValue: r.usd_value } : {}),
    }));
}

export function insertReservation(
  sql: SqlStorage,
  r: { id: string; requestId: string; walletId: string; at: number; leaseUntil: number | null; network: string; asset?: AssetRef; amount?: string; usdValue?: string; approvalId: string | null },
): void {
  sql.exec(
    `INSERT INTO usage (reservation_id, request_id, wallet_id, state, at, lease_until, network, asset, amount, usd_value, approval_id)
     VALUES (?, ?, ?, 'Reserved', ?, ?, ?, ?, ?, ?, ?)`,
    r.id,
    r.requestId,
    r.walletId,
    r.at,
    r.leaseUntil,
    r.network,
    r.asset ? JSON.stringify(r.asset) : null,
    r.amount ?? null,
    r.usdValue ?? null,
    r.approvalId,
  );
}

export function getReservation(sql: SqlStorage, id: string): StoredUsage | null {
  const row = sql.exec<UsageRow>("SELECT * FROM usage WHERE reservation_id = ?", id).toArray()[0];
  return row ? storedUsage(row) : null;
}

export function reservationOfRequest(sql: SqlStorage, requestId: string): StoredUsage | null {
  const row = sql.exec<UsageRow>("SELECT * FROM usage WHERE request_id = ? ORDER BY at DESC LIMIT 1", requestId).toArray()[0];
  return row ? storedUsage(row) : null;
}

export function setUsageState(sql: SqlStorage, id: string, change: { state: UsageState; at?: number; leaseUntil?: number | null; reason?: string }): void {
  sql.exec(
    `UPDATE usage SET state = ?, at = COALESCE(?, at), lease_until = ?, released_reason = COALESCE(?, released_reason) WHERE reservation_id = ?`,
    change.state,
    change.at ?? null,
    change.leaseUntil ?? null,
    change.reason ?? null,
    id,
  );
}

// ── approvals ───────────────────────────────────────────────────────────────────────────────

export interface StoredApproval {
  seq: number;
  approvalId: string;
  requestId: string;
  status: ApprovalStatus;
  initiatorId: string;
  groups: RequiredApprovalGroup[];
  policyIds: string[];
  evaluations: PolicyEvaluation[];
  /** The Dfns activity object as JSON text (kept as text so it crosses RPC untyped). */
  activityJson: string;
  expiresAt: number | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  decisions: (RecordedDecision & { reason: string | null; date: string; userActionId: string | null })[];
}

interface ApprovalRow {
  seq: number;
  approval_id: string;
  request_id: string;
  status: string;
  initiator_id: string;
  groups: string;
  policy_ids: string;
  evaluations: string;
  activity: string;
  expires_at: number | null;
  created_at: string;
  updated_at: string;
  resolved_at: string | null;
  [key: string]: SqlStorageValue;
}

function approvalFromRow(sql: SqlStorage, r: ApprovalRow): StoredApproval {
  const decisions = sql
    .exec<{ user_id: string; is_service_account: number; value: string; reason: string | null; user_action_id: string | null; decided_at: string }>(
      "SELECT * FROM approval_decisions WHERE approval_id = ? ORDER BY decided_at, user_id",
      r.approval_id,
    )
    .toArray()
    .map((d) => ({ userId: d.user_id, isServiceAccount: d.is_service_account === 1, value: d.value as "Approved" | "Denied", reason: d.reason, date: d.decided_at, userActionId: d.user_action_id }));
  return {
    seq: r.seq,
    approvalId: r.approval_id,
    requestId: r.request_id,
    status: r.status as ApprovalStatus,
    initiatorId: r.initiator_id,
    groups: JSON.parse(r.groups) as RequiredApprovalGroup[],
    policyIds: JSON.parse(r.policy_ids) as string[],
    evaluations: JSON.parse(r.evaluations) as PolicyEvaluation[],
    activityJson: r.activity,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    resolvedAt: r.resolved_at,
    decisions,
  };
}

export function insertApproval(
  sql: SqlStorage,
  a: { id: string; requestId: string; initiatorId: string; groups: RequiredApprovalGroup[]; policyIds: string[]; evaluations: PolicyEvaluation[]; activity: unknown; expiresAt: number | null; now: string },
): void {
  sql.exec(
    `INSERT INTO approvals (approval_id, request_id, status, initiator_id, groups, policy_ids, evaluations, activity, expires_at, created_at, updated_at)
     VALUES (?, ?, 'Pending', ?, ?, ?, ?, ?, ?, ?, ?)`,
    a.id,
    a.requestId,
    a.initiatorId,
    JSON.stringify(a.groups),
    JSON.stringify(a.policyIds),
    JSON.stringify(a.evaluations),
    JSON.stringify(a.activity ?? null),
    a.expiresAt,
    a.now,
    a.now,
  );
}

export function getApproval(sql: SqlStorage, id: string): StoredApproval | null {
  const row = sql.exec<ApprovalRow>("SELECT * FROM approvals WHERE approval_id = ?", id).toArray()[0];
  return row ? approvalFromRow(sql, row) : null;
}

export function listApprovals(sql: SqlStorage, q: { status?: string; initiatorId?: string; before?: number }): StoredApproval[] {
  return sql
    .exec<ApprovalRow>(
      `SELECT * FROM approvals WHERE (? IS NULL OR status = ?) AND (? IS NULL OR initiator_id = ?) AND (? IS NULL OR seq < ?) ORDER BY seq DESC`,
      q.status ?? null,
      q.status ?? null,
      q.initiatorId ?? null,
      q.initiatorId ?? null,
      q.before ?? null,
      q.before ?? null,
    )
    .toArray()
    .map((r) => approvalFromRow(sql, r));
}

export function pendingApprovalsExpiringBy(sql: SqlStorage, now: number): string[] {
  return sql
    .exec<{ approval_id: string }>("SELECT approval_id FROM approvals WHERE status = 'Pending' AND expires_at IS NOT NULL AND expires_at <= ?", now)
    .toArray()
    .map((r) => r.approval_id);
}

export function insertDecision(sql: SqlStorage, d: { approvalId: string; userId: string; isServiceAccount: boolean; value: string; reason: string | null; userActionId: string | null; now: string }): void {
  sql.exec(
    "INSERT INTO approval_decisions (approval_id, user_id, is_service_account, value, reason, user_action_id, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    d.approvalId,
    d.userId,
    d.isServiceAccount ? 1 : 0,
    d.value,
    d.reason,
    d.userActionId,
    d.now,
  );
}

export function setApprovalStatus(sql: SqlStorage, id: string, status: ApprovalStatus, now: string): void {
  sql.exec(
    "UPDATE approvals SET status = ?, updated_at = ?, resolved_at = CASE WHEN ? = 'Pending' THEN NULL ELSE ? END WHERE approval_id = ?",
    status,
    now,
    status,
    now,
    id,
  );
}

export function touchApproval(sql: SqlStorage, id: string, now: string): void {
  sql.exec("UPDATE approvals SET updated_at = ? WHERE approval_id = ?", now, id);
}

// ── held requests and their resume events ───────────────────────────────────────────────────

export interface HeldRow {
  request_id: string;
  approval_id: string;
  reservation_id: string;
  status: string;
  input: string;
  facts: string;
  granted: string;
  outcome_reason: string | null;
  created_at: string;
  resolved_at: string | null;
  [key: string]: SqlStorageValue;
}

export function getHeld(sql: SqlStorage, requestId: string): HeldRow | null {
  return sql.exec<HeldRow>("SELECT * FROM held_requests WHERE request_id = ?", requestId).toArray()[0] ?? null;
}

export function heldByApproval(sql: SqlStorage, approvalId: string): HeldRow | null {
  return sql.exec<HeldRow>("SELECT * FROM held_requests WHERE approval_id = ?", approvalId).toArray()[0] ?? null;
}

export function enqueueResume(sql: SqlStorage, requestId: string, event: unknown, at: number): void {
  sql.exec(
    "INSERT INTO resumes (request_id, event, attempts, next_at) VALUES (?, ?, 0, ?) ON CONFLICT (request_id) DO UPDATE SET event = excluded.event, attempts = 0, next_at = excluded.next_at, delivered_at = NULL, last_error = NULL",
    requestId,
    JSON.stringify(event),
    at,
  );
}

/** The earliest moment the alarm has work: an expiry, a lease running out, a resume to deliver. */
export function nextAlarmAt(sql: SqlStorage): number | null {
  const row = sql
    .exec<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(expires_at) AS t FROM approvals WHERE status = 'Pending' AND expires_at IS NOT NULL
         UNION ALL SELECT MIN(lease_until) FROM usage WHERE state = 'Reserved' AND lease_until IS NOT NULL
         UNION ALL SELECT MIN(next_at) FROM resumes WHERE delivered_at IS NULL AND next_at IS NOT NULL)`,
    )
    .toArray()[0];
  return row?.t ?? null;
}
