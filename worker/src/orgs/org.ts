// One Durable Object per organisation, SQLite-backed. Each layer owns its state on the object's
// SQLite and its rules in its own folder; this class creates the org and routes the object's RPC
// methods (what the Worker's routes call) to the layer that answers them:
//   auth/sessions.ts       callers (token → identity → operations), challenges, logins, user actions
//   auth/directory.ts      users and registration, credentials, service accounts, PATs
//   permissions/grants.ts  permissions and assignments
//   governance/log-store.ts the governance log the share holders replay
// Every method runs synchronously against SQLite, so each one is atomic with respect to every other
// request (no await between a check and the write it guards).
import { DurableObject } from "cloudflare:workers";
import { encodeBase64Url } from "../../../shared/src/dfns/base64url.js";
import { DFNS_OPERATIONS } from "../../../shared/src/dfns/operations.js";
import type { ServiceAccountInfo, UserActionEvidence, UserInfo } from "../../../shared/src/dfns/wire.js";
import { Directory } from "../auth/directory.js";
import * as identities from "../auth/identity-store.js";
import { Sessions } from "../auth/sessions.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { Grants } from "../permissions/grants.js";
import * as permissions from "../permissions/store.js";
import { newId, randomBytes } from "./ids.js";
import { migrate } from "./schema.js";
import { nowIso, watchIdentityWrites, type OrgStorage } from "./storage.js";
import { effectOf, genesisOf, GovernanceLog } from "../governance/log-store.js";
import { shareHoldersOf } from "../signing/share-holders.js";
import type { GovernanceState } from "../../../shared/src/governance/log.js";
import type { GovernanceEntry, GovernanceHead } from "../../../shared/src/governance/log.js";
import type { FeeCeiling } from "../../../shared/src/chains/evm/fees.js";

export type { Assertion, Caller, PendingChallenge, StoredCredential } from "../auth/sessions.js";
export type { NewCredential } from "../auth/directory.js";

const ALL_OPERATIONS: string[] = [...DFNS_OPERATIONS];
const ROOT_PERMISSION_NAME = "Root (all operations, immutable)";

