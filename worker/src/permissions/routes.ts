// Dfns /permissions: named sets of operations, and their assignments to identities. Changing
// permissions is itself permissioned (Permissions:*) and, like every change, user-action signed.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { unwrap } from "../http/errors.js";
import { permit } from "./permit.js";

export const permissionRoutes = new Hono<AppEnv>();

permissionRoutes.post("/permissions", permit("Permissions:Create"), async (c) => {
  const body = await parseBody(c, req.createPermission);
  return c.json(unwrap(await c.get("org").createPermission(body)));
});
permissionRoutes.get("/permissions", permit("Permissions:Read"), async (c) => c.json(await c.get("org").listPermissions()));
permissionRoutes.get("/permissions/:permissionId", permit("Permissions:Read"), async (c) =>
  c.json(unwrap(await c.get("org").getPermission(c.req.param("permissionId")))),
);
permissionRoutes.put("/permissions/:permissionId", permit("Permissions:Update"), async (c) => {
  const body = await parseBody(c, req.updatePermission);
  return c.json(unwrap(await c.get("org").updatePermission(c.req.param("permissionId"), body)));
});
permissionRoutes.put("/permissions/:permissionId/archive", permit("Permissions:Archive"), async (c) => {
  const body = await parseBody(c, req.archivePermission);
  return c.json(unwrap(await c.get("org").updatePermission(c.req.param("permissionId"), { isArchived: body.isArchived })));
});

permissionRoutes.post("/permissions/:permissionId/assignments", permit("Permissions:Assign"), async (c) => {
  const body = await parseBody(c, req.createAssignment);
  return c.json(unwrap(await c.get("org").assignPermission(c.req.param("permissionId"), body.identityId)));
});
permissionRoutes.get("/permissions/:permissionId/assignments", permit("Permissions:Assignments:Read"), async (c) =>
  c.json(unwrap(await c.get("org").listAssignments(c.req.param("permissionId")))),
);
permissionRoutes.delete("/permissions/:permissionId/assignments/:assignmentId", permit("Permissions:Revoke"), async (c) =>
  c.json(unwrap(await c.get("org").revokeAssignment(c.req.param("permissionId"), c.req.param("assignmentId")))),
);
