// The edge API. A request passes the layers in order, each a Hono middleware:
//   1 authenticate        who are you? (bearer token, checked against the org on every request)
//   1 requireUserAction   did your credential sign this very request? (POST/PUT/DELETE)
//   2 permit(op)          may you? (per route; deny by default)
//   3 policy/             should this happen?     — worker/src/policy (separate engineer)
//   4 signing/            threshold signature     — worker/src/signing
//   5 broadcast/          to the chain            — worker/src/broadcast
import { Hono } from "hono";
import { adminRoutes } from "./admin/bootstrap.js";
import { auditRoutes } from "./audit/routes.js";
import { actionRoutes } from "./auth/action-routes.js";
import { authenticate } from "./auth/authenticate.js";
import { credentialRoutes } from "./auth/credential-routes.js";
import { identityRoutes } from "./auth/identity-routes.js";
import { loginRoutes, logoutRoutes } from "./auth/login-routes.js";
import { registrationRoutes } from "./auth/registration-routes.js";
import { requireUserAction } from "./auth/user-action.js";
import { recordGovernanceChanges } from "./governance/record.js";
import { feeCeilingRoutes } from "./governance/fee-ceilings-routes.js";
import type { AppEnv } from "./http/app-env.js";
import { errorBody, handleError } from "./http/errors.js";
import { broadcastRoutes } from "./broadcast/routes.js";
import { indexerRoutes } from "./indexer/routes.js";
import { networkRoutes } from "./networks/routes.js";
import { permissionRoutes } from "./permissions/routes.js";
import { shareHolderRoutes } from "./signing/share-holder-routes.js";
import { policyRoutes } from "./policy/routes.js";
import { webhookRoutes } from "./webhooks/routes.js";
import { walletRoutes } from "./wallets/routes.js";

export type { Env } from "./env.js";

const app = new Hono<AppEnv>();

// Public: no caller yet.
app.get("/", (c) => c.json({ name: "tessera", status: "ok" }));
app.route("/", adminRoutes);
app.route("/", loginRoutes);
app.route("/", registrationRoutes);

// Layer 1, for everything below.
app.use("*", authenticate);
app.use("*", requireUserAction);
app.use("*", recordGovernanceChanges);

// Layer 2 is per route (permit(op) inside each router).
app.route("/", logoutRoutes);
app.route("/", actionRoutes);
app.route("/", credentialRoutes);
app.route("/", identityRoutes);
app.route("/", permissionRoutes);
app.route("/", auditRoutes);
app.route("/", policyRoutes);
app.route("/", feeCeilingRoutes);
app.route("/", broadcastRoutes);
app.route("/", indexerRoutes);
app.route("/", networkRoutes);
app.route("/", webhookRoutes);
app.route("/", walletRoutes);
app.route("/", shareHolderRoutes);

app.notFound((c) => c.json(errorBody("Not found"), 404));
app.onError(handleError);

export { Org } from "./orgs/org.js";
export { Deployment } from "./deployment/deployment.js";
export { AuditLog } from "./audit/audit-log.js";
export { PolicyState } from "./policy/state.js";
export { WalletTransfers } from "./broadcast/wallet-transfers.js";
export { Webhooks } from "./webhooks/webhooks-object.js";
export { WalletRegistry } from "./wallets/wallet-registry.js";
export { ShareHolders } from "./signing/share-holders.js";
export { NetworkIndexer } from "./indexer/network-indexer.js";
export default app;
