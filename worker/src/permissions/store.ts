// Permissions (named sets of operations) and their assignments to identities, in the org's SQLite.
// An identity's operations are the union of its active (non-archived) assigned permissions.
import type { AssignmentInfo, PermissionAssignmentInfo, PermissionInfo } from "../../../shared/src/dfns/wire.js";

interface PermissionRow {
  permission_id: string;
  name: string;
  operations: string;
  is_immutable: number;
  is_archived: number;
  created_at: string;
  updated_at: string;
  [key: string]: SqlStorageValue;
}

interface AssignmentRow {
  assignment_id: string;
  permission_id: string;
  identity_id: string;
  is_immutable: number;
  created_at: string;
  updated_at: string;
  [key: string]: SqlStorageValue;
}

export function permissionInfo(row: PermissionRow): PermissionInfo {
  return {
    id: row.permission_id,
    name: row.name,
    operations: JSON.parse(row.operations) as string[],
    status: "Active",
    isImmutable: row.is_immutable === 1,
    isArchived: row.is_archived === 1,
    dateCreated: row.created_at,
    dateUpdated: row.updated_at,
  };
}

export function assignmentInfo(row: AssignmentRow): AssignmentInfo {
  return {
    id: row.assignment_id,
    permissionId: row.permission_id,
    identityId: row.identity_id,
    isImmutable: row.is_immutable === 1,
    dateCreated: row.created_at,
    dateUpdated: row.updated_at,
  };
}

export function insertPermission(sql: SqlStorage, p: { id: string; name: string; operations: string[]; immutable: boolean; now: string }): PermissionInfo {
  sql.exec(
    "INSERT INTO permissions (permission_id, name, operations, is_immutable, is_archived, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
    p.id,
    p.name,
    JSON.stringify([...new Set(p.operations)].sort()),
    p.immutable ? 1 : 0,
    p.now,
    p.now,
  );
  return getPermission(sql, p.id)!;
}

export function getPermission(sql: SqlStorage, id: string): PermissionInfo | null {
  const row = sql.exec<PermissionRow>("SELECT * FROM permissions WHERE permission_id = ?", id).toArray()[0];
  return row ? permissionInfo(row) : null;
}

export function listPermissions(sql: SqlStorage): PermissionInfo[] {
  return sql.exec<PermissionRow>("SELECT * FROM permissions ORDER BY created_at, permission_id").toArray().map(permissionInfo);
}

export function updatePermission(sql: SqlStorage, id: string, change: { name?: string; operations?: string[]; isArchived?: boolean }, now: string): void {
  if (change.name !== undefined) sql.exec("UPDATE permissions SET name = ?, updated_at = ? WHERE permission_id = ?", change.name, now, id);
  if (change.operations !== undefined) {
    sql.exec("UPDATE permissions SET operations = ?, updated_at = ? WHERE permission_id = ?", JSON.stringify([...new Set(change.operations)].sort()), now, id);
  }
  if (change.isArchived !== undefined) sql.exec("UPDATE permissions SET is_archived = ?, updated_at = ? WHERE permission_id = ?", change.isArchived ? 1 : 0, now, id);
}

export function insertAssignment(sql: SqlStorage, a: { id: string; permissionId: string; identityId: string; immutable: boolean; now: string }): AssignmentInfo {
  sql.exec(
    "INSERT INTO assignments (assignment_id, permission_id, identity_id, is_immutable, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    a.id,
    a.permissionId,
    a.identityId,
    a.immutable ? 1 : 0,
    a.now,
    a.now,
  );
  return getAssignment(sql, a.id)!;
}

export function getAssignment(sql: SqlStorage, id: string): AssignmentInfo | null {
  const row = sql.exec<AssignmentRow>("SELECT * FROM assignments WHERE assignment_id = ?", id).toArray()[0];
  return row ? assignmentInfo(row) : null;
}

export function findAssignment(sql: SqlStorage, permissionId: string, identityId: string): AssignmentInfo | null {
  const row = sql.exec<AssignmentRow>("SELECT * FROM assignments WHERE permission_id = ? AND identity_id = ?", permissionId, identityId).toArray()[0];
  return row ? assignmentInfo(row) : null;
}

export function listAssignments(sql: SqlStorage, permissionId: string): AssignmentInfo[] {
  return sql
    .exec<AssignmentRow>("SELECT * FROM assignments WHERE permission_id = ? ORDER BY created_at, assignment_id", permissionId)
    .toArray()
    .map(assignmentInfo);
}

export function deleteAssignment(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM assignments WHERE assignment_id = ?", id);
}

/** Assignments of the given identity ids, with their permission (archived ones included, flagged). */
export function assignmentsOf(sql: SqlStorage, identityIds: string[]): (PermissionAssignmentInfo & { isArchived: boolean })[] {
  if (identityIds.length === 0) return [];
  const marks = identityIds.map(() => "?").join(", ");
  return sql
    .exec<{ assignment_id: string; permission_id: string; name: string; operations: string; is_archived: number }>(
      `SELECT a.assignment_id, p.permission_id, p.name, p.operations, p.is_archived
         FROM assignments a JOIN permissions p ON p.permission_id = a.permission_id
        WHERE a.identity_id IN (${marks}) ORDER BY a.created_at, a.assignment_id`,
      ...identityIds,
    )
    .toArray()
    .map((r) => ({
      permissionName: r.name,
      permissionId: r.permission_id,
      assignmentId: r.assignment_id,
      operations: JSON.parse(r.operations) as string[],
      isArchived: r.is_archived === 1,
    }));
}

/** The operations granted to these identity ids by active permissions. */
export function operationsOf(sql: SqlStorage, identityIds: string[]): Set<string> {
  const ops = new Set<string>();
  for (const a of assignmentsOf(sql, identityIds)) if (!a.isArchived) for (const op of a.operations ?? []) ops.add(op);
  return ops;
}
