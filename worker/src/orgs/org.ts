// One Durable Object per organisation, SQLite-backed: its users, service accounts, tokens,
// credentials, permissions and assignments, challenges, user actions and audit log. Every method
// runs synchronously against SQLite, so each one is atomic with respect to every other request
// (no await between a check and the write it guards). Signature verification happens in the
// Worker before calling in; these methods re-check everything that could have changed meanwhile
// (challenge still unused, credential still active, counter still increasing).
import { DurableObject } from "cloudflare:workers";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { encodeBase64Url, utf8 } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import { DFNS_OPERATIONS } from "../../../shared/src/dfns/operations.js";
import { encodeChallenge, userActionChallenge } from "../../../shared/src/dfns/user-action.js";
import type {
  AccessTokenInfo,
  AllowCredentials,
  AssignmentInfo,
  CredentialInfo,
  PermissionInfo,
  ServiceAccountInfo,
  UserActionEvidence,
  UserInfo,
} from "../../../shared/src/dfns/wire.js";
import * as challenges from "../auth/challenge-store.js";
import * as identities from "../auth/identity-store.js";
import { failure, success, type Outcome } from "../http/errors.js";
import * as permissions from "../permissions/store.js";
import { newId, randomBytes } from "./ids.js";
import { migrate } from "./schema.js";
import { effectOf, genesisOf, GovernanceLog } from "../governance/log-store.js";
import type { GovernanceState } from "../../../shared/src/governance/log.js";
import type { GovernanceEntry, GovernanceHead } from "../../../shared/src/governance/log.js";
import type { FeeCeiling } from "../../../shared/src/chains/evm/fees.js";

/** Who is calling, as established by a valid, unrevoked token of an active identity. */
export interface Caller {
  orgId: string;
  userId: string;
  username: string;
  tokenId: string;
  tokenKind: "Login" | "ServiceAccount" | "Pat";
  /** The identity permissions are assigned to and whose credentials sign: user id, or the PAT's token id. */
  identityId: string;
  isServiceAccount: boolean;
  operations: string[];
}

/** A stored credential as the Worker needs it to verify an assertion. */
export interface StoredCredential {
  credentialUuid: string;
  credId: string;
  kind: "Key" | "Fido2";
  publicKeyPem: string;
  cosePublicKey: string | null;
  signCount: number;
}

export interface PendingChallenge {
  challengeId: string;
  challenge: string;
  subject: string;
  tokenId: string | null;
  credentialKind: string | null;
  method: string | null;
  path: string | null;
  payload: string | null;
  nonce: string | null;
  expiresAt: number;
  orgId: string;
  credentials: StoredCredential[];
}

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

export interface Assertion {
  credentialUuid: string;
  /** The authenticator's new signature counter (WebAuthn); 0 for key credentials. */
  signCount: number;
  clientData: string;
  signature: string;
  authenticatorData: string | null;
  userHandle: string | null;
}

const ALL_OPERATIONS: string[] = [...DFNS_OPERATIONS];
const ROOT_PERMISSION_NAME = "Root (all operations, immutable)";

function nowIso(): string {
  return new Date().toISOString();
}
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
function hashSecret(secret: string): string {
  return bytesToHex(sha256(utf8(secret)));
}

/** WebAuthn's rule: once a counter is in use it must strictly increase. */
function counterProblem(stored: number, presented: number): string | null {
  if ((stored > 0 || presented > 0) && presented <= stored) return "Authenticator counter did not increase (possible cloned credential)";
  return null;
}

