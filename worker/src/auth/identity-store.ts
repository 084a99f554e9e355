// Users, service accounts, tokens and credentials in the org's SQLite, and the Dfns-shaped views
// of them. Pure functions over SqlStorage; the Org Durable Object decides when to call them.
import type { AccessTokenInfo, CredentialInfo, ServiceAccountInfo, UserInfo } from "../../../shared/src/dfns/wire.js";
import { assignmentsOf } from "../permissions/store.js";

export interface UserRow {
  user_id: string;
  username: string;
  name: string;
  kind: string;
  is_service_account: number;
  is_active: number;
  is_registered: number;
  external_id: string | null;
  registration_code_hash: string | null;
  created_at: string;
  archived_at: string | null;
  [key: string]: SqlStorageValue;
}

export interface TokenRow {
  token_id: string;
  kind: "Login" | "ServiceAccount" | "Pat";
  user_id: string;
  name: string;
  external_id: string | null;
  cred_id: string | null;
  is_active: number;
  expires_at: number | null;
  created_at: string;
  revoked_at: string | null;
  archived_at: string | null;
  [key: string]: SqlStorageValue;
}

export interface CredentialRow {
  credential_uuid: string;
  cred_id: string;
  owner_id: string;
  kind: "Key" | "Fido2";
  name: string;
  public_key_pem: string;
  cose_public_key: string | null;
  sign_count: number;
  relying_party_id: string;
  origin: string;
  is_active: number;
  created_at: string;
  [key: string]: SqlStorageValue;
}

export function getUser(sql: SqlStorage, userId: string): UserRow | null {
  return sql.exec<UserRow>("SELECT * FROM users WHERE user_id = ? AND archived_at IS NULL", userId).toArray()[0] ?? null;
}

export function getUserByName(sql: SqlStorage, username: string): UserRow | null {
  return sql.exec<UserRow>("SELECT * FROM users WHERE username = ? AND archived_at IS NULL", username).toArray()[0] ?? null;
}

export function usernameTaken(sql: SqlStorage, username: string): boolean {
  return sql.exec("SELECT 1 FROM users WHERE username = ?", username).toArray().length > 0;
}

export function insertUser(
  sql: SqlStorage,
  u: { userId: string; username: string; name: string; isServiceAccount: boolean; isRegistered: boolean; externalId?: string | null; registrationCodeHash?: string | null; now: string },
): void {
  sql.exec(
    `INSERT INTO users (user_id, username, name, kind, is_service_account, is_active, is_registered, external_id, registration_code_hash, created_at)
     VALUES (?, ?, ?, 'CustomerEmployee', ?, 1, ?, ?, ?, ?)`,
    u.userId,
    u.username,
    u.name,
    u.isServiceAccount ? 1 : 0,
    u.isRegistered ? 1 : 0,
    u.externalId ?? null,
    u.registrationCodeHash ?? null,
    u.now,
  );
}

export function listUsers(sql: SqlStorage, serviceAccounts: boolean): UserRow[] {
  return sql
    .exec<UserRow>("SELECT * FROM users WHERE archived_at IS NULL AND is_service_account = ? ORDER BY created_at, user_id", serviceAccounts ? 1 : 0)
    .toArray();
}

export function getToken(sql: SqlStorage, tokenId: string): TokenRow | null {
  return sql.exec<TokenRow>("SELECT * FROM tokens WHERE token_id = ?", tokenId).toArray()[0] ?? null;
}