export class Org extends DurableObject<Cloudflare.Env> {
  private readonly sql: SqlStorage;
  private readonly storage: OrgStorage;
  private readonly sessions: Sessions;
  private readonly directory: Directory;
  private readonly grants: Grants;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    // Every statement of every layer goes through this one handle, so the resolved callers
    // (auth/sessions.ts) are forgotten before anything they depend on can change.
    this.sql = watchIdentityWrites(ctx.storage.sql, () => this.sessions?.forgetCallers());
    migrate(this.sql);
    const sql = this.sql;
    this.storage = {
      sql,
      transaction: (fn) => ctx.storage.transactionSync(fn),
      orgId: () => this.orgId(),
    };
    this.grants = new Grants(this.storage);
    this.sessions = new Sessions(this.storage, this.grants);
    this.directory = new Directory(this.storage, this.grants);
  }

  // ── organisation ────────────────────────────────────────────────────────────────────────────

  private knownOrgId: string | null = null;

  /** The org's id; once bootstrapped it never changes, so it is read once per object. */
  private orgId(): string | null {
    this.knownOrgId ??= this.sql.exec<{ org_id: string }>("SELECT org_id FROM org WHERE id = 1").toArray()[0]?.org_id ?? null;
    return this.knownOrgId;
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

      const sa = this.directory.insertServiceAccount({ name: input.serviceAccountName, publicKeyPem: input.serviceAccountPublicKeyPem, externalId: null, expiresAt: null }, now);
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
    if (!appended.ok) return appended;
    await this.tellShareHolders(appended.entry, appended.head);
    return { ok: true };
  }

  /** A user's first credential (registration is not a user action: the user was created by one). */
  async recordRegistration(userId: string, credentialUuid: string, rpId: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    const log = this.governanceLog();
    const row = identities.credentialsOf(this.sql, userId, false).find((c) => c.credential_uuid === credentialUuid);
    if (!log || !row) return { ok: false, reason: "no such credential" };
    const appended = await log.append(null, { type: "CredentialAdded", identityId: userId, credentialUuid, publicKey: row.public_key_pem }, rpId);
    if (!appended.ok) return appended;
    await this.tellShareHolders(appended.entry, appended.head);
    return { ok: true };
  }

  /**
   * The org's coordinator keeps the log's head and newest entries to send with each ceremony
   * (signing/share-holders.ts): it is told of every entry before the change is answered, so a
   * request that follows the change carries it. If the coordinator cannot be told, its copy only
   * lives a few seconds more; the nodes refuse any head but their own newest either way.
   */
  private async tellShareHolders(entry: GovernanceEntry, head: GovernanceHead): Promise<void> {
    const orgId = this.orgId();
    if (!orgId) return;
    try {
      await shareHoldersOf(this.env, orgId).governanceAppended(orgId, entry, head);
    } catch (e) {
      console.error(`the coordinator of ${orgId} was not told of governance entry ${entry.index}:`, (e as Error).message);
    }
  }

  /** The org's EVM fee ceilings, as its governance log says (the nodes enforce them). */
  async feeCeilings(): Promise<Record<string, FeeCeiling>> {
    return (await this.governanceLog()?.current())?.feeCeilings ?? {};
  }

  /** The head and newest entries, for a ceremony request; null for an org without a root. */
  async governanceFeed(since?: number): Promise<{ head: GovernanceHead; entries: GovernanceEntry[] } | null> {
    return (await this.governanceLog()?.feed(since)) ?? null;
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

  // ── auth/sessions.ts ─────────────────────────────────────────────────────────────────────────

  resolveCaller(...a: Parameters<Sessions["resolveFor"]>): ReturnType<Sessions["resolveFor"]> {
    return this.sessions.resolveFor(...a);
  }
  // The spends take the org's env: the user-action token's MAC key is derived from it.
  resolveCallerAndSpend(
    claims: { tokenId: string; userId: string; tokenKind: string },
    action: { token: string; method: string; path: string; payload: string },
    knownVersion?: string,
  ): ReturnType<Sessions["resolveCallerAndSpend"]> {
    return this.sessions.resolveCallerAndSpend(this.env, claims, action, knownVersion);
  }
  pendingChallenge(...a: Parameters<Sessions["pendingChallenge"]>): ReturnType<Sessions["pendingChallenge"]> {
    return this.sessions.pendingChallenge(...a);
  }
  loginChallenge(...a: Parameters<Sessions["loginChallenge"]>): ReturnType<Sessions["loginChallenge"]> {
    return this.sessions.loginChallenge(...a);
  }
  completeLogin(...a: Parameters<Sessions["completeLogin"]>): ReturnType<Sessions["completeLogin"]> {
    return this.sessions.completeLogin(...a);
  }
  logout(...a: Parameters<Sessions["logout"]>): ReturnType<Sessions["logout"]> {
    return this.sessions.logout(...a);
  }
  consumeUserAction(input: { token: string; tokenId: string; method: string; path: string; payload: string }): ReturnType<Sessions["consumeUserAction"]> {
    return this.sessions.consumeUserAction(this.env, input);
  }
  userActionEvidence(...a: Parameters<Sessions["userActionEvidence"]>): ReturnType<Sessions["userActionEvidence"]> {
    return this.sessions.userActionEvidence(...a);
  }
  listUserActions(...a: Parameters<Sessions["listUserActions"]>): ReturnType<Sessions["listUserActions"]> {
    return this.sessions.listUserActions(...a);
  }

  // ── auth/directory.ts ────────────────────────────────────────────────────────────────────────

  listUsers(...a: Parameters<Directory["listUsers"]>): ReturnType<Directory["listUsers"]> {
    return this.directory.listUsers(...a);
  }
  getUser(...a: Parameters<Directory["getUser"]>): ReturnType<Directory["getUser"]> {
    return this.directory.getUser(...a);
  }
  createUser(...a: Parameters<Directory["createUser"]>): ReturnType<Directory["createUser"]> {
    return this.directory.createUser(...a);
  }
  setUserState(...a: Parameters<Directory["setUserState"]>): ReturnType<Directory["setUserState"]> {
    return this.directory.setUserState(...a);
  }
  setUserActive(...a: Parameters<Directory["setUserActive"]>): ReturnType<Directory["setUserActive"]> {
    return this.directory.setUserActive(...a);
  }
  archiveUser(...a: Parameters<Directory["archiveUser"]>): ReturnType<Directory["archiveUser"]> {
    return this.directory.archiveUser(...a);
  }
  registrationChallenge(...a: Parameters<Directory["registrationChallenge"]>): ReturnType<Directory["registrationChallenge"]> {
    return this.directory.registrationChallenge(...a);
  }
  completeRegistration(...a: Parameters<Directory["completeRegistration"]>): ReturnType<Directory["completeRegistration"]> {
    return this.directory.completeRegistration(...a);
  }
  credentialChallenge(...a: Parameters<Directory["credentialChallenge"]>): ReturnType<Directory["credentialChallenge"]> {
    return this.directory.credentialChallenge(...a);
  }
  completeCredential(...a: Parameters<Directory["completeCredential"]>): ReturnType<Directory["completeCredential"]> {
    return this.directory.completeCredential(...a);
  }
  listCredentials(...a: Parameters<Directory["listCredentials"]>): ReturnType<Directory["listCredentials"]> {
    return this.directory.listCredentials(...a);
  }
  setCredentialActive(...a: Parameters<Directory["setCredentialActive"]>): ReturnType<Directory["setCredentialActive"]> {
    return this.directory.setCredentialActive(...a);
  }
  createServiceAccount(...a: Parameters<Directory["createServiceAccount"]>): ReturnType<Directory["createServiceAccount"]> {
    return this.directory.createServiceAccount(...a);
  }
  listServiceAccounts(...a: Parameters<Directory["listServiceAccounts"]>): ReturnType<Directory["listServiceAccounts"]> {
    return this.directory.listServiceAccounts(...a);
  }
  getServiceAccount(...a: Parameters<Directory["getServiceAccount"]>): ReturnType<Directory["getServiceAccount"]> {
    return this.directory.getServiceAccount(...a);
  }
  updateServiceAccount(...a: Parameters<Directory["updateServiceAccount"]>): ReturnType<Directory["updateServiceAccount"]> {
    return this.directory.updateServiceAccount(...a);
  }
  setServiceAccountState(...a: Parameters<Directory["setServiceAccountState"]>): ReturnType<Directory["setServiceAccountState"]> {
    return this.directory.setServiceAccountState(...a);
  }
  createPat(...a: Parameters<Directory["createPat"]>): ReturnType<Directory["createPat"]> {
    return this.directory.createPat(...a);
  }
  listPats(...a: Parameters<Directory["listPats"]>): ReturnType<Directory["listPats"]> {
    return this.directory.listPats(...a);
  }
  getPat(...a: Parameters<Directory["getPat"]>): ReturnType<Directory["getPat"]> {
    return this.directory.getPat(...a);
  }
  updatePat(...a: Parameters<Directory["updatePat"]>): ReturnType<Directory["updatePat"]> {
    return this.directory.updatePat(...a);
  }
  setPatState(...a: Parameters<Directory["setPatState"]>): ReturnType<Directory["setPatState"]> {
    return this.directory.setPatState(...a);
  }

  // ── permissions/grants.ts ────────────────────────────────────────────────────────────────────

  createPermission(...a: Parameters<Grants["createPermission"]>): ReturnType<Grants["createPermission"]> {
    return this.grants.createPermission(...a);
  }
  listPermissions(...a: Parameters<Grants["listPermissions"]>): ReturnType<Grants["listPermissions"]> {
    return this.grants.listPermissions(...a);
  }
  getPermission(...a: Parameters<Grants["getPermission"]>): ReturnType<Grants["getPermission"]> {
    return this.grants.getPermission(...a);
  }
  updatePermission(...a: Parameters<Grants["updatePermission"]>): ReturnType<Grants["updatePermission"]> {
    return this.grants.updatePermission(...a);
  }
  assignPermission(...a: Parameters<Grants["assignPermission"]>): ReturnType<Grants["assignPermission"]> {
    return this.grants.assignPermission(...a);
  }
  listAssignments(...a: Parameters<Grants["listAssignments"]>): ReturnType<Grants["listAssignments"]> {
    return this.grants.listAssignments(...a);
  }
  revokeAssignment(...a: Parameters<Grants["revokeAssignment"]>): ReturnType<Grants["revokeAssignment"]> {
    return this.grants.revokeAssignment(...a);
  }
}
