// Users, service accounts and personal access tokens (Dfns /auth/users, /auth/service-accounts,
// /auth/pats). Service-account and PAT keys are given by the caller (publicKey, PEM); the server
// never sees a private key. Their tokens are long-lived but revocable: every request re-checks.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import { parsePublicKeyPem } from "../../../shared/src/dfns/public-key.js";
import type { AccessTokenInfo, ServiceAccountInfo } from "../../../shared/src/dfns/wire.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import type { Caller } from "../orgs/org.js";
import { describeCaller, ownResource, permit } from "../permissions/permit.js";
import { issueToken } from "./tokens.js";

export const identityRoutes = new Hono<AppEnv>();

function requirePublicKey(pem: string): void {
  if (!parsePublicKeyPem(pem)) throw new ApiError(400, "Invalid request: publicKey must be a PEM public key (P-256, secp256k1, Ed25519 or RSA)");
}

/** Granting a permission at creation is an assignment, so it needs Permissions:Assign too. */
function requireAssign(caller: Caller, permissionId: string | undefined): void {
  if (permissionId && !caller.operations.includes("Permissions:Assign")) {
    throw new ApiError(403, `${describeCaller(caller)} is not authorized to perform operation (Permissions:Assign)`);
  }
}

function expiry(days?: number, seconds?: number): number | null {
  const s = seconds ?? (days !== undefined ? days * 86_400 : undefined);
  return s === undefined ? null : Math.floor(Date.now() / 1000) + s;
}

// ── users ─────────────────────────────────────────────────────────────────────────────────────

identityRoutes.get("/auth/users", permit("Auth:Users:Read"), async (c) => c.json(await c.get("org").listUsers()));
identityRoutes.get("/auth/users/:userId", permit("Auth:Users:Read"), async (c) => c.json(unwrap(await c.get("org").getUser(c.req.param("userId")))));

identityRoutes.post("/auth/users", permit("Auth:Users:Create"), async (c) => {
  const body = await parseBody(c, req.createUser);
  if (body.publicKey) throw new ApiError(400, "Invalid request: register the user's credential through /auth/registration, not publicKey");
  const created = unwrap(await c.get("org").createUser({ email: body.email, externalId: body.externalId ?? null }));
  // No e-mail in this deployment: the code goes back to the admin, who hands it over out of band.
  return c.json({ ...created.user, registrationCode: created.registrationCode });
});

identityRoutes.put("/auth/users/:userId/activate", permit("Auth:Users:Activate"), async (c) =>
  c.json(unwrap(await c.get("org").setUserActive(c.req.param("userId"), true))),
);
identityRoutes.put("/auth/users/:userId/deactivate", permit("Auth:Users:Deactivate"), async (c) =>
  c.json(unwrap(await c.get("org").setUserActive(c.req.param("userId"), false))),
);
identityRoutes.delete("/auth/users/:userId", permit("Auth:Users:Delete"), async (c) => c.json(unwrap(await c.get("org").archiveUser(c.req.param("userId")))));

// ── service accounts ──────────────────────────────────────────────────────────────────────────

identityRoutes.get("/auth/service-accounts", permit("Auth:ServiceAccounts:Read"), async (c) => c.json(await c.get("org").listServiceAccounts()));
identityRoutes.get("/auth/service-accounts/:id", permit("Auth:ServiceAccounts:Read"), async (c) =>
  c.json(unwrap(await c.get("org").getServiceAccount(c.req.param("id")))),
);

identityRoutes.post("/auth/service-accounts", permit("Auth:ServiceAccounts:Create"), async (c) => {
  const body = await parseBody(c, req.createServiceAccount);
  requirePublicKey(body.publicKey);
  requireAssign(c.get("caller"), body.permissionId);
  const expiresAt = expiry(body.daysValid);
  const created = unwrap(
    await c.get("org").createServiceAccount({
      name: body.name,
      publicKeyPem: body.publicKey,
      externalId: body.externalId ?? null,
      expiresAt,
      permissionId: body.permissionId ?? null,
    }),
  );
  const account: ServiceAccountInfo = created.account;
  const accessToken = await issueToken(
    c.env,
    { orgId: c.get("caller").orgId, userId: account.userInfo.userId, tokenId: created.tokenId, tokenKind: "ServiceAccount" },
    expiresAt === null ? undefined : expiresAt - Math.floor(Date.now() / 1000),
  );
  return c.json({ ...account, accessTokens: account.accessTokens.map((t) => (t.tokenId === created.tokenId ? { ...t, accessToken } : t)) });
});

