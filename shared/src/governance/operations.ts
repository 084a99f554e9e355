// Which permission a request needs, for the requests the share holders judge themselves: the
// governance changes they replay (./log.ts) and the requests that create or use keys. The edge's
// routes ask for the same operations (worker/src/*/routes.ts, permit(op)); a request outside this
// table is not something a node will act on.
export type RouteName =
  | "createServiceAccount"
  | "createUser"
  | "addCredential"
  | "activateCredential"
  | "deactivateCredential"
  | "activateIdentity"
  | "deactivateIdentity"
  | "archiveIdentity"
  | "createPermission"
  | "updatePermission"
  | "archivePermission"
  | "assign"
  | "unassign"
  | "addShareHolder"
  | "retireShareHolder"
  | "createPolicy"
  | "updatePolicy"
  | "archivePolicy"
  | "setFeeCeiling";

interface Route<N extends string> {
  method: string;
  pattern: RegExp;
  name: N;
  /** Operation for users/service accounts; the same for both unless noted. */
  operation: string | ((params: Record<string, string>) => string);
}

const seg = "([A-Za-z0-9._~-]{1,128})";

/** The permission that sets an org's EVM fee ceilings (PUT /tessera/fee-ceilings/:network). */
export const FEE_CEILING_OPERATION = "Policies:Update";

const GOVERNANCE: Route<RouteName>[] = [
  { method: "POST", pattern: /^\/auth\/service-accounts$/, name: "createServiceAccount", operation: "Auth:ServiceAccounts:Create" },
  { method: "POST", pattern: /^\/auth\/users$/, name: "createUser", operation: "Auth:Users:Create" },
  { method: "POST", pattern: /^\/auth\/credentials$/, name: "addCredential", operation: "Auth:Creds:Create" },
  { method: "PUT", pattern: /^\/auth\/credentials\/activate$/, name: "activateCredential", operation: "Auth:Creds:Update" },
  { method: "PUT", pattern: /^\/auth\/credentials\/deactivate$/, name: "deactivateCredential", operation: "Auth:Creds:Update" },
  { method: "PUT", pattern: new RegExp(`^/auth/(users|service-accounts)/${seg}/activate$`), name: "activateIdentity", operation: (p) => (p.kind === "users" ? "Auth:Users:Activate" : "Auth:ServiceAccounts:Activate") },
  { method: "PUT", pattern: new RegExp(`^/auth/(users|service-accounts)/${seg}/deactivate$`), name: "deactivateIdentity", operation: (p) => (p.kind === "users" ? "Auth:Users:Deactivate" : "Auth:ServiceAccounts:Deactivate") },
  { method: "DELETE", pattern: new RegExp(`^/auth/(users|service-accounts)/${seg}$`), name: "archiveIdentity", operation: (p) => (p.kind === "users" ? "Auth:Users:Delete" : "Auth:ServiceAccounts:Delete") },
  { method: "POST", pattern: /^\/permissions$/, name: "createPermission", operation: "Permissions:Create" },
  { method: "PUT", pattern: new RegExp(`^/permissions/${seg}$`), name: "updatePermission", operation: "Permissions:Update" },
  { method: "PUT", pattern: new RegExp(`^/permissions/${seg}/archive$`), name: "archivePermission", operation: "Permissions:Archive" },
  { method: "POST", pattern: new RegExp(`^/permissions/${seg}/assignments$`), name: "assign", operation: "Permissions:Assign" },
  { method: "DELETE", pattern: new RegExp(`^/permissions/${seg}/assignments/${seg}$`), name: "unassign", operation: "Permissions:Revoke" },
  // Tessera's own: the org's share-holder set.
  { method: "POST", pattern: /^\/tessera\/share-holders$/, name: "addShareHolder", operation: "ShareHolders:Create" },
  { method: "POST", pattern: new RegExp(`^/tessera/share-holders/${seg}/retire$`), name: "retireShareHolder", operation: "ShareHolders:Retire" },
  { method: "POST", pattern: /^\/v2\/policies$/, name: "createPolicy", operation: "Policies:Create" },
  { method: "PUT", pattern: new RegExp(`^/v2/policies/${seg}$`), name: "updatePolicy", operation: "Policies:Update" },
  { method: "DELETE", pattern: new RegExp(`^/v2/policies/${seg}$`), name: "archivePolicy", operation: "Policies:Archive" },
  // Tessera's own (Dfns has no such endpoint): a governance policy, so it needs Policies:Update.
  { method: "PUT", pattern: new RegExp(`^/tessera/fee-ceilings/${seg}$`), name: "setFeeCeiling", operation: FEE_CEILING_OPERATION },
];

const PARAMS: Record<RouteName, string[]> = {
  createServiceAccount: [],
  createUser: [],
  addCredential: [],
  activateCredential: [],
  deactivateCredential: [],
  activateIdentity: ["kind", "id"],
  deactivateIdentity: ["kind", "id"],
  archiveIdentity: ["kind", "id"],
  createPermission: [],
  updatePermission: ["permissionId"],
  archivePermission: ["permissionId"],
  assign: ["permissionId"],
  unassign: ["permissionId", "assignmentId"],
  addShareHolder: [],
  retireShareHolder: ["peerId"],
  createPolicy: [],
  updatePolicy: ["policyId"],
  archivePolicy: ["policyId"],
  setFeeCeiling: ["network"],
};

export interface MatchedRoute {
  name: RouteName;
  operation: string;
  params: Record<string, string>;
}

/** The governance change `method path` asks for, and the operation it needs; null if it is none. */
export function operationFor(method: string, path: string): MatchedRoute | null {
  for (const r of GOVERNANCE) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(PARAMS[r.name].map((k, i) => [k, m[i + 1]!]));
    return { name: r.name, operation: typeof r.operation === "string" ? r.operation : r.operation(params), params };
  }
  return null;
}

export function isGovernanceRequest(method: string, path: string): boolean {
  return operationFor(method, path) !== null;
}


/** The operation a key-creating or key-using request needs (what the edge's routes permit). */
export function keyOperationFor(method: string, path: string): string | null {
  if (method !== "POST") return null;
  if (path === "/wallets") return "Wallets:Create";
  if (path === "/keys") return "Keys:Create";
  if (/^\/wallets\/[^/]+\/signatures$/.test(path)) return "Wallets:GenerateSignature";
  if (/^\/wallets\/[^/]+\/transactions$/.test(path)) return "Wallets:Transactions:Create";
  if (/^\/wallets\/[^/]+\/transfers$/.test(path)) return "Wallets:Transfers:Create";
  if (/^\/keys\/[^/]+\/signatures$/.test(path)) return "Keys:Signatures:Create";
  return null;
}
