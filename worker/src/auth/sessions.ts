// Layer 1's live state in an organisation: who a token belongs to and what it may do (callers),
// challenges and their answers, login sessions, and single-use user actions with their evidence.
// Signature verification happens in the Worker before calling in; these methods re-check
// everything that could have changed meanwhile (challenge still unused, credential still active,
// counter still increasing). Part of the org's Durable Object (worker/src/orgs/org.ts).
import { encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import { decodeChallenge, encodeChallenge, type UserActionClaims } from "../../../shared/src/dfns/user-action.js";
import type { AllowCredentials, UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import type { Env } from "../env.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { newId, randomBytes } from "../orgs/ids.js";
import { nowIso, nowSeconds, type OrgStorage } from "../orgs/storage.js";
import type { Grants } from "../permissions/grants.js";
import * as challenges from "./challenge-store.js";
import * as identities from "./identity-store.js";
import { openUserActionToken, type UserActionToken } from "./user-action-token.js";

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
  /**
   * The identity's active credentials when the token was resolved, with their public keys: the
   * allowCredentials a user-action challenge offers, and what POST /auth/action verifies the
   * answer against in the Worker. A credential deactivated since cannot spend what it signed: the
   * spend checks it is active then (spendUserAction).
   */
  activeCredentials: StoredCredential[];
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

/** The credentials a challenge offers the client to sign with (Dfns's allowCredentials). */
export function allowCredentials(creds: StoredCredential[]): AllowCredentials {
  return {
    key: creds.filter((c) => c.kind === "Key").map((c) => ({ type: "public-key" as const, id: c.credId })),
    webauthn: creds.filter((c) => c.kind === "Fido2").map((c) => ({ type: "public-key" as const, id: c.credId })),
  };
}

/** A user-action token whose MAC checked, with its challenge decoded and the hashes the spend compares. */
interface OpenedAction {
  action: UserActionToken;
  claims: UserActionClaims;
  tokenHash: string;
  bodyHash: string;
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

export interface Assertion {
  credentialUuid: string;
  /** The authenticator's new signature counter (WebAuthn); 0 for key credentials. */
  signCount: number;
  clientData: string;
  signature: string;
  authenticatorData: string | null;
  userHandle: string | null;
}

/** WebAuthn's rule: once a counter is in use it must strictly increase. */
function counterProblem(stored: number, presented: number): string | null {
  if ((stored > 0 || presented > 0) && presented <= stored) return "Authenticator counter did not increase (possible cloned credential)";
  return null;
}

const CALLER_CACHE_SIZE = 1024;

export class Sessions {
  constructor(
    private readonly org: OrgStorage,
    private readonly grants: Grants,
  ) {}

  // Resolutions by token id, so that a token's every request costs a map lookup and an expiry
  // check instead of three queries and its permissions' JSON (and active credentials by owner, so
  // a user action does not read them three times). Neither can answer for a revoked or deactivated
  // token, a withdrawn permission or a deactivated credential: this object is the only writer of
  // the tables they are read from, and every statement that could write one of them (anything but
  // a read or a challenge / user-action write) empties both before it runs (orgs/org.ts,
  // storage.ts watchIdentityWrites); nothing read until that synchronous run ends (and its
  // transaction commits or rolls back) is kept. Expiry, the one thing that changes without a
  // write, is checked on every hit. Failures are not kept.
  private readonly callers = new Map<string, { caller: Caller; expiresAt: number | null; version: string }>();
  // Each kept resolution has a version no other ever has (this object's random prefix and a
  // counter), so the Worker can ask "still the one you told me?" and be sent the caller only when
  // it changed (resolveFor): its 141 operations are not serialised on every request.
  private readonly instance = encodeBase64Url(randomBytes(9));
  private versions = 0;
  /** Active credentials by owner, kept and emptied exactly like the callers. */
  private readonly credentials = new Map<string, StoredCredential[]>();

  private prunedAt = 0;

  /** Drops long-expired challenges, at most once a minute (a DELETE on every challenge was measurable). */
  private pruneNowAndThen(now: number): void {
    if (now - this.prunedAt < 60) return;
    this.prunedAt = now;
    challenges.pruneExpired(this.org.sql, now);
  }

  // Set from a change until the end of the synchronous run that made it: what is read meanwhile
  // may belong to a transaction that is still to commit or roll back, so it is not kept.
  private changing = false;

  /** Empties the resolutions and credentials (called before any write that may change one). */
  forgetCallers(): void {
    this.callers.clear();
    this.credentials.clear();
    if (!this.changing) {
      this.changing = true;
      queueMicrotask(() => {
        this.changing = false;
      });
    }
  }

  /**
   * Checks, on every request, that the token is still good and says what its holder may do, for a
   * Worker that may already hold this token's resolution: the caller comes back with its version,
   * or null in its place when `knownVersion` is the current one (the Worker's copy is then exactly
   * what this object would send).
   */
  resolveFor(claims: { tokenId: string; userId: string; tokenKind: string }, knownVersion?: string): Outcome<{ version: string; caller: Caller | null }> {
    const hit = this.callers.get(claims.tokenId);
    if (hit && hit.caller.userId === claims.userId && hit.caller.tokenKind === claims.tokenKind && (hit.expiresAt === null || hit.expiresAt > nowSeconds())) {
      return success({ version: hit.version, caller: knownVersion === hit.version ? null : hit.caller });
    }
    const resolved = this.resolveFromTables(claims);
    if (!resolved.ok) return resolved;
    // Not kept while a change is under way: then it has no version either ("" matches nothing).
    let version = "";
    if (!this.changing) {
      version = `${this.instance}.${++this.versions}`;
      if (this.callers.size >= CALLER_CACHE_SIZE) this.callers.delete(this.callers.keys().next().value!);
      this.callers.set(claims.tokenId, { ...resolved.value, version });
    }
    return success({ version, caller: resolved.value.caller });
  }

  private resolveFromTables(claims: { tokenId: string; userId: string; tokenKind: string }): Outcome<{ caller: Caller; expiresAt: number | null }> {
    const orgId = this.org.orgId();
    if (!orgId) return failure(401, "Not authorized: unknown organisation");
    const token = identities.getToken(this.org.sql, claims.tokenId);
    if (!token || token.user_id !== claims.userId || token.kind !== claims.tokenKind) return failure(401, "Not authorized: unknown token");
    if (token.revoked_at !== null || token.archived_at !== null) return failure(401, "Not authorized: token revoked");
    if (token.is_active !== 1) return failure(401, "Not authorized: token deactivated");
    if (token.expires_at !== null && token.expires_at <= nowSeconds()) return failure(401, "Not authorized: token expired");
    const user = identities.getUser(this.org.sql, token.user_id);
    if (!user || user.is_active !== 1) return failure(401, "Not authorized: identity deactivated");

    let operations: Set<string>;
    if (token.kind === "Pat") {
      // A PAT can do what was assigned to it, and never more than its user can.
      const own = this.grants.operationsOf([token.token_id]);
      const user = this.grants.operationsOf([token.user_id]);
      operations = new Set([...own].filter((op) => user.has(op)));
    } else {
      operations = this.grants.operationsOf([token.user_id, token.token_id]);
    }
    const caller: Caller = {
      orgId,
      userId: user.user_id,
      username: user.username,
      tokenId: token.token_id,
      tokenKind: token.kind,
      identityId: token.kind === "Pat" ? token.token_id : user.user_id,
      isServiceAccount: user.is_service_account === 1,
      operations: [...operations].sort(),
      activeCredentials: this.storedCredentials(token.kind === "Pat" ? token.token_id : user.user_id),
    };
    return success({ caller, expiresAt: token.expires_at });
  }

  /**
   * A state-changing request's two checks in one call (one Durable Object round trip instead of
   * two): the caller's token as resolveFor, then — only for a caller that resolved — its user
   * action spent as consumeUserAction.
   */
  async resolveCallerAndSpend(
    env: Env,
    claims: { tokenId: string; userId: string; tokenKind: string },
    action: { token: string; method: string; path: string; payload: string },
    knownVersion?: string,
  ): Promise<{ caller: Outcome<{ version: string; caller: Caller | null }>; spent: Outcome<UserActionEvidence> | null }> {
    const opened = await this.openForSpend(env, action.token, action.payload);
    // From here on synchronous: the caller resolved and the action spent with nothing in between.
    const caller = this.resolveFor(claims, knownVersion);
    if (!caller.ok) return { caller, spent: null };
    return { caller, spent: this.spendUserAction(opened, { ...action, tokenId: claims.tokenId }) };
  }

  /** The owner's active credentials (kept like the callers, emptied by the same writes; callers must not change the array). */
  storedCredentials(ownerId: string): StoredCredential[] {
    let known = this.credentials.get(ownerId);
    if (!known) {
      known = this.credentialsFromTable(ownerId);
      if (this.changing) return known;
      if (this.credentials.size >= CALLER_CACHE_SIZE) this.credentials.delete(this.credentials.keys().next().value!);
      this.credentials.set(ownerId, known);
    }
    return known;
  }

  private credentialsFromTable(ownerId: string): StoredCredential[] {
    return identities.credentialsOf(this.org.sql, ownerId, true).map((c) => ({
      credentialUuid: c.credential_uuid,
      credId: c.cred_id,
      kind: c.kind,
      publicKeyPem: c.public_key_pem,
      cosePublicKey: c.cose_public_key,
      signCount: c.sign_count,
    }));
  }

  /** A challenge with the subject's active credentials, for the Worker to verify an answer against. */
  pendingChallenge(challengeId: string, kind: challenges.ChallengeKind): Outcome<PendingChallenge> {
    const orgId = this.org.orgId();
    if (!orgId) return failure(404, "Challenge not found");
    const row = challenges.getChallenge(this.org.sql, challengeId);
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
   * subject's and active, counter still increasing. Returns the challenge row and the credential on success.
   */
  consumeAnswer(challengeId: string, kind: challenges.ChallengeKind, assertion: Assertion): Outcome<{ row: challenges.ChallengeRow; credential: StoredCredential }> {
    const row = challenges.getChallenge(this.org.sql, challengeId);
    const problem = challenges.challengeProblem(row, kind, nowSeconds());
    if (problem || !row) return failure(401, problem ?? "Challenge not found");
    const credential = this.signingCredential(row.subject, assertion.credentialUuid, assertion.signCount);
    if (!credential.ok) return credential;
    challenges.consumeChallenge(this.org.sql, challengeId, nowIso());
    return success({ row, credential: credential.value });
  }

  /**
   * The subject's credential that signed, if it is still active; a passkey's counter must still be
   * increasing and is advanced to `signCount` (inside the caller's transaction).
   */
  private signingCredential(subject: string, credentialUuid: string, signCount: number): Outcome<StoredCredential> {
    const credential = this.storedCredentials(subject).find((c) => c.credentialUuid === credentialUuid);
    if (!credential) return failure(401, "Credential not registered or not active");
    if (credential.kind === "Fido2") {
      const counter = counterProblem(credential.signCount, signCount);
      if (counter) return failure(401, counter);
      this.org.sql.exec("UPDATE credentials SET sign_count = ? WHERE credential_uuid = ?", signCount, credential.credentialUuid);
    }
    return success(credential);
  }

  // ── login ──

  loginChallenge(username: string): Outcome<{ challengeIdentifier: string; challenge: string; allowCredentials: AllowCredentials }> {
    if (!this.org.orgId()) return failure(401, "Not authorized");
    const user = identities.getUserByName(this.org.sql, username);
    // One message for every refusal: the endpoint must not reveal which usernames exist.
    if (!user || user.is_active !== 1 || user.is_registered !== 1 || user.is_service_account === 1) return failure(401, "Not authorized");
    const credentials = this.storedCredentials(user.user_id);
    if (credentials.length === 0) return failure(401, "Not authorized");
    const id = newId("ch");
    const issuedAt = nowSeconds();
    // A Login statement: a client can see it is being asked to log in, and no node accepts it as an action.
    const challenge = encodeChallenge({ kind: "Login", orgId: this.org.orgId()!, nonce: encodeBase64Url(randomBytes(16)), issuedAt, expiry: issuedAt + challenges.CHALLENGE_SECONDS });
    this.pruneNowAndThen(issuedAt);
    challenges.insertChallenge(this.org.sql, { id, kind: "Login", challenge, subject: user.user_id, expiresAt: issuedAt + challenges.CHALLENGE_SECONDS });
    return success({ challengeIdentifier: id, challenge, allowCredentials: allowCredentials(credentials) });
  }

  completeLogin(input: { challengeId: string; assertion: Assertion; tokenId: string; expiresAt: number }): Outcome<{ userId: string }> {
    return this.org.transaction(() => {
      const answered = this.consumeAnswer(input.challengeId, "Login", input.assertion);
      if (!answered.ok) return answered;
      const user = identities.getUser(this.org.sql, answered.value.row.subject);
      if (!user || user.is_active !== 1) return failure(401, "Not authorized");
      identities.insertToken(this.org.sql, { tokenId: input.tokenId, kind: "Login", userId: user.user_id, expiresAt: input.expiresAt, now: nowIso() });
      return success({ userId: user.user_id });
    });
  }

  logout(caller: Caller, allSessions: boolean): Outcome<{ message: string }> {
    const now = nowIso();
    if (allSessions) identities.revokeTokensOfUser(this.org.sql, caller.userId, now, ["Login"]);
    this.org.sql.exec("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL", now, caller.tokenId);
    return success({ message: "User logged out" });
  }

  // ── user actions ──
  // POST /auth/action/init and POST /auth/action run in the Worker with no call here: the
  // challenge is sealed (challenge-seal.ts), the answer verified against the caller's credentials
  // and the action issued as a sealed token (user-action-token.ts). What only this object can
  // decide is decided when the action is spent, in one synchronous transaction.

  /**
   * Spends a user action on the request it was signed for (see spendUserAction). A mismatch
   * leaves it unspent. The evidence then carries the exact body (the nodes re-derive its hash).
   */
  async consumeUserAction(env: Env, input: { token: string; tokenId: string; method: string; path: string; payload: string }): Promise<Outcome<UserActionEvidence>> {
    return this.spendUserAction(await this.openForSpend(env, input.token, input.payload), input);
  }

  /** The asynchronous part of a spend, done before the synchronous one: the MAC, the hashes, the challenge decoded. */
  private async openForSpend(env: Env, token: string, payload: string): Promise<OpenedAction | null> {
    const [action, tokenHash, bodyHash] = await Promise.all([openUserActionToken(env, token), challenges.hashActionToken(token), challenges.sha256Hex(payload)]);
    const claims = action ? decodeChallenge(action.challenge) : null;
    if (!action || claims?.kind !== "UserAction") return null;
    return { action, claims, tokenHash, bodyHash };
  }

  /**
   * The spend, synchronous and in one transaction: a token this deployment sealed, for this org,
   * unexpired, presented by the token it was issued to, for this method, path and a body whose
   * SHA-256 is the one the credential signed; the credential still active now (one deactivated
   * after POST /auth/action cannot spend) and its passkey counter still increasing; the challenge
   * never spent before — it is recorded as spent here, so neither a second spend of the token nor
   * another token from the same challenge (each answer to it yields one) goes through. The action
   * is kept with its evidence (GET /auth/action/logs).
   */
  private spendUserAction(opened: OpenedAction | null, input: { tokenId: string; method: string; path: string; payload: string }): Outcome<UserActionEvidence> {
    // One message for a token that is not ours, or not this org's: it names nothing here.
    if (!opened || opened.claims.orgId !== this.org.orgId()) return failure(401, "User action signature is invalid");
    const { action, claims } = opened;
    return this.org.transaction(() => {
      if (challenges.getChallenge(this.org.sql, action.challengeIdentifier)) return failure(401, "User action signature already used");
      const now = nowSeconds();
      if (action.expiresAt <= now) return failure(401, "User action signature expired");
      if (action.tokenId !== input.tokenId) return failure(403, "User action signature was issued to another caller");
      if (claims.method !== input.method || claims.path !== input.path) return failure(403, "User action signature does not match this request's method and path");
      if (!constantTimeEqual(claims.bodySha256, opened.bodyHash)) return failure(403, "User action signature does not match this request's body");
      const signing = this.signingCredential(claims.subject, action.credentialUuid, action.signCount);
      if (!signing.ok) return signing;
      const credential = signing.value;
      const spentAt = nowIso();
      // The single-use record, kept until a day past the challenge's expiry (pruneExpired), which
      // is after the token's own expiry (at most 5 minutes after the challenge's).
      this.pruneNowAndThen(now);
      challenges.insertChallenge(this.org.sql, {
        id: action.challengeIdentifier,
        kind: "UserAction",
        challenge: action.challenge,
        subject: claims.subject,
        tokenId: action.tokenId,
        method: claims.method,
        path: claims.path,
        nonce: claims.nonce,
        expiresAt: claims.expiry,
        consumedAt: spentAt,
      });
      const evidence: UserActionEvidence = {
        actionId: action.actionId,
        orgId: claims.orgId,
        subject: claims.subject,
        tokenId: action.tokenId,
        method: claims.method,
        path: claims.path,
        payload: input.payload,
        nonce: claims.nonce,
        expiry: claims.expiry,
        challenge: action.challenge,
        challengeIdentifier: action.challengeIdentifier,
        credential: { credId: credential.credId, credentialUuid: credential.credentialUuid, kind: credential.kind, publicKey: credential.publicKeyPem },
        assertion: action.assertion,
        signedAt: action.signedAt,
      };
      challenges.insertUserAction(this.org.sql, { hash: opened.tokenHash, evidence, bodySha256: claims.bodySha256, challengeId: action.challengeIdentifier, expiresAt: action.expiresAt, spentAt });
      return success(evidence);
    });
  }

  userActionEvidence(actionId: string): Outcome<UserActionEvidence & { consumedAt: string | null }> {
    const row = challenges.getUserActionById(this.org.sql, actionId);
    if (!row) return failure(404, "User action not found");
    return success({ ...(JSON.parse(row.evidence) as UserActionEvidence), consumedAt: row.consumed_at });
  }

  listUserActions(q: { since?: string; until?: string; subject?: string; limit: number }): (UserActionEvidence & { consumedAt: string | null; username: string | null })[] {
    return challenges.listUserActions(this.org.sql, q).map((row) => {
      const user = identities.getUser(this.org.sql, row.subject) ?? identities.getUser(this.org.sql, identities.getToken(this.org.sql, row.subject)?.user_id ?? "");
      return { ...(JSON.parse(row.evidence) as UserActionEvidence), consumedAt: row.consumed_at, username: user?.username ?? null };
    });
  }
}