export function insertToken(
  sql: SqlStorage,
  t: { tokenId: string; kind: TokenRow["kind"]; userId: string; name?: string; externalId?: string | null; credId?: string | null; expiresAt: number | null; now: string },
): void {
  sql.exec(
    `INSERT INTO tokens (token_id, kind, user_id, name, external_id, cred_id, is_active, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
    t.tokenId,
    t.kind,
    t.userId,
    t.name ?? "",
    t.externalId ?? null,
    t.credId ?? null,
    t.expiresAt,
    t.now,
  );
}

export function tokensOfUser(sql: SqlStorage, userId: string, kind: TokenRow["kind"]): TokenRow[] {
  return sql
    .exec<TokenRow>("SELECT * FROM tokens WHERE user_id = ? AND kind = ? AND archived_at IS NULL ORDER BY created_at, token_id", userId, kind)
    .toArray();
}

/** Revokes every token of a user (deactivation, archival, logout of all sessions). */
export function revokeTokensOfUser(sql: SqlStorage, userId: string, now: string, kinds: TokenRow["kind"][]): void {
  const marks = kinds.map(() => "?").join(", ");
  sql.exec(`UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND kind IN (${marks})`, now, userId, ...kinds);
}

export function insertCredential(
  sql: SqlStorage,
  c: {
    credentialUuid: string;
    credId: string;
    ownerId: string;
    kind: "Key" | "Fido2";
    name: string;
    publicKeyPem: string;
    cosePublicKey?: string | null;
    signCount?: number;
    relyingPartyId?: string;
    origin?: string;
    now: string;
  },
): void {
  sql.exec(
    `INSERT INTO credentials (credential_uuid, cred_id, owner_id, kind, name, public_key_pem, cose_public_key, sign_count, relying_party_id, origin, is_active, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    c.credentialUuid,
    c.credId,
    c.ownerId,
    c.kind,
    c.name,
    c.publicKeyPem,
    c.cosePublicKey ?? null,
    c.signCount ?? 0,
    c.relyingPartyId ?? "",
    c.origin ?? "",
    c.now,
  );
}

export function credentialIdTaken(sql: SqlStorage, credId: string): boolean {
  return sql.exec("SELECT 1 FROM credentials WHERE cred_id = ?", credId).toArray().length > 0;
}

export function credentialsOf(sql: SqlStorage, ownerId: string, onlyActive: boolean): CredentialRow[] {
  return sql
    .exec<CredentialRow>(
      `SELECT * FROM credentials WHERE owner_id = ? ${onlyActive ? "AND is_active = 1" : ""} ORDER BY created_at, credential_uuid`,
      ownerId,
    )
    .toArray();
}

export function credentialInfo(row: CredentialRow): CredentialInfo {
  return {
    kind: row.kind,
    credentialId: row.cred_id,
    credentialUuid: row.credential_uuid,
    dateCreated: row.created_at,
    isActive: row.is_active === 1,
    name: row.name,
    publicKey: row.public_key_pem,
    relyingPartyId: row.relying_party_id,
    origin: row.origin,
  };
}

export function userInfo(sql: SqlStorage, orgId: string, user: UserRow): UserInfo {
  const assignments = assignmentsOf(sql, [user.user_id]).filter((a) => !a.isArchived);
  const firstCredential = credentialsOf(sql, user.user_id, true)[0];
  const operations = new Set<string>();
  for (const a of assignments) for (const op of a.operations ?? []) operations.add(op);
  return {
    username: user.username,
    name: user.name,
    userId: user.user_id,
    kind: "CustomerEmployee",
    credentialUuid: firstCredential?.credential_uuid ?? "",
    orgId,
    permissions: [...operations].sort(),
    isActive: user.is_active === 1,
    isServiceAccount: user.is_service_account === 1,
    isRegistered: user.is_registered === 1,
    isSSORequired: false,
    permissionAssignments: assignments.map(({ isArchived: _a, ...rest }) => rest),
  };
}

export function accessTokenInfo(sql: SqlStorage, orgId: string, token: TokenRow): AccessTokenInfo {
  // A PAT's key belongs to the PAT itself; a service account's key belongs to the account.
  const owner = token.kind === "Pat" ? token.token_id : token.user_id;
  const credential = credentialsOf(sql, owner, false).find((c) => c.cred_id === token.cred_id);
  const assignments = assignmentsOf(sql, [token.token_id]).filter((a) => !a.isArchived);
  return {
    dateCreated: token.created_at,
    credId: token.cred_id ?? "",
    isActive: token.is_active === 1 && token.revoked_at === null,
    kind: token.kind === "Pat" ? "Pat" : "ServiceAccount",
    linkedUserId: token.user_id,
    linkedAppId: "",
    name: token.name,
    orgId,
    publicKey: credential?.public_key_pem ?? "",
    tokenId: token.token_id,
    permissionAssignments: assignments.map(({ isArchived: _a, ...rest }) => rest),
    ...(token.expires_at !== null ? { expiresAt: new Date(token.expires_at * 1000).toISOString() } : {}),
  };
}

export function serviceAccountInfo(sql: SqlStorage, orgId: string, user: UserRow): ServiceAccountInfo {
  return {
    userInfo: userInfo(sql, orgId, user),
    accessTokens: tokensOfUser(sql, user.user_id, "ServiceAccount").map((t) => accessTokenInfo(sql, orgId, t)),
  };
}
