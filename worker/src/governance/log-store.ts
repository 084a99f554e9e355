// The edge's copy of an organisation's governance log (shared/src/governance/log.ts), in the org's
// SQLite. The edge writes an entry after each governance change it performed, with the user action
// that authorized it; before writing, it applies the entry with the same pure rules the nodes run,
// so it never appends what the nodes would refuse (a refused entry would stall every node at it).
// What the nodes believe about the org is exactly this log replayed from the org's root.

import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import { applyEntry, genesis, type GovernanceEffect, type GovernanceEntry, type GovernanceHead, type GovernanceState } from "../../../shared/src/governance/log.js";
import { operationFor } from "../../../shared/src/governance/operations.js";

export const GOVERNANCE_SCHEMA = `CREATE TABLE IF NOT EXISTS governance_log (idx INTEGER PRIMARY KEY, entry TEXT NOT NULL, hash TEXT NOT NULL)`;

/** How many of the newest entries travel with each ceremony request. */
export const FEED_ENTRIES = 200;

/**
 * The org's root of trust as the nodes are given it (`mpc-node orgs add --root … --root-permission …`):
 * the key of the service account created at bootstrap, and the immutable all-operations permission.
 */
export function genesisOf(sql: SqlStorage, orgId: string): { rootPublicKeyPem: string; rootPermissionId: string } | null {
  const row = sql
    .exec<{ public_key_pem: string; permission_id: string }>(
      `SELECT c.public_key_pem, a.permission_id FROM assignments a
         JOIN users u ON u.user_id = a.identity_id AND u.is_service_account = 1
         JOIN credentials c ON c.owner_id = u.user_id
       WHERE a.is_immutable = 1 ORDER BY a.created_at, c.created_at LIMIT 1`,
    )
    .toArray()[0];
  void orgId;
  return row ? { rootPublicKeyPem: row.public_key_pem, rootPermissionId: row.permission_id } : null;
}

export class GovernanceLog {
  private state: GovernanceState | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly orgId: string,
  ) {}

  /** The replayed state (entries were checked when appended, so signatures are not re-verified). */
  async current(): Promise<GovernanceState | null> {
    if (this.state) return this.state;
    const root = genesisOf(this.sql, this.orgId);
    if (!root) return null;
    let s = genesis(this.orgId, [root.rootPublicKeyPem], root.rootPermissionId);
    for (const row of this.sql.exec<{ entry: string }>("SELECT entry FROM governance_log ORDER BY idx")) {
      const applied = await applyEntry(s, JSON.parse(row.entry) as GovernanceEntry, { verifySignatures: false });
      if (!applied.ok) throw new Error(`the governance log does not replay: ${applied.reason}`);
      s = applied.state;
    }
    this.state = s;
    return s;
  }

  /** Appends the entry if the log's own rules accept it; returns why not otherwise. */
  async append(evidence: UserActionEvidence | null, effect: GovernanceEffect, rpId: string): Promise<{ ok: true; head: GovernanceHead; entry: GovernanceEntry } | { ok: false; reason: string }> {
    const s = await this.current();
    if (!s) return { ok: false, reason: "the org has no root of trust" };
    const entry: GovernanceEntry = { orgId: this.orgId, index: s.head.length, prev: s.head.hash, evidence, effect, at: new Date().toISOString() };
    const applied = await applyEntry(s, entry, { rpId });
    if (!applied.ok) return { ok: false, reason: applied.reason };
    // Another append may have run while the signature was checked: only the head we built on may grow.
    const still = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM governance_log").one().n;
    if (still !== entry.index) {
      this.state = null;
      return this.append(evidence, effect, rpId);
    }
    // applyEntry's new head is this entry's hash (entryHash): not hashed a second time.
    this.sql.exec("INSERT INTO governance_log (idx, entry, hash) VALUES (?, ?, ?)", entry.index, JSON.stringify(entry), applied.state.head.hash);
    this.state = applied.state;
    return { ok: true, head: applied.state.head, entry };
  }

  /**
   * The head and the newest entries, for a ceremony request: those from index `since` on (what the
   * receiving nodes are known to lack), at most the newest FEED_ENTRIES.
   */
  async feed(since = 0): Promise<{ head: GovernanceHead; entries: GovernanceEntry[] } | null> {
    const s = await this.current();
    if (!s) return null;
    const entries = this.sql
      .exec<{ entry: string }>("SELECT entry FROM governance_log WHERE idx >= ? ORDER BY idx", Math.max(0, since, s.head.length - FEED_ENTRIES))
      .toArray()
      .map((r) => JSON.parse(r.entry) as GovernanceEntry);
    return { head: s.head, entries };
  }
}

