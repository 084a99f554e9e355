// Creating an organisation from nothing: its immutable all-operations permission, a root user
// and a root service account whose key the caller generated (the server only sees the public key).
// Reachable two ways:
//   - bootstrapOrg(env, input): a function, for tests and tools running inside the Worker;
//   - POST /admin/bootstrap with `Authorization: Bearer $TESSERA_BOOTSTRAP_SECRET` (the route
//     answers 404 when the secret is not configured). Body:
//       {"serviceAccount":{"publicKey":"<PEM>","name"?},"orgName"?,"rootUser"?:{"username"?,"publicKey"?}}
//     → {"orgId","permissionId","rootUser":{"userId","username","credId"},
//        "serviceAccount":{"userId","tokenId","credId","accessToken"}}
import { Hono } from "hono";
import { constantTimeEqual } from "../../../shared/src/dfns/key-assertion.js";
import { parsePublicKeyPem } from "../../../shared/src/dfns/public-key.js";
import * as req from "../../../shared/src/dfns/requests.js";
import { bearerToken } from "../auth/authenticate.js";
import { issueToken } from "../auth/tokens.js";
import type { Env } from "../env.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { newId } from "../orgs/ids.js";

export interface BootstrapInput {
  orgName?: string;
  rootUser?: { username?: string; publicKey?: string };
  serviceAccount: { name?: string; publicKey: string };
}

export interface BootstrapResult {
  orgId: string;
  permissionId: string;
  rootUser: { userId: string; username: string; credId: string | null };
  serviceAccount: { userId: string; tokenId: string; credId: string; accessToken: string };
}

export async function bootstrapOrg(env: Env, input: BootstrapInput): Promise<BootstrapResult> {
  if (!parsePublicKeyPem(input.serviceAccount.publicKey)) throw new ApiError(400, "Invalid request: serviceAccount.publicKey must be a PEM public key");
  if (input.rootUser?.publicKey && !parsePublicKeyPem(input.rootUser.publicKey)) throw new ApiError(400, "Invalid request: rootUser.publicKey must be a PEM public key");
  const orgId = newId("or");
  // Registered first: an org the registry lacks is unreachable from the public endpoints.
  await env.DEPLOYMENT.getByName("deployment").registerOrg(orgId);
  const org = env.ORG.getByName(orgId);
  const created = unwrap(
    await org.bootstrap({
      orgId,
      orgName: input.orgName ?? "Tessera",
      rootUsername: input.rootUser?.username ?? "root",
      rootUserPublicKeyPem: input.rootUser?.publicKey ?? null,
      serviceAccountName: input.serviceAccount.name ?? "root service account",
      serviceAccountPublicKeyPem: input.serviceAccount.publicKey,
    }),
  );
  const accessToken = await issueToken(env, { orgId, userId: created.serviceAccount.userInfo.userId, tokenId: created.tokenId, tokenKind: "ServiceAccount" });
  return {
    orgId,
    permissionId: created.permissionId,
    rootUser: { userId: created.rootUser.userId, username: created.rootUser.username, credId: created.rootUserCredId },
    serviceAccount: { userId: created.serviceAccount.userInfo.userId, tokenId: created.tokenId, credId: created.credId, accessToken },
  };
}

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.post("/admin/bootstrap", async (c) => {
  const secret = c.env.TESSERA_BOOTSTRAP_SECRET;
  if (!secret) throw new ApiError(404, "Not found");
  const presented = bearerToken(c.req.header("authorization"));
  if (!presented || !constantTimeEqual(presented, secret)) throw new ApiError(401, "Not authorized");
  const body = await parseBody(c, req.bootstrap);
  return c.json(await bootstrapOrg(c.env, body));
});
