// Layer 1's directory in an organisation: users (and their registration), the caller's own
// credentials, service accounts and personal access tokens. Part of the org's Durable Object
// (worker/src/orgs/org.ts); permissions an identity is created with go through Grants.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodeBase64Url, utf8 } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import type { AccessTokenInfo, CredentialInfo, ServiceAccountInfo, UserInfo } from "../../../shared/src/dfns/wire.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { newId, randomBytes } from "../orgs/ids.js";
import { nowIso, nowSeconds, type OrgStorage } from "../orgs/storage.js";
import type { Grants } from "../permissions/grants.js";
import * as challenges from "./challenge-store.js";
import * as identities from "./identity-store.js";
import type { Caller } from "./sessions.js";

export interface NewCredential {
  credId: string;
  kind: "Key" | "Fido2";
  name: string;
  publicKeyPem: string;
  cosePublicKey: string | null;
  signCount: number;
  relyingPartyId: string;
  origin: string;
}

function hashSecret(secret: string): string {
  return bytesToHex(sha256(utf8(secret)));
}

export class Directory {
  constructor(
    private readonly org: OrgStorage,
    private readonly grants: Grants,
  ) {}

  listUsers(): { items: UserInfo[] } {
    const orgId = this.org.orgId()!;
    return { items: identities.listUsers(this.org.sql, false).map((u) => identities.userInfo(this.org.sql, orgId, u)) };
  }

  getUser(userId: string): Outcome<UserInfo> {
    const user = identities.getUser(this.org.sql, userId);
    if (!user) return failure(404, "User not found");
    return success(identities.userInfo(this.org.sql, this.org.orgId()!, user));
  }

  /** Creates an unregistered user and a registration code to hand over out of band. */
  createUser(input: { email: string; externalId: string | null }): Outcome<{ user: UserInfo; registrationCode: string }> {
    if (identities.usernameTaken(this.org.sql, input.email)) return failure(409, "A user with this username already exists");
    const registrationCode = encodeBase64Url(randomBytes(16));
    const userId = newId("us");
    identities.insertUser(this.org.sql, {
      userId,
      username: input.email,
      name: input.email,
      isServiceAccount: false,
      isRegistered: false,
      externalId: input.externalId,
      registrationCodeHash: hashSecret(registrationCode),
      now: nowIso(),
    });
    return success({ user: identities.userInfo(this.org.sql, this.org.orgId()!, identities.getUser(this.org.sql, userId)!), registrationCode });
  }


  /** Activates / deactivates / archives a user or service account; deactivation and archival cut its tokens. */
  setUserState(userId: string, serviceAccount: boolean, state: "active" | "inactive" | "archived"): Outcome<identities.UserRow> {
    const user = identities.getUser(this.org.sql, userId);
    if (!user || (user.is_service_account === 1) !== serviceAccount) return failure(404, serviceAccount ? "Service account not found" : "User not found");
    if (state !== "active" && this.grants.hasImmutableAssignment(userId)) return failure(403, "The organisation's root identities cannot be deactivated");
    const now = nowIso();
    this.org.transaction(() => {
      if (state === "archived") {
        this.org.sql.exec("UPDATE users SET is_active = 0, archived_at = ? WHERE user_id = ?", now, userId);
        identities.revokeTokensOfUser(this.org.sql, userId, now, ["Login", "ServiceAccount", "Pat"]);
      } else {
        this.org.sql.exec("UPDATE users SET is_active = ? WHERE user_id = ?", state === "active" ? 1 : 0, userId);
        if (state === "inactive") identities.revokeTokensOfUser(this.org.sql, userId, now, ["Login"]);
      }
    });
    return success(identities.getUser(this.org.sql, userId) ?? { ...user, is_active: 0, archived_at: now });
  }

  setUserActive(userId: string, active: boolean): Outcome<UserInfo> {
    const r = this.setUserState(userId, false, active ? "active" : "inactive");
    return r.ok ? success(identities.userInfo(this.org.sql, this.org.orgId()!, r.value)) : r;
  }

  archiveUser(userId: string): Outcome<UserInfo> {
    const r = this.setUserState(userId, false, "archived");
    return r.ok ? success(identities.userInfo(this.org.sql, this.org.orgId()!, r.value)) : r;
  }

  registrationChallenge(input: { username: string; registrationCode: string }): Outcome<{ challengeIdentifier: string; challenge: string; user: { id: string; displayName: string; name: string }; orgId: string }> {
    const orgId = this.org.orgId();
    if (!orgId) return failure(401, "Not authorized");
    const user = identities.getUserByName(this.org.sql, input.username);
    if (!user || user.is_registered === 1 || user.registration_code_hash === null || !constantTimeEqual(user.registration_code_hash, hashSecret(input.registrationCode))) {
      return failure(401, "Invalid username or registration code");
    }
    const id = newId("ch");
    const challenge = encodeBase64Url(randomBytes(32));
    challenges.insertChallenge(this.org.sql, { id, kind: "Registration", challenge, subject: user.user_id, expiresAt: nowSeconds() + challenges.CHALLENGE_SECONDS });
    return success({ challengeIdentifier: id, challenge, user: { id: user.user_id, displayName: user.name, name: user.username }, orgId });
  }