type Json = Record<string, unknown>;

/**
 * The effect of a governance request the edge just performed, from the request and its response
 * (and the org's own tables for what the response does not say, such as a new credential's key).
 */
export function effectOf(sql: SqlStorage, e: UserActionEvidence, response: Json): GovernanceEffect | null {
  const route = operationFor(e.method, e.path);
  if (!route) return null;
  let body: Json = {};
  try {
    body = (JSON.parse(e.payload || "{}") as Json) ?? {};
  } catch {
    body = {};
  }
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const credentialsOf = (owner: string) =>
    sql.exec<{ credential_uuid: string; public_key_pem: string }>("SELECT credential_uuid, public_key_pem FROM credentials WHERE owner_id = ? ORDER BY created_at", owner).toArray();
  switch (route.name) {
    case "createServiceAccount": {
      const userId = str((response.userInfo as Json | undefined)?.userId);
      if (!userId) return null;
      const permissionId = str(body.permissionId);
      const assignment = permissionId
        ? sql.exec<{ assignment_id: string }>("SELECT assignment_id FROM assignments WHERE permission_id = ? AND identity_id = ?", permissionId, userId).toArray()[0]?.assignment_id ?? null
        : null;
      const credentials = credentialsOf(userId).map((c) => ({ credentialUuid: c.credential_uuid, publicKey: c.public_key_pem }));
      return { type: "IdentityCreated", identityId: userId, kind: "ServiceAccount", credentials, permissionId, assignmentId: assignment };
    }
    case "createUser": {
      const userId = str(response.userId);
      return userId ? { type: "IdentityCreated", identityId: userId, kind: "User", credentials: [], permissionId: null, assignmentId: null } : null;
    }
    case "addCredential": {
      const uuid = str(response.credentialUuid) ?? str(response.uuid);
      const row = uuid ? credentialsOf(e.subject).find((c) => c.credential_uuid === uuid) : undefined;
      return row ? { type: "CredentialAdded", identityId: e.subject, credentialUuid: row.credential_uuid, publicKey: row.public_key_pem } : null;
    }
    case "activateCredential":
    case "deactivateCredential": {
      const uuid = str(body.credentialUuid);
      return uuid ? { type: "CredentialActive", identityId: e.subject, credentialUuid: uuid, active: route.name === "activateCredential" } : null;
    }
    case "activateIdentity":
    case "deactivateIdentity":
    case "archiveIdentity":
      return { type: "IdentityActive", identityId: route.params.id!, active: route.name === "activateIdentity" };
    case "createPermission": {
      const id = str(response.id);
      const operations = Array.isArray(body.operations) ? (body.operations as unknown[]).filter((o): o is string => typeof o === "string") : [];
      return id ? { type: "PermissionCreated", permissionId: id, operations } : null;
    }
    case "updatePermission":
      return { type: "PermissionUpdated", permissionId: route.params.permissionId!, operations: Array.isArray(body.operations) ? (body.operations as string[]) : null, archived: null };
    case "archivePermission":
      return { type: "PermissionUpdated", permissionId: route.params.permissionId!, operations: null, archived: body.isArchived !== false };
    case "assign": {
      const id = str(response.id);
      const identityId = str(body.identityId);
      return id && identityId ? { type: "Assigned", assignmentId: id, permissionId: route.params.permissionId!, identityId } : null;
    }
    case "unassign":
      return { type: "Unassigned", assignmentId: route.params.assignmentId! };
    case "addShareHolder":
      return body.joinRequest && typeof body.joinRequest === "object" ? ({ type: "ShareHolderAdded", joinRequest: body.joinRequest } as GovernanceEffect) : null;
    case "retireShareHolder":
      return { type: "ShareHolderRetired", peerId: route.params.peerId!, replacement: str(body.replacement) };
    case "createPolicy":
    case "updatePolicy":
    case "archivePolicy": {
      // The route answers with the policy as stored (worker/src/policy/wire.ts policyJson).
      const r = response as Record<string, unknown>;
      if (typeof r.id !== "string") return null;
      const policy = { id: r.id, name: r.name, status: r.status, version: r.version, activityKind: r.activityKind, rule: r.rule, action: r.action, filters: r.filters, dateCreated: r.dateCreated, dateUpdated: r.dateUpdated };
      return { type: "PolicySet", policy } as GovernanceEffect;
    }
    case "setFeeCeiling": {
      const amount = (v: unknown) => (typeof v === "string" ? v : null);
      return { type: "FeeCeilingSet", network: route.params.network!, maxFee: amount(body.maxFee), maxPriorityFeePerGas: amount(body.maxPriorityFeePerGas) };
    }
  }
}

