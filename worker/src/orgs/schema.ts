// The organisation's SQLite schema. Every statement is idempotent (IF NOT EXISTS) and the applied
// version is recorded, so a Durable Object that wakes up on newer code migrates itself once.

import { GOVERNANCE_SCHEMA } from "../governance/log-store.js";

export const SCHEMA_VERSION = 1;

const V1 = [
  `CREATE TABLE IF NOT EXISTS schema_meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS org (
     id INTEGER PRIMARY KEY CHECK (id = 1), org_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL)`,
  // Humans and service accounts. A PAT is not a user: it is a token row linked to one.
  `CREATE TABLE IF NOT EXISTS users (
     user_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
     is_service_account INTEGER NOT NULL, is_active INTEGER NOT NULL, is_registered INTEGER NOT NULL,
     external_id TEXT, registration_code_hash TEXT, created_at TEXT NOT NULL, archived_at TEXT)`,
  // Credentials belong to an identity that signs: a user / service account (user_id) or a PAT (token_id).
  `CREATE TABLE IF NOT EXISTS credentials (
     credential_uuid TEXT PRIMARY KEY, cred_id TEXT NOT NULL UNIQUE, owner_id TEXT NOT NULL, kind TEXT NOT NULL,
     name TEXT NOT NULL, public_key_pem TEXT NOT NULL, cose_public_key TEXT, sign_count INTEGER NOT NULL DEFAULT 0,
     relying_party_id TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '', is_active INTEGER NOT NULL, created_at TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS credentials_owner ON credentials (owner_id)`,
  // Every token ever issued (login sessions included), so each one can be revoked by its jti.
  `CREATE TABLE IF NOT EXISTS tokens (
     token_id TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
     external_id TEXT, cred_id TEXT, is_active INTEGER NOT NULL, expires_at INTEGER,
     created_at TEXT NOT NULL, revoked_at TEXT, archived_at TEXT)`,
  `CREATE INDEX IF NOT EXISTS tokens_user ON tokens (user_id)`,
  `CREATE TABLE IF NOT EXISTS permissions (
     permission_id TEXT PRIMARY KEY, name TEXT NOT NULL, operations TEXT NOT NULL, is_immutable INTEGER NOT NULL,
     is_archived INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS assignments (
     assignment_id TEXT PRIMARY KEY, permission_id TEXT NOT NULL, identity_id TEXT NOT NULL, is_immutable INTEGER NOT NULL,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (permission_id, identity_id))`,
  `CREATE INDEX IF NOT EXISTS assignments_identity ON assignments (identity_id)`,
  // One-time challenges: login, registration, new credential, user action (a commitment).
  `CREATE TABLE IF NOT EXISTS challenges (
     challenge_id TEXT PRIMARY KEY, kind TEXT NOT NULL, challenge TEXT NOT NULL, subject TEXT NOT NULL,
     token_id TEXT, method TEXT, path TEXT, payload TEXT, nonce TEXT, credential_kind TEXT,
     expires_at INTEGER NOT NULL, consumed_at TEXT)`,
  // Expired challenges are pruned on every new one: a range seek, not a scan of the day's challenges.
  `CREATE INDEX IF NOT EXISTS challenges_expiry ON challenges (expires_at)`,
  // Spent user actions (written as they are spent), keyed by the SHA-256 of the token (the token
  // itself is never stored), with the evidence that a credential signed exactly this request.
  `CREATE TABLE IF NOT EXISTS user_actions (
     action_hash TEXT PRIMARY KEY, action_id TEXT NOT NULL UNIQUE, challenge_id TEXT NOT NULL, subject TEXT NOT NULL,
     token_id TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, payload TEXT NOT NULL, body_sha256 TEXT,
     expires_at INTEGER NOT NULL, created_at TEXT NOT NULL, consumed_at TEXT, evidence TEXT NOT NULL)`,
  // The governance log the share holders replay (worker/src/governance/log-store.ts).
  GOVERNANCE_SCHEMA,
];

export function migrate(sql: SqlStorage): void {
  for (const statement of V1) sql.exec(statement);
  // A user action commits to its body by hash (the body arrives when it is spent).
  const userActionColumns = new Set(sql.exec<{ name: string }>("PRAGMA table_info(user_actions)").toArray().map((c) => c.name));
  if (!userActionColumns.has("body_sha256")) sql.exec("ALTER TABLE user_actions ADD COLUMN body_sha256 TEXT");
  sql.exec("INSERT INTO schema_meta (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = MAX(version, excluded.version)", SCHEMA_VERSION);
}