export class Org extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
  }

  // ── organisation ────────────────────────────────────────────────────────────────────────────

  private orgId(): string | null {
    return this.sql.exec<{ org_id: string }>("SELECT org_id FROM org WHERE id = 1").toArray()[0]?.org_id ?? null;
  }

  /** Creates the org, its immutable all-operations permission, a root user and a root service account. */
  bootstrap(input: {
    orgId: string;
    orgName: string;
    rootUsername: string;
    rootUserPublicKeyPem: string | null;
    serviceAccountName: string;
    serviceAccountPublicKeyPem: string;
  }): Outcome<{ orgId: string; rootUser: UserInfo; rootUserCredId: string | null; permissionId: string; serviceAccount: ServiceAccountInfo; tokenId: string; credId: string }> {
    if (this.orgId() !== null) return failure(409, "Organisation already exists");
    const now = nowIso();
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT INTO org (id, org_id, name, created_at) VALUES (1, ?, ?, ?)", input.orgId, input.orgName, now);
      const permission = permissions.insertPermission(this.sql, { id: newId("pm"), name: ROOT_PERMISSION_NAME, operations: ALL_OPERATIONS, immutable: true, now });

      const rootUserId = newId("us");
      identities.insertUser(this.sql, { userId: rootUserId, username: input.rootUsername, name: input.rootUsername, isServiceAccount: false, isRegistered: input.rootUserPublicKeyPem !== null, now });
      let rootUserCredId: string | null = null;
      if (input.rootUserPublicKeyPem) {
        rootUserCredId = encodeBase64Url(randomBytes(18));
        identities.insertCredential(this.sql, { credentialUuid: newId("cr"), credId: rootUserCredId, ownerId: rootUserId, kind: "Key", name: "root key", publicKeyPem: input.rootUserPublicKeyPem, now });
      }
      permissions.insertAssignment(this.sql, { id: newId("as"), permissionId: permission.id, identityId: rootUserId, immutable: true, now });

      const sa = this.insertServiceAccount({ name: input.serviceAccountName, publicKeyPem: input.serviceAccountPublicKeyPem, externalId: null, expiresAt: null }, now);
      permissions.insertAssignment(this.sql, { id: newId("as"), permissionId: permission.id, identityId: sa.userId, immutable: true, now });

      return success({
        orgId: input.orgId,
        rootUser: identities.userInfo(this.sql, input.orgId, identities.getUser(this.sql, rootUserId)!),
        rootUserCredId,
        permissionId: permission.id,
        serviceAccount: identities.serviceAccountInfo(this.sql, input.orgId, identities.getUser(this.sql, sa.userId)!),
        tokenId: sa.tokenId,
        credId: sa.credId,
      });
    });
  }

  // ── governance log (what the share holders believe; worker/src/governance) ─────────────────

  private governance: GovernanceLog | null = null;

  private governanceLog(): GovernanceLog | null {
    const orgId = this.orgId();
    if (!orgId) return null;
    this.governance ??= new GovernanceLog(this.sql, orgId);
    return this.governance;
  }

  /** Records a governance change the edge performed, with the user action that authorized it. */
  async recordGovernance(evidence: UserActionEvidence, response: Record<string, unknown>, rpId: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    const log = this.governanceLog();
    if (!log) return { ok: false, reason: "organisation not found" };
    const effect = effectOf(this.sql, evidence, response);
    if (!effect) return { ok: false, reason: `cannot tell what ${evidence.method} ${evidence.path} changed` };
    const appended = await log.append(evidence, effect, rpId);
    return appended.ok ? { ok: true } : appended;
  }

  /** A user's first credential (registration is not a user action: the user was created by one). */
  async recordRegistration(userId: string, credentialUuid: string, rpId: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    const log = this.governanceLog();
    const row = identities.credentialsOf(this.sql, userId, false).find((c) => c.credential_uuid === credentialUuid);
    if (!log || !row) return { ok: false, reason: "no such credential" };
    const appended = await log.append(null, { type: "CredentialAdded", identityId: userId, credentialUuid, publicKey: row.public_key_pem }, rpId);
    return appended.ok ? { ok: true } : appended;
  }

  /** The org's EVM fee ceilings, as its governance log says (the nodes enforce them). */
  async feeCeilings(): Promise<Record<string, FeeCeiling>> {
    return (await this.governanceLog()?.current())?.feeCeilings ?? {};
  }

  /** The head and newest entries, for a ceremony request; null for an org without a root. */
  async governanceFeed(): Promise<{ head: GovernanceHead; entries: GovernanceEntry[] } | null> {
    return (await this.governanceLog()?.feed()) ?? null;
  }

  /** The org's share holders as its governance log decided them (null: the org has no log). */
  async shareHolderLog(): Promise<GovernanceState["shareHolders"] | null> {
    return (await this.governanceLog()?.current())?.shareHolders ?? null;
  }

  /** What the nodes must be given out of band: the root credential's key and the root permission. */
  governanceGenesis(): { orgId: string; rootPublicKeyPem: string; rootPermissionId: string } | null {
    const orgId = this.orgId();
    const g = orgId ? genesisOf(this.sql, orgId) : null;
    return orgId && g ? { orgId, ...g } : null;
  }

  // ── callers ─────────────────────────────────────────────────────────────────────────────────

  /** Checks, on every request, that the token is still good and says what its holder may do. */
  resolveCaller(claims: { tokenId: string; userId: string; tokenKind: string }): Outcome<Caller> {
    const orgId = this.orgId();
    if (!orgId) return failure(401, "Not authorized: unknown organisation");
    const token = identities.getToken(this.sql, claims.tokenId);
    if (!token || token.user_id !== claims.userId || token.kind !== claims.tokenKind) return failure(401, "Not authorized: unknown token");
    if (token.revoked_at !== null || token.archived_at !== null) return failure(401, "Not authorized: token revoked");
    if (token.is_active !== 1) return failure(401, "Not authorized: token deactivated");
    if (token.expires_at !== null && token.expires_at <= nowSeconds()) return failure(401, "Not authorized: token expired");
    const user = identities.getUser(this.sql, token.user_id);
    if (!user || user.is_active !== 1) return failure(401, "Not authorized: identity deactivated");

    let operations: Set<string>;
    if (token.kind === "Pat") {
      // A PAT can do what was assigned to it, and never more than its user can.
      const own = permissions.operationsOf(this.sql, [token.token_id]);
      const user = permissions.operationsOf(this.sql, [token.user_id]);
      operations = new Set([...own].filter((op) => user.has(op)));
    } else {
      operations = permissions.operationsOf(this.sql, [token.user_id, token.token_id]);
    }
    return success({
      orgId,
      userId: user.user_id,
      username: user.username,
      tokenId: token.token_id,
      tokenKind: token.kind,
      identityId: token.kind === "Pat" ? token.token_id : user.user_id,
      isServiceAccount: user.is_service_account === 1,
      operations: [...operations].sort(),
    });
  }

  /**
   * A state-changing request's two checks in one call (one Durable Object round trip instead of
   * two): the caller's token as resolveCaller, then — only for a caller that resolved — its user
   * action spent as consumeUserAction.
   */
  resolveCallerAndSpend(
    claims: { tokenId: string; userId: string; tokenKind: string },
    action: { token: string; method: string; path: string; payload: string },
  ): { caller: Outcome<Caller>; spent: Outcome<UserActionEvidence> | null } {
    const caller = this.resolveCaller(claims);
    if (!caller.ok) return { caller, spent: null };
    return { caller, spent: this.consumeUserAction({ ...action, tokenId: caller.value.tokenId }) };
  }

  private storedCredentials(ownerId: string): StoredCredential[] {
    return identities.credentialsOf(this.sql, ownerId, true).map((c) => ({
      credentialUuid: c.credential_uuid,
      credId: c.cred_id,
      kind: c.kind,
      publicKeyPem: c.public_key_pem,
      cosePublicKey: c.cose_public_key,
      signCount: c.sign_count,
    }));
  }

  private allowCredentials(ownerId: string): AllowCredentials {
    const creds = this.storedCredentials(ownerId);
    return {
      key: creds.filter((c) => c.kind === "Key").map((c) => ({ type: "public-key" as const, id: c.credId })),
      webauthn: creds.filter((c) => c.kind === "Fido2").map((c) => ({ type: "public-key" as const, id: c.credId })),
    };
  }

  /** A challenge with the subject's active credentials, for the Worker to verify an answer against. */
  pendingChallenge(challengeId: string, kind: challenges.ChallengeKind): Outcome<PendingChallenge> {
    const orgId = this.orgId();
    if (!orgId) return failure(404, "Challenge not found");
    const row = challenges.getChallenge(this.sql, challengeId);
    const problem = challenges.challengeProblem(row, kind, nowSeconds());
    if (problem || !row) return failure(401, problem ?? "Challenge not found");
    return success({
      challengeId: row.challenge_id,
      challenge: row.challenge,
      subject: row.subject,
      tokenId: row.token_id,
      credentialKind: row.credential_kind,
      method: row.method,
      path: row.path,
      payload: row.payload,
      nonce: row.nonce,
      expiresAt: row.expires_at,
      orgId,
      credentials: this.storedCredentials(row.subject),
    });
  }

  /**
   * Consumes a verified challenge answer: still unused and unexpired, credential still the
   * subject's and active, counter still increasing. Returns the challenge row on success.
   */
  private consumeAnswer(challengeId: string, kind: challenges.ChallengeKind, assertion: Assertion): Outcome<challenges.ChallengeRow> {
    const row = challenges.getChallenge(this.sql, challengeId);
    const problem = challenges.challengeProblem(row, kind, nowSeconds());
    if (problem || !row) return failure(401, problem ?? "Challenge not found");
    const credential = this.storedCredentials(row.subject).find((c) => c.credentialUuid === assertion.credentialUuid);
    if (!credential) return failure(401, "Credential not registered or not active");
    if (credential.kind === "Fido2") {
      const counter = counterProblem(credential.signCount, assertion.signCount);
      if (counter) return failure(401, counter);
      this.sql.exec("UPDATE credentials SET sign_count = ? WHERE credential_uuid = ?", assertion.signCount, credential.credentialUuid);
    }
    challenges.consumeChallenge(this.sql, challengeId, nowIso());
    return success(row);
  }

  // ── login ───────────────────────────────────────────────────────────────────────────────────

  loginChallenge(username: string): Outcome<{ challengeIdentifier: string; challenge: string; allowCredentials: AllowCredentials }> {
    if (!this.orgId()) return failure(401, "Not authorized");
    const user = identities.getUserByName(this.sql, username);
    // One message for every refusal: the endpoint must not reveal which usernames exist.
    if (!user || user.is_active !== 1 || user.is_registered !== 1 || user.is_service_account === 1) return failure(401, "Not authorized");
    const allowCredentials = this.allowCredentials(user.user_id);
    if (allowCredentials.key.length + allowCredentials.webauthn.length === 0) return failure(401, "Not authorized");
    const id = newId("ch");
    const issuedAt = nowSeconds();
    // A Login statement: a client can see it is being asked to log in, and no node accepts it as an action.
    const challenge = encodeChallenge({ kind: "Login", orgId: this.orgId()!, nonce: encodeBase64Url(randomBytes(16)), issuedAt, expiry: issuedAt + challenges.CHALLENGE_SECONDS });
    challenges.pruneExpired(this.sql, issuedAt);
    challenges.insertChallenge(this.sql, { id, kind: "Login", challenge, subject: user.user_id, expiresAt: issuedAt + challenges.CHALLENGE_SECONDS });
    return success({ challengeIdentifier: id, challenge, allowCredentials });
  }

  completeLogin(input: { challengeId: string; assertion: Assertion; tokenId: string; expiresAt: number }): Outcome<{ userId: string }> {
    return this.ctx.storage.transactionSync(() => {
      const answered = this.consumeAnswer(input.challengeId, "Login", input.assertion);
      if (!answered.ok) return answered;
      const user = identities.getUser(this.sql, answered.value.subject);
      if (!user || user.is_active !== 1) return failure(401, "Not authorized");
      identities.insertToken(this.sql, { tokenId: input.tokenId, kind: "Login", userId: user.user_id, expiresAt: input.expiresAt, now: nowIso() });
      return success({ userId: user.user_id });
    });
  }

  logout(caller: Caller, allSessions: boolean): Outcome<{ message: string }> {
    const now = nowIso();
    if (allSessions) identities.revokeTokensOfUser(this.sql, caller.userId, now, ["Login"]);
    this.sql.exec("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL", now, caller.tokenId);
    return success({ message: "User logged out" });
  }

  // ── user action signing ─────────────────────────────────────────────────────────────────────

  actionChallenge(
    caller: Caller,
    action: { method: string; path: string; payload: string },
  ): Outcome<{ challengeIdentifier: string; challenge: string; allowCredentials: AllowCredentials }> {
    const allowCredentials = this.allowCredentials(caller.identityId);
    if (allowCredentials.key.length + allowCredentials.webauthn.length === 0) return failure(403, "No active credential can sign for this identity");
    const id = newId("ch");
    const nonce = encodeBase64Url(randomBytes(16));
    const issuedAt = nowSeconds();
    const expiry = issuedAt + challenges.CHALLENGE_SECONDS;
    const challenge = userActionChallenge({ method: action.method, path: action.path, payload: action.payload, orgId: caller.orgId, subject: caller.identityId, nonce, issuedAt, expiry });
    challenges.pruneExpired(this.sql, nowSeconds());
    challenges.insertChallenge(this.sql, {
      id,
      kind: "UserAction",
      challenge,
      subject: caller.identityId,
      tokenId: caller.tokenId,
      method: action.method,
      path: action.path,
      payload: action.payload,
      nonce,
      expiresAt: expiry,
    });
    return success({ challengeIdentifier: id, challenge, allowCredentials });
  }

  /** Issues the single-use user action for a verified answer and keeps the evidence. */
  completeUserAction(caller: Caller, input: { challengeId: string; assertion: Assertion }): Outcome<{ userAction: string; actionId: string }> {
    return this.ctx.storage.transactionSync(() => {
      const pending = challenges.getChallenge(this.sql, input.challengeId);
      if (!pending || pending.kind !== "UserAction" || pending.token_id !== caller.tokenId) return failure(401, "Challenge not found");
      const answered = this.consumeAnswer(input.challengeId, "UserAction", input.assertion);
      if (!answered.ok) return answered;
      const row = answered.value;
      const credential = identities.credentialsOf(this.sql, row.subject, true).find((c) => c.credential_uuid === input.assertion.credentialUuid)!;
      const token = `ua-${encodeBase64Url(randomBytes(32))}`;
      const now = nowIso();
      const evidence: UserActionEvidence = {
        actionId: newId("ua"),
        orgId: caller.orgId,
        subject: row.subject,
        tokenId: caller.tokenId,
        method: row.method!,
        path: row.path!,
        payload: row.payload!,
        nonce: row.nonce!,
        expiry: row.expires_at,
        challenge: row.challenge,
        challengeIdentifier: row.challenge_id,
        credential: { credId: credential.cred_id, credentialUuid: credential.credential_uuid, kind: credential.kind, publicKey: credential.public_key_pem },
        assertion: {
          clientData: input.assertion.clientData,
          signature: input.assertion.signature,
          authenticatorData: input.assertion.authenticatorData,
          userHandle: input.assertion.userHandle,
        },
        signedAt: now,
      };
      challenges.insertUserAction(this.sql, {
        hash: challenges.hashActionToken(token),
        evidence,
        challengeId: row.challenge_id,
        expiresAt: nowSeconds() + challenges.USER_ACTION_SECONDS,
        now,
      });
      return success({ userAction: token, actionId: evidence.actionId });
    });
  }

  /**
   * Spends a user action on the request it was signed for: same caller token, method, path and
   * byte-identical body; unexpired; never used before. A mismatch leaves it unspent.
   */
  consumeUserAction(input: { token: string; tokenId: string; method: string; path: string; payload: string }): Outcome<UserActionEvidence> {
    const row = challenges.getUserActionByHash(this.sql, challenges.hashActionToken(input.token));
    if (!row) return failure(401, "User action signature is invalid");
    if (row.consumed_at !== null) return failure(401, "User action signature already used");
    if (row.expires_at <= nowSeconds()) return failure(401, "User action signature expired");
    if (row.token_id !== input.tokenId) return failure(403, "User action signature was issued to another caller");
    if (row.method !== input.method || row.path !== input.path) return failure(403, "User action signature does not match this request's method and path");
    if (!constantTimeEqual(row.payload, input.payload)) return failure(403, "User action signature does not match this request's body");
    this.sql.exec("UPDATE user_actions SET consumed_at = ? WHERE action_hash = ? AND consumed_at IS NULL", nowIso(), row.action_hash);
    return success(JSON.parse(row.evidence) as UserActionEvidence);
  }

  userActionEvidence(actionId: string): Outcome<UserActionEvidence & { consumedAt: string | null }> {
    const row = challenges.getUserActionById(this.sql, actionId);
    if (!row) return failure(404, "User action not found");
    return success({ ...(JSON.parse(row.evidence) as UserActionEvidence), consumedAt: row.consumed_at });
  }

  listUserActions(q: { since?: string; until?: string; subject?: string; limit: number }): (UserActionEvidence & { consumedAt: string | null; username: string | null })[] {
    return challenges.listUserActions(this.sql, q).map((row) => {
      const user = identities.getUser(this.sql, row.subject) ?? identities.getUser(this.sql, identities.getToken(this.sql, row.subject)?.user_id ?? "");
      return { ...(JSON.parse(row.evidence) as UserActionEvidence), consumedAt: row.consumed_at, username: user?.username ?? null };
    });
  }

  // ── users and registration ──────────────────────────────────────────────────────────────────

  listUsers(): { items: UserInfo[] } {
    const orgId = this.orgId()!;
    return { items: identities.listUsers(this.sql, false).map((u) => identities.userInfo(this.sql, orgId, u)) };
  }

  getUser(userId: string): Outcome<UserInfo> {
    const user = identities.getUser(this.sql, userId);
    if (!user) return failure(404, "User not found");
    return success(identities.userInfo(this.sql, this.orgId()!, user));
  }

  /** Creates an unregistered user and a registration code to hand over out of band. */
  createUser(input: { email: string; externalId: string | null }): Outcome<{ user: UserInfo; registrationCode: string }> {
    if (identities.usernameTaken(this.sql, input.email)) return failure(409, "A user with this username already exists");
    const registrationCode = encodeBase64Url(randomBytes(16));
    const userId = newId("us");
    identities.insertUser(this.sql, {
      userId,
      username: input.email,
      name: input.email,
      isServiceAccount: false,
      isRegistered: false,
      externalId: input.externalId,
      registrationCodeHash: hashSecret(registrationCode),
      now: nowIso(),
    });
    return success({ user: identities.userInfo(this.sql, this.orgId()!, identities.getUser(this.sql, userId)!), registrationCode });
  }

  private hasImmutableAssignment(identityId: string): boolean {
    return this.sql.exec("SELECT 1 FROM assignments WHERE identity_id = ? AND is_immutable = 1", identityId).toArray().length > 0;
  }

  /** Activates / deactivates / archives a user or service account; deactivation and archival cut its tokens. */
  setUserState(userId: string, serviceAccount: boolean, state: "active" | "inactive" | "archived"): Outcome<identities.UserRow> {
    const user = identities.getUser(this.sql, userId);
    if (!user || (user.is_service_account === 1) !== serviceAccount) return failure(404, serviceAccount ? "Service account not found" : "User not found");
    if (state !== "active" && this.hasImmutableAssignment(userId)) return failure(403, "The organisation's root identities cannot be deactivated");
    const now = nowIso();
    this.ctx.storage.transactionSync(() => {
      if (state === "archived") {
        this.sql.exec("UPDATE users SET is_active = 0, archived_at = ? WHERE user_id = ?", now, userId);
        identities.revokeTokensOfUser(this.sql, userId, now, ["Login", "ServiceAccount", "Pat"]);
      } else {
        this.sql.exec("UPDATE users SET is_active = ? WHERE user_id = ?", state === "active" ? 1 : 0, userId);
        if (state === "inactive") identities.revokeTokensOfUser(this.sql, userId, now, ["Login"]);
      }
    });
    return success(identities.getUser(this.sql, userId) ?? { ...user, is_active: 0, archived_at: now });
  }

  setUserActive(userId: string, active: boolean): Outcome<UserInfo> {
    const r = this.setUserState(userId, false, active ? "active" : "inactive");
    return r.ok ? success(identities.userInfo(this.sql, this.orgId()!, r.value)) : r;
  }

  archiveUser(userId: string): Outcome<UserInfo> {
    const r = this.setUserState(userId, false, "archived");
    return r.ok ? success(identities.userInfo(this.sql, this.orgId()!, r.value)) : r;
  }

  registrationChallenge(input: { username: string; registrationCode: string }): Outcome<{ challengeIdentifier: string; challenge: string; user: { id: string; displayName: string; name: string }; orgId: string }> {
    const orgId = this.orgId();
    if (!orgId) return failure(401, "Not authorized");
    const user = identities.getUserByName(this.sql, input.username);
    if (!user || user.is_registered === 1 || user.registration_code_hash === null || !constantTimeEqual(user.registration_code_hash, hashSecret(input.registrationCode))) {
      return failure(401, "Invalid username or registration code");
    }
    const id = newId("ch");
    const challenge = encodeBase64Url(randomBytes(32));
    challenges.insertChallenge(this.sql, { id, kind: "Registration", challenge, subject: user.user_id, expiresAt: nowSeconds() + challenges.CHALLENGE_SECONDS });
    return success({ challengeIdentifier: id, challenge, user: { id: user.user_id, displayName: user.name, name: user.username }, orgId });
  }

  completeRegistration(input: { challengeId: string; credential: NewCredential }): Outcome<{ credential: { uuid: string; kind: string; name: string }; user: { id: string; username: string; orgId: string } }> {
    return this.ctx.storage.transactionSync(() => {
      const row = challenges.getChallenge(this.sql, input.challengeId);
      const problem = challenges.challengeProblem(row, "Registration", nowSeconds());
      if (problem || !row) return failure(401, problem ?? "Challenge not found");
      const user = identities.getUser(this.sql, row.subject);
      if (!user || user.is_registered === 1) return failure(409, "User already registered");
      if (identities.credentialIdTaken(this.sql, input.credential.credId)) return failure(409, "Credential id already registered");
      const uuid = newId("cr");
      const now = nowIso();
      identities.insertCredential(this.sql, { ...input.credential, credentialUuid: uuid, ownerId: user.user_id, now });
      this.sql.exec("UPDATE users SET is_registered = 1, registration_code_hash = NULL WHERE user_id = ?", user.user_id);
      challenges.consumeChallenge(this.sql, row.challenge_id, now);
      return success({ credential: { uuid, kind: input.credential.kind, name: input.credential.name }, user: { id: user.user_id, username: user.username, orgId: this.orgId()! } });
    });
  }

  // ── credentials of the caller ───────────────────────────────────────────────────────────────

  credentialChallenge(caller: Caller, kind: "Key" | "Fido2"): Outcome<{ challengeIdentifier: string; challenge: string; user: { id: string; displayName: string; name: string }; excludeCredentials: { type: "public-key"; id: string }[] }> {
    const id = newId("ch");
    const challenge = encodeBase64Url(randomBytes(32));
    challenges.insertChallenge(this.sql, { id, kind: "Credential", challenge, subject: caller.identityId, tokenId: caller.tokenId, credentialKind: kind, expiresAt: nowSeconds() + challenges.CHALLENGE_SECONDS });
    const existing = identities.credentialsOf(this.sql, caller.identityId, false).map((c) => ({ type: "public-key" as const, id: c.cred_id }));
    return success({ challengeIdentifier: id, challenge, user: { id: caller.userId, displayName: caller.username, name: caller.username }, excludeCredentials: existing });
  }

  completeCredential(caller: Caller, input: { challengeId: string; credential: NewCredential }): Outcome<CredentialInfo> {
    return this.ctx.storage.transactionSync(() => {
      const row = challenges.getChallenge(this.sql, input.challengeId);
      const problem = challenges.challengeProblem(row, "Credential", nowSeconds());
      if (problem || !row || row.token_id !== caller.tokenId) return failure(401, problem ?? "Challenge not found");
      if (row.credential_kind !== input.credential.kind) return failure(400, "Credential kind differs from the challenge's");
      if (identities.credentialIdTaken(this.sql, input.credential.credId)) return failure(409, "Credential id already registered");
      const uuid = newId("cr");
      const now = nowIso();
      identities.insertCredential(this.sql, { ...input.credential, credentialUuid: uuid, ownerId: row.subject, now });
      challenges.consumeChallenge(this.sql, row.challenge_id, now);
      return success(identities.credentialInfo(identities.credentialsOf(this.sql, row.subject, false).find((c) => c.credential_uuid === uuid)!));
    });
  }

  listCredentials(caller: Caller): { items: CredentialInfo[] } {
    return { items: identities.credentialsOf(this.sql, caller.identityId, false).map(identities.credentialInfo) };
  }

  setCredentialActive(caller: Caller, credentialUuid: string, active: boolean): Outcome<{ message: string }> {
    const credential = identities.credentialsOf(this.sql, caller.identityId, false).find((c) => c.credential_uuid === credentialUuid);
    if (!credential) return failure(404, "Credential not found");
    if (!active && identities.credentialsOf(this.sql, caller.identityId, true).filter((c) => c.credential_uuid !== credentialUuid).length === 0) {
      return failure(409, "Cannot deactivate the last active credential");
    }
    this.sql.exec("UPDATE credentials SET is_active = ? WHERE credential_uuid = ?", active ? 1 : 0, credentialUuid);
    return success({ message: active ? "Credential activated" : "Credential deactivated" });
  }

  // ── service accounts ────────────────────────────────────────────────────────────────────────

  private insertServiceAccount(input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null }, now: string) {
    const userId = newId("us");
    const tokenId = newId("to");
    const credId = encodeBase64Url(randomBytes(18));
    identities.insertUser(this.sql, { userId, username: `${input.name} (${userId})`, name: input.name, isServiceAccount: true, isRegistered: true, externalId: input.externalId, now });
    identities.insertCredential(this.sql, { credentialUuid: newId("cr"), credId, ownerId: userId, kind: "Key", name: input.name, publicKeyPem: input.publicKeyPem, now });
    identities.insertToken(this.sql, { tokenId, kind: "ServiceAccount", userId, name: input.name, externalId: input.externalId, credId, expiresAt: input.expiresAt, now });
    return { userId, tokenId, credId };
  }

  private activePermission(permissionId: string): Outcome<PermissionInfo> {
    const permission = permissions.getPermission(this.sql, permissionId);
    if (!permission) return failure(404, "Permission not found");
    if (permission.isArchived) return failure(409, "Permission is archived");
    return success(permission);
  }

  createServiceAccount(input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null; permissionId: string | null }): Outcome<{ account: ServiceAccountInfo; tokenId: string }> {
    if (input.permissionId) {
      const p = this.activePermission(input.permissionId);
      if (!p.ok) return p;
    }
    return this.ctx.storage.transactionSync(() => {
      const now = nowIso();
      const sa = this.insertServiceAccount(input, now);
      if (input.permissionId) permissions.insertAssignment(this.sql, { id: newId("as"), permissionId: input.permissionId, identityId: sa.userId, immutable: false, now });
      return success({ account: identities.serviceAccountInfo(this.sql, this.orgId()!, identities.getUser(this.sql, sa.userId)!), tokenId: sa.tokenId });
    });
  }

  private serviceAccountUser(id: string): identities.UserRow | null {
    // Accept the account's user id or the id of one of its tokens.
    const direct = identities.getUser(this.sql, id);
    const user = direct ?? identities.getUser(this.sql, identities.getToken(this.sql, id)?.user_id ?? "");
    return user && user.is_service_account === 1 ? user : null;
  }

  listServiceAccounts(): { items: ServiceAccountInfo[] } {
    const orgId = this.orgId()!;
    return { items: identities.listUsers(this.sql, true).map((u) => identities.serviceAccountInfo(this.sql, orgId, u)) };
  }

  getServiceAccount(id: string): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    return success(identities.serviceAccountInfo(this.sql, this.orgId()!, user));
  }

  updateServiceAccount(id: string, change: { name?: string; externalId?: string }): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    if (change.name !== undefined) this.sql.exec("UPDATE users SET name = ? WHERE user_id = ?", change.name, user.user_id);
    if (change.externalId !== undefined) this.sql.exec("UPDATE users SET external_id = ? WHERE user_id = ?", change.externalId, user.user_id);
    return success(identities.serviceAccountInfo(this.sql, this.orgId()!, identities.getUser(this.sql, user.user_id)!));
  }

  setServiceAccountState(id: string, state: "active" | "inactive" | "archived"): Outcome<ServiceAccountInfo> {
    const user = this.serviceAccountUser(id);
    if (!user) return failure(404, "Service account not found");
    const r = this.setUserState(user.user_id, true, state);
    if (!r.ok) return r;
    return success(identities.serviceAccountInfo(this.sql, this.orgId()!, r.value));
  }

  // ── personal access tokens ──────────────────────────────────────────────────────────────────

  createPat(caller: Caller, input: { name: string; publicKeyPem: string; externalId: string | null; expiresAt: number | null; permissionId: string | null }): Outcome<AccessTokenInfo> {
    if (input.permissionId) {
      const p = this.activePermission(input.permissionId);
      if (!p.ok) return p;
    }
    return this.ctx.storage.transactionSync(() => {
      const now = nowIso();
      const tokenId = newId("to");
      const credId = encodeBase64Url(randomBytes(18));
      identities.insertToken(this.sql, { tokenId, kind: "Pat", userId: caller.userId, name: input.name, externalId: input.externalId, credId, expiresAt: input.expiresAt, now });
      identities.insertCredential(this.sql, { credentialUuid: newId("cr"), credId, ownerId: tokenId, kind: "Key", name: input.name, publicKeyPem: input.publicKeyPem, now });
      if (input.permissionId) permissions.insertAssignment(this.sql, { id: newId("as"), permissionId: input.permissionId, identityId: tokenId, immutable: false, now });
      return success(identities.accessTokenInfo(this.sql, this.orgId()!, identities.getToken(this.sql, tokenId)!));
    });
  }

  private patOf(caller: Caller, tokenId: string): identities.TokenRow | null {
    const token = identities.getToken(this.sql, tokenId);
    return token && token.kind === "Pat" && token.user_id === caller.userId && token.archived_at === null ? token : null;
  }

  listPats(caller: Caller): { items: AccessTokenInfo[] } {
    const orgId = this.orgId()!;
    return { items: identities.tokensOfUser(this.sql, caller.userId, "Pat").map((t) => identities.accessTokenInfo(this.sql, orgId, t)) };
  }

  getPat(caller: Caller, tokenId: string): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    return success(identities.accessTokenInfo(this.sql, this.orgId()!, token));
  }

  updatePat(caller: Caller, tokenId: string, change: { name?: string; externalId?: string }): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    if (change.name !== undefined) this.sql.exec("UPDATE tokens SET name = ? WHERE token_id = ?", change.name, tokenId);
    if (change.externalId !== undefined) this.sql.exec("UPDATE tokens SET external_id = ? WHERE token_id = ?", change.externalId, tokenId);
    return success(identities.accessTokenInfo(this.sql, this.orgId()!, identities.getToken(this.sql, tokenId)!));
  }

  setPatState(caller: Caller, tokenId: string, state: "active" | "inactive" | "archived"): Outcome<AccessTokenInfo> {
    const token = this.patOf(caller, tokenId);
    if (!token) return failure(404, "Personal access token not found");
    const now = nowIso();
    if (state === "archived") this.sql.exec("UPDATE tokens SET is_active = 0, archived_at = ?, revoked_at = COALESCE(revoked_at, ?) WHERE token_id = ?", now, now, tokenId);
    else this.sql.exec("UPDATE tokens SET is_active = ? WHERE token_id = ?", state === "active" ? 1 : 0, tokenId);
    return success(identities.accessTokenInfo(this.sql, this.orgId()!, identities.getToken(this.sql, tokenId)!));
  }

  // ── permissions ─────────────────────────────────────────────────────────────────────────────

  createPermission(input: { name: string; operations: string[] }): Outcome<PermissionInfo> {
    return success(permissions.insertPermission(this.sql, { id: newId("pm"), name: input.name, operations: input.operations, immutable: false, now: nowIso() }));
  }

  listPermissions(): { items: PermissionInfo[] } {
    return { items: permissions.listPermissions(this.sql) };
  }

  getPermission(permissionId: string): Outcome<PermissionInfo> {
    const p = permissions.getPermission(this.sql, permissionId);
    return p ? success(p) : failure(404, "Permission not found");
  }

  updatePermission(permissionId: string, change: { name?: string; operations?: string[]; isArchived?: boolean }): Outcome<PermissionInfo> {
    const p = permissions.getPermission(this.sql, permissionId);
    if (!p) return failure(404, "Permission not found");
    if (p.isImmutable) return failure(403, "Permission is immutable");
    permissions.updatePermission(this.sql, permissionId, change, nowIso());
    return success(permissions.getPermission(this.sql, permissionId)!);
  }

  /** The kind of identity an id names in this org, if any: users, service accounts and PATs can hold permissions. */
  private identityExists(identityId: string): boolean {
    if (identities.getUser(this.sql, identityId)) return true;
    const token = identities.getToken(this.sql, identityId);
    return token !== null && token.kind !== "Login" && token.archived_at === null;
  }

  assignPermission(permissionId: string, identityId: string): Outcome<AssignmentInfo> {
    const p = this.activePermission(permissionId);
    if (!p.ok) return p;
    if (!this.identityExists(identityId)) return failure(404, "Identity not found");
    if (permissions.findAssignment(this.sql, permissionId, identityId)) return failure(409, "Permission already assigned to this identity");
    return success(permissions.insertAssignment(this.sql, { id: newId("as"), permissionId, identityId, immutable: false, now: nowIso() }));
  }

  listAssignments(permissionId: string): Outcome<{ items: AssignmentInfo[] }> {
    if (!permissions.getPermission(this.sql, permissionId)) return failure(404, "Permission not found");
    return success({ items: permissions.listAssignments(this.sql, permissionId) });
  }

  revokeAssignment(permissionId: string, assignmentId: string): Outcome<{ id: string }> {
    const a = permissions.getAssignment(this.sql, assignmentId);
    if (!a || a.permissionId !== permissionId) return failure(404, "Assignment not found");
    if (a.isImmutable) return failure(403, "Assignment is immutable");
    permissions.deleteAssignment(this.sql, assignmentId);
    return success({ id: assignmentId });
  }
}