  completeRegistration(input: { challengeId: string; credential: NewCredential }): Outcome<{ credential: { uuid: string; kind: string; name: string }; user: { id: string; username: string; orgId: string } }> {
    return this.org.transaction(() => {
      const row = challenges.getChallenge(this.org.sql, input.challengeId);
      const problem = challenges.challengeProblem(row, "Registration", nowSeconds());
      if (problem || !row) return failure(401, problem ?? "Challenge not found");
      const user = identities.getUser(this.org.sql, row.subject);
      if (!user || user.is_registered === 1) return failure(409, "User already registered");
      if (identities.credentialIdTaken(this.org.sql, input.credential.credId)) return failure(409, "Credential id already registered");
      const uuid = newId("cr");
      const now = nowIso();
      identities.insertCredential(this.org.sql, { ...input.credential, credentialUuid: uuid, ownerId: user.user_id, now });
      this.org.sql.exec("UPDATE users SET is_registered = 1, registration_code_hash = NULL WHERE user_id = ?", user.user_id);
      challenges.consumeChallenge(this.org.sql, row.challenge_id, now);
      return success({ credential: { uuid, kind: input.credential.kind, name: input.credential.name }, user: { id: user.user_id, username: user.username, orgId: this.org.orgId()! } });
    });
  }

  // ── credentials of the caller ──

  credentialChallenge(caller: Caller, kind: "Key" | "Fido2"): Outcome<{ challengeIdentifier: string; challenge: string; user: { id: string; displayName: string; name: string }; excludeCredentials: { type: "public-key"; id: string }[] }> {
    const id = newId("ch");
    const challenge = encodeBase64Url(randomBytes(32));
    challenges.insertChallenge(this.org.sql, { id, kind: "Credential", challenge, subject: caller.identityId, tokenId: caller.tokenId, credentialKind: kind, expiresAt: nowSeconds() + challenges.CHALLENGE_SECONDS });
    const existing = identities.credentialsOf(this.org.sql, caller.identityId, false).map((c) => ({ type: "public-key" as const, id: c.cred_id }));
    return success({ challengeIdentifier: id, challenge, user: { id: caller.userId, displayName: caller.username, name: caller.username }, excludeCredentials: existing });
  }

  completeCredential(caller: Caller, input: { challengeId: string; credential: NewCredential }): Outcome<CredentialInfo> {
    return this.org.transaction(() => {
      const row = challenges.getChallenge(this.org.sql, input.challengeId);
      const problem = challenges.challengeProblem(row, "Credential", nowSeconds());
      if (problem || !row || row.token_id !== caller.tokenId) return failure(401, problem ?? "Challenge not found");
      if (row.credential_kind !== input.credential.kind) return failure(400, "Credential kind differs from the challenge's");
      if (identities.credentialIdTaken(this.org.sql, input.credential.credId)) return failure(409, "Credential id already registered");
      const uuid = newId("cr");
      const now = nowIso();
      identities.insertCredential(this.org.sql, { ...input.credential, credentialUuid: uuid, ownerId: row.subject, now });
      challenges.consumeChallenge(this.org.sql, row.challenge_id, now);
      return success(identities.credentialInfo(identities.credentialsOf(this.org.sql, row.subject, false).find((c) => c.credential_uuid === uuid)!));
    });
  }

  listCredentials(caller: Caller): { items: CredentialInfo[] } {
    return { items: identities.credentialsOf(this.org.sql, caller.identityId, false).map(identities.credentialInfo) };
  }

  setCredentialActive(caller: Caller, credentialUuid: string, active: boolean): Outcome<{ message: string }> {
    const credential = identities.credentialsOf(this.org.sql, caller.identityId, false).find((c) => c.credential_uuid === credentialUuid);
    if (!credential) return failure(404, "Credential not found");
    if (!active && identities.credentialsOf(this.org.sql, caller.identityId, true).filter((c) => c.credential_uuid !== credentialUuid).length === 0) {
      return failure(409, "Cannot deactivate the last active credential");
    }
    this.org.sql.exec("UPDATE credentials SET is_active = ? WHERE credential_uuid = ?", active ? 1 : 0, credentialUuid);
    return success({ message: active ? "Credential activated" : "Credential deactivated" });
  }

  // ── service accounts ──

