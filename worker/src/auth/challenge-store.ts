// One-time challenges and spent user actions in the org's SQLite. A challenge is consumed by
// exactly one successful response; a user action by exactly one request. Both expire. A
// user-action challenge is made without a row (challenge-seal.ts) and answered without one (the
// token is self-contained, user-action-token.ts): its row is written when its action is spent,
// already consumed, and is what refuses a second spend from the same challenge.
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";

export type ChallengeKind = "Login" | "Registration" | "Credential" | "UserAction";

export interface ChallengeRow {
  challenge_id: string;
  kind: ChallengeKind;
  challenge: string;
  subject: string;
  token_id: string | null;
  method: string | null;
  path: string | null;
  payload: string | null;
  nonce: string | null;
  credential_kind: string | null;
  expires_at: number;
  consumed_at: string | null;
  [key: string]: SqlStorageValue;
}

export interface UserActionRow {
  action_hash: string;
  action_id: string;
  challenge_id: string;
  subject: string;
  token_id: string;
  method: string;
  path: string;
  /** The body as spent ("" until then). */
  payload: string;
  /** Lower-case hex SHA-256 of the body the credential signed (null on actions issued before it was kept). */
  body_sha256: string | null;
  expires_at: number;
  created_at: string;
  consumed_at: string | null;
  evidence: string;
  [key: string]: SqlStorageValue;
}

export const CHALLENGE_SECONDS = 5 * 60;
export const USER_ACTION_SECONDS = 5 * 60;

export function insertChallenge(
  sql: SqlStorage,
  c: { id: string; kind: ChallengeKind; challenge: string; subject: string; tokenId?: string | null; method?: string; path?: string; payload?: string; nonce?: string; credentialKind?: string; expiresAt: number; consumedAt?: string },
): void {
  sql.exec(
    `INSERT INTO challenges (challenge_id, kind, challenge, subject, token_id, method, path, payload, nonce, credential_kind, expires_at, consumed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    c.id,
    c.kind,
    c.challenge,
    c.subject,
    c.tokenId ?? null,
    c.method ?? null,
    c.path ?? null,
    c.payload ?? null,
    c.nonce ?? null,
    c.credentialKind ?? null,
    c.expiresAt,
    c.consumedAt ?? null,
  );
}

export function getChallenge(sql: SqlStorage, id: string): ChallengeRow | null {
  return sql.exec<ChallengeRow>("SELECT * FROM challenges WHERE challenge_id = ?", id).toArray()[0] ?? null;
}

/** Why a challenge cannot be answered now, or null if it can. */
export function challengeProblem(row: ChallengeRow | null, kind: ChallengeKind, nowSeconds: number): string | null {
  if (!row || row.kind !== kind) return "Challenge not found";
  if (row.consumed_at !== null) return "Challenge already used";
  if (row.expires_at <= nowSeconds) return "Challenge expired";
  return null;
}

export function consumeChallenge(sql: SqlStorage, id: string, now: string): void {
  sql.exec("UPDATE challenges SET consumed_at = ? WHERE challenge_id = ? AND consumed_at IS NULL", now, id);
}

/** Drops challenges and user actions that expired more than a day ago (bounded growth). */
export function pruneExpired(sql: SqlStorage, nowSeconds: number): void {
  sql.exec("DELETE FROM challenges WHERE expires_at < ?", nowSeconds - 86_400);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Hex SHA-256 of a string's UTF-8 bytes, by WebCrypto: the user-action flow hashes on every
 * request, and both @noble/hashes and workerd's node:crypto Hash (a JS stream around the native
 * digest) cost more per call than one native digest. Async, so callers hash before the
 * synchronous part that reads and writes.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += HEX[b]!;
  return hex;
}

export function hashActionToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Keeps a user action as it is spent (it has no row before: the token is self-contained, user-action-token.ts). */
export function insertUserAction(sql: SqlStorage, a: { hash: string; evidence: UserActionEvidence; bodySha256: string; challengeId: string; expiresAt: number; spentAt: string }): void {
  const e = a.evidence;
  sql.exec(
    `INSERT INTO user_actions (action_hash, action_id, challenge_id, subject, token_id, method, path, payload, body_sha256, expires_at, created_at, consumed_at, evidence)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    a.hash,
    e.actionId,
    a.challengeId,
    e.subject,
    e.tokenId,
    e.method,
    e.path,
    e.payload,
    a.bodySha256,
    a.expiresAt,
    e.signedAt,
    a.spentAt,
    JSON.stringify(e),
  );
}

export function getUserActionById(sql: SqlStorage, id: string): UserActionRow | null {
  return sql.exec<UserActionRow>("SELECT * FROM user_actions WHERE action_id = ?", id).toArray()[0] ?? null;
}

export function listUserActions(sql: SqlStorage, q: { since?: string; until?: string; subject?: string; limit: number }): UserActionRow[] {
  const where = ["consumed_at IS NOT NULL"];
  const args: SqlStorageValue[] = [];
  if (q.since) {
    where.push("consumed_at >= ?");
    args.push(q.since);
  }
  if (q.until) {
    where.push("consumed_at <= ?");
    args.push(q.until);
  }
  if (q.subject) {
    where.push("subject = ?");
    args.push(q.subject);
  }
  return sql
    .exec<UserActionRow>(`SELECT * FROM user_actions WHERE ${where.join(" AND ")} ORDER BY consumed_at DESC LIMIT ?`, ...args, q.limit)
    .toArray();
}
