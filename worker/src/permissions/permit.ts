// Layer 2: may the caller do this? Only operations granted by an active permission assignment
// pass; everything else is refused (deny by default). Every decision is written to the audit log.
import { createMiddleware } from "hono/factory";
import type { DfnsOperation } from "../../../shared/src/dfns/operations.js";
import { recordAllowed, recordDecision } from "../audit/record.js";
import type { AppEnv } from "../http/app-env.js";
import { ApiError } from "../http/errors.js";
import type { Caller } from "../orgs/org.js";

export function describeCaller(caller: Caller): string {
  if (caller.tokenKind === "Pat") return `Personal access token ${caller.tokenId}`;
  return `${caller.isServiceAccount ? "Service account" : "User"} ${caller.userId}`;
}

export function permit(operation: DfnsOperation) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const caller = c.get("caller");
    if (!caller.operations.includes(operation)) {
      await recordDecision(c, { caller, orgId: caller.orgId, operation, decision: "denied", reason: "operation not granted" });
      throw new ApiError(403, `${describeCaller(caller)} is not authorized to perform operation (${operation})`);
    }
    recordAllowed(c, { caller, orgId: caller.orgId, operation, reason: "granted by permission assignment" });
    await next();
  });
}

/**
 * For calls on the caller's own session or credentials that Dfns allows every authenticated
 * identity (log out, sign a user action, list one's own tokens): no operation to grant, but the
 * decision is still recorded.
 */
export function ownResource(what: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    recordAllowed(c, { caller: c.get("caller"), orgId: c.get("caller").orgId, operation: null, reason: `own ${what}` });
    await next();
  });
}

/** Like permit, for endpoints Dfns documents under one name and still accepts under a legacy one. */
export function permitAny(operations: [DfnsOperation, ...DfnsOperation[]]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const caller = c.get("caller");
    const granted = operations.find((op) => caller.operations.includes(op));
    if (!granted) {
      await recordDecision(c, { caller, orgId: caller.orgId, operation: operations[0], decision: "denied", reason: "operation not granted" });
      throw new ApiError(403, `${describeCaller(caller)} is not authorized to perform operation (${operations[0]})`);
    }
    recordAllowed(c, { caller, orgId: caller.orgId, operation: granted, reason: "granted by permission assignment" });
    await next();
  });
}