  insertServiceAccount(input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null }, now: string) {
    const userId = newId("us");
    const tokenId = newId("to");
    const credId = encodeBase64Url(randomBytes(18));
    identities.insertUser(this.org.sql, { userId, username: `${input.name} (${userId})`, name: input.name, isServiceAccount: true, isRegistered: true, externalId: input.externalId, now });
    identities.insertCredential(this.org.sql, { credentialUuid: newId("cr"), credId, ownerId: userId, kind: "Key", name: input.name, publicKeyPem: input.publicKeyPem, now });
    identities.insertToken(this.org.sql, { tokenId, kind: "ServiceAccount", userId, name: input.name, externalId: input.externalId, credId, expiresAt: input.expiresAt, now });
    return { userId, tokenId, credId };
  }


  createServiceAccount(input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null; permissionId: string | null }): Outcome<{ account: ServiceAccountInfo; tokenId: string }> {
    if (input.permissionId) {
      const p = this.grants.activePermission(input.permissionId);
      if (!p.ok) return p;
    }
    return this.org.transaction(() => {
      const now = nowIso();
      const sa = this.insertServiceAccount(input, now);
      if (input.permissionId) this.grants.assignAtCreation(input.permissionId, sa.userId, now);
      return success({ account: identities.serviceAccountInfo(this.org.sql, this.org.orgId()!, identities.getUser(this.org.sql, sa.userId)!), tokenId: sa.tokenId });
    });
  }

  private serviceAccountUser(id: string): identities.UserRow | null {
    // Accept the account's user id or the id of one of its tokens.
    const direct = identities.getUser(this.org.sql, id);
    const user = direct ?? identities.getUser(this.org.sql, identities.getToken(this.org.sql, id)?.user_id ?? "");
    return user && user.is_service_account === 1 ? user : null;
  }

  listServiceAccounts(): { items: ServiceAccountInfo[] } {
    const orgId = this.org.orgId()!;
    return { items: identities.listUsers(this.org.sql, true).map((u) => identities.serviceAccountInfo(this.org.sql, orgId, u)) };
  }

  getServiceAccount(id: string): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    return success(identities.serviceAccountInfo(this.org.sql, this.org.orgId()!, user));
  }

  updateServiceAccount(id: string, change: { name?: string; externalId?: string }): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    if (change.name !== undefined) this.org.sql.exec("UPDATE users SET name = ? WHERE user_id = ?", change.name, user.user_id);
    if (change.externalId !== undefined) this.org.sql.exec("UPDATE users SET external_id = ? WHERE user_id = ?", change.externalId, user.user_id);
    return success(identities.serviceAccountInfo(this.org.sql, this.org.orgId()!, identities.getUser(this.org.sql, user.user_id)!));
  }

  setServiceAccountState(id: string, state: "active" | "inactive" | "archived"): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    const r = this.setUserState(user.user_id, true, state);
    if (!r.ok) return r;
    return success(identities.serviceAccountInfo(this.org.sql, this.org.orgId()!, r.value));
  }

  // ── personal access tokens ──

  createPat(caller: Caller, input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null; permissionId: string | null }): Outcome<AccessTokenInfo> {
    if (input.permissionId) {
      const p = this.grants.activePermission(input.permissionId);
      if (!p.ok) return p;
    }
    return this.org.transaction(() => {
      const now = nowIso();
      const tokenId = newId("to");
      const credId = encodeBase64Url(randomBytes(18));
      identities.insertToken(this.org.sql, { tokenId, kind: "Pat", userId: caller.userId, name: input.name, externalId: input.externalId, credId, expiresAt: input.expiresAt, now });
      identities.insertCredential(this.org.sql, { credentialUuid: newId("cr"), credId, ownerId: tokenId, kind: "Key", name: input.name, publicKeyPem: input.publicKeyPem, now });
      if (input.permissionId) this.grants.assignAtCreation(input.permissionId, tokenId, now);
      return success(identities.accessTokenInfo(this.org.sql, this.org.orgId()!, identities.getToken(this.org.sql, tokenId)!));
    });
  }

  private patOf(caller: Caller, tokenId: string): identities.TokenRow | null {
    const token = identities.getToken(this.org.sql, tokenId);
    return token && token.kind === "Pat" && token.user_id === caller.userId && token.archived_at === null ? token : null;
  }

  listPats(caller: Caller): { items: AccessTokenInfo[] } {
    const orgId = this.org.orgId()!;
    return { items: identities.tokensOfUser(this.org.sql, caller.userId, "Pat").map((t) => identities.accessTokenInfo(this.org.sql, orgId, t)) };
  }

  getPat(caller: Caller, tokenId: string): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    return success(identities.accessTokenInfo(this.org.sql, this.org.orgId()!, token));
  }

  updatePat(caller: Caller, tokenId: string, change: { name?: string; externalId?: string }): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    if (change.name !== undefined) this.org.sql.exec("UPDATE tokens SET name = ? WHERE token_id = ?", change.name, tokenId);
    if (change.externalId !== undefined) this.org.sql.exec("UPDATE tokens SET external_id = ? WHERE token_id = ?", change.externalId, tokenId);
    return success(identities.accessTokenInfo(this.org.sql, this.org.orgId()!, identities.getToken(this.org.sql, tokenId)!));
  }

  setPatState(caller: Caller, tokenId: string, state: "active" | "inactive" | "archived"): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    const now = nowIso();
    if (state === "archived") this.org.sql.exec("UPDATE tokens SET is_active = 0, archived_at = ?, revoked_at = COALESCE(revoked_at, ?) WHERE token_id = ?", now, now, tokenId);
    else this.org.sql.exec("UPDATE tokens SET is_active = ? WHERE token_id = ?", state === "active" ? 1 : 0, tokenId);
    return success(identities.accessTokenInfo(this.org.sql, this.org.orgId()!, identities.getToken(this.org.sql, tokenId)!));
  }
}
