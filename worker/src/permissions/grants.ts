// Layer 2's state in an organisation: permissions (named sets of operations) and their
// assignments to identities (users, service accounts, PATs). Part of the org's Durable Object
// (worker/src/orgs/org.ts routes its RPC methods here), on the same SQLite.
import type { AssignmentInfo, PermissionInfo } from "../../../shared/src/dfns/wire.js";
import * as identities from "../auth/identity-store.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { newId } from "../orgs/ids.js";
import { nowIso, type OrgStorage } from "../orgs/storage.js";
import * as permissions from "./store.js";

export class Grants {
  constructor(private readonly org: OrgStorage) {}

  /** What the identities hold together (deny by default). */
  operationsOf(identityIds: string[]): Set<string> {
    return permissions.operationsOf(this.org.sql, identityIds);
  }

  /** Assigns a permission as part of creating an identity (inside the caller's transaction). */
  assignAtCreation(permissionId: string, identityId: string, now: string, immutable = false): AssignmentInfo {
    return permissions.insertAssignment(this.org.sql, { id: newId("as"), permissionId, identityId, immutable, now });
  }

  activePermission(permissionId: string): Outcome<PermissionInfo> {
    const permission = permissions.getPermission(this.org.sql, permissionId);
    if (!permission) return failure(404, "Permission not found");
    if (permission.isArchived) return failure(409, "Permission is archived");
    return success(permission);
  }

  hasImmutableAssignment(identityId: string): boolean {
    return this.org.sql.exec("SELECT 1 FROM assignments WHERE identity_id = ? AND is_immutable = 1", identityId).toArray().length > 0;
  }

  createPermission(input: { name: string; operations: string[] }): Outcome<PermissionInfo> {
    return success(permissions.insertPermission(this.org.sql, { id: newId("pm"), name: input.name, operations: input.operations, immutable: false, now: nowIso() }));
  }

  listPermissions(): { items: PermissionInfo[] } {
    return { items: permissions.listPermissions(this.org.sql) };
  }

  getPermission(permissionId: string): Outcome<PermissionInfo> {
    const p = permissions.getPermission(this.org.sql, permissionId);
    return p ? success(p) : failure(404, "Permission not found");
  }

  updatePermission(permissionId: string, change: { name?: string; operations?: string[]; isArchived?: boolean }): Outcome<PermissionInfo> {
    const p = permissions.getPermission(this.org.sql, permissionId);
    if (!p) return failure(404, "Permission not found");
    if (p.isImmutable) return failure(403, "Permission is immutable");
    permissions.updatePermission(this.org.sql, permissionId, change, nowIso());
    return success(permissions.getPermission(this.org.sql, permissionId)!);
  }

  /** The kind of identity an id names in this org, if any: users, service accounts and PATs can hold permissions. */
  private identityExists(identityId: string): boolean {
    if (identities.getUser(this.org.sql, identityId)) return true;
    const token = identities.getToken(this.org.sql, identityId);
    return token !== null && token.kind !== "Login" && token.archived_at === null;
  }

  assignPermission(permissionId: string, identityId: string): Outcome<AssignmentInfo> {
    const p = this.activePermission(permissionId);
    if (!p.ok) return p;
    if (!this.identityExists(identityId)) return failure(404, "Identity not found");
    if (permissions.findAssignment(this.org.sql, permissionId, identityId)) return failure(409, "Permission already assigned to this identity");
    return success(permissions.insertAssignment(this.org.sql, { id: newId("as"), permissionId, identityId, immutable: false, now: nowIso() }));
  }

  listAssignments(permissionId: string): Outcome<{ items: AssignmentInfo[] }> {
    if (!permissions.getPermission(this.org.sql, permissionId)) return failure(404, "Permission not found");
    return success({ items: permissions.listAssignments(this.org.sql, permissionId) });
  }

  revokeAssignment(permissionId: string, assignmentId: string): Outcome<{ id: string }> {
    const a = permissions.getAssignment(this.org.sql, assignmentId);
    if (!a || a.permissionId !== permissionId) return failure(404, "Assignment not found");
    if (a.isImmutable) return failure(403, "Assignment is immutable");
    permissions.deleteAssignment(this.org.sql, assignmentId);
    return success({ id: assignmentId });
  }
}