identityRoutes.put("/auth/service-accounts/:id", permit("Auth:ServiceAccounts:Update"), async (c) => {
  const body = await parseBody(c, req.updateIdentity);
  return c.json(unwrap(await c.get("org").updateServiceAccount(c.req.param("id"), body)));
});
identityRoutes.put("/auth/service-accounts/:id/activate", permit("Auth:ServiceAccounts:Activate"), async (c) =>
  c.json(unwrap(await c.get("org").setServiceAccountState(c.req.param("id"), "active"))),
);
identityRoutes.put("/auth/service-accounts/:id/deactivate", permit("Auth:ServiceAccounts:Deactivate"), async (c) => {
  await parseBody(c, req.deactivate);
  return c.json(unwrap(await c.get("org").setServiceAccountState(c.req.param("id"), "inactive")));
});
identityRoutes.delete("/auth/service-accounts/:id", permit("Auth:ServiceAccounts:Delete"), async (c) =>
  c.json(unwrap(await c.get("org").setServiceAccountState(c.req.param("id"), "archived"))),
);

// ── personal access tokens (the caller's own) ─────────────────────────────────────────────────

identityRoutes.get("/auth/pats", ownResource("personal access tokens"), async (c) => c.json(await c.get("org").listPats(c.get("caller"))));
identityRoutes.get("/auth/pats/:tokenId", ownResource("personal access token"), async (c) =>
  c.json(unwrap(await c.get("org").getPat(c.get("caller"), c.req.param("tokenId")))),
);

identityRoutes.post("/auth/pats", permit("Auth:Pats:Create"), async (c) => {
  const caller = c.get("caller");
  if (caller.tokenKind === "Pat") throw new ApiError(403, "A personal access token cannot create personal access tokens");
  const body = await parseBody(c, req.createPat);
  requirePublicKey(body.publicKey);
  requireAssign(caller, body.permissionId);
  const expiresAt = expiry(body.daysValid, body.secondsValid);
  const pat: AccessTokenInfo = unwrap(
    await c.get("org").createPat(caller, {
      name: body.name,
      publicKeyPem: body.publicKey,
      externalId: body.externalId ?? null,
      expiresAt,
      permissionId: body.permissionId ?? null,
    }),
  );
  const accessToken = await issueToken(
    c.env,
    { orgId: caller.orgId, userId: caller.userId, tokenId: pat.tokenId, tokenKind: "Pat" },
    expiresAt === null ? undefined : expiresAt - Math.floor(Date.now() / 1000),
  );
  return c.json({ ...pat, accessToken });
});

identityRoutes.put("/auth/pats/:tokenId", ownResource("personal access token"), async (c) => {
  const body = await parseBody(c, req.updateIdentity);
  return c.json(unwrap(await c.get("org").updatePat(c.get("caller"), c.req.param("tokenId"), body)));
});
identityRoutes.put("/auth/pats/:tokenId/activate", ownResource("personal access token"), async (c) =>
  c.json(unwrap(await c.get("org").setPatState(c.get("caller"), c.req.param("tokenId"), "active"))),
);
identityRoutes.put("/auth/pats/:tokenId/deactivate", ownResource("personal access token"), async (c) =>
  c.json(unwrap(await c.get("org").setPatState(c.get("caller"), c.req.param("tokenId"), "inactive"))),
);
identityRoutes.delete("/auth/pats/:tokenId", ownResource("personal access token"), async (c) =>
  c.json(unwrap(await c.get("org").setPatState(c.get("caller"), c.req.param("tokenId"), "archived"))),
);
