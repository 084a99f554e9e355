// An organisation's governance log: the changes that decide who may sign — identities, their
// credentials, permissions and assignments — as a hash chain of entries, each carrying the user
// action that authorized it (the actor's credential signature over method, path and exact body).
// The edge keeps the log and relays it; every share-holder node replays it with `applyEntry` and
// believes only what follows from the org's root credential(s), which the node learned out of
// band (`mpc-node orgs add <orgId> --root <public key>`). The edge chooses ids for new things; it
// cannot invent an entry, because each one needs a signature by a credential the log already
// trusts, with a permission the log already grants, over a request that states the change.
//
// Encoding: entry hash = SHA-256( "tessera.governance.v1" "\n" canonicalJson(entry) ), each entry
// naming its predecessor's hash (`prev`, 64 zeros for the first); the head is (length, hash of
// the last entry). Pure functions: edge, nodes and tests run the same code.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { DFNS_OPERATIONS } from "../dfns/operations.js";
import { parsePublicKeyPem } from "../dfns/public-key.js";
import { verifyUserActionEvidence } from "../dfns/user-action-evidence.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import { canonicalJson } from "../mpc/canonical-json.js";
import { joinRequestSchema, verifyJoinRequest } from "./join-request.js";
import { actionSchema, filtersSchema, policyBodySchema, ruleSchema } from "../policy/schema.js";
import type { Policy } from "../policy/types.js";
import type { FeeCeiling } from "../chains/evm/fees.js";
import { operationFor } from "./operations.js";

export const GOVERNANCE_DOMAIN = "tessera.governance.v1";
export const GENESIS_HASH = "0".repeat(64);

const id = z.string().min(1).max(128);
const pem = z.string().min(1).max(8192);
const weiAmount = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);

export const governanceEffect = z.discriminatedUnion("type", [
  /** POST /auth/service-accounts, POST /auth/users: a new identity, with the credentials it starts with. */
  z.strictObject({
    type: z.literal("IdentityCreated"),
    identityId: id,
    kind: z.enum(["User", "ServiceAccount"]),
    credentials: z.array(z.strictObject({ credentialUuid: id, publicKey: pem })).max(8),
    permissionId: id.nullable(),
    /** The assignment of permissionId the creation made (so that revoking it later is understood). */
    assignmentId: id.nullable(),
  }),
  /** POST /auth/registration (first credential of a user an admin created) or POST /auth/credentials. */
  z.strictObject({ type: z.literal("CredentialAdded"), identityId: id, credentialUuid: id, publicKey: pem }),
  /** PUT /auth/credentials/{activate,deactivate}. */
  z.strictObject({ type: z.literal("CredentialActive"), identityId: id, credentialUuid: id, active: z.boolean() }),
  /** PUT /auth/{users,service-accounts}/:id/{activate,deactivate}, DELETE (archive). */
  z.strictObject({ type: z.literal("IdentityActive"), identityId: id, active: z.boolean() }),
  z.strictObject({ type: z.literal("PermissionCreated"), permissionId: id, operations: z.array(z.string().max(128)).max(512) }),
  z.strictObject({ type: z.literal("PermissionUpdated"), permissionId: id, operations: z.array(z.string().max(128)).max(512).nullable(), archived: z.boolean().nullable() }),
  z.strictObject({ type: z.literal("Assigned"), assignmentId: id, permissionId: id, identityId: id }),
  z.strictObject({ type: z.literal("Unassigned"), assignmentId: id }),
  /** POST /tessera/share-holders: a node joins the org's share holders, by its own signed join request. */
  z.strictObject({ type: z.literal("ShareHolderAdded"), joinRequest: joinRequestSchema }),
  /**
   * POST /tessera/share-holders/:peerId/retire: the node leaves; the org's keys it held are reshared
   * with `replacement` taking its party index (null: no replacement named).
   */
  z.strictObject({ type: z.literal("ShareHolderRetired"), peerId: id, replacement: id.nullable() }),
  /** POST /v2/policies, PUT /v2/policies/:id, DELETE /v2/policies/:id: the policy as it stands after the change. */
  z.strictObject({
    type: z.literal("PolicySet"),
    policy: z.strictObject({
      id,
      name: z.string().min(1).max(128),
      status: z.enum(["Active", "Archived"]),
      version: z.int().min(1),
      activityKind: z.literal("Wallets:Sign"),
      rule: ruleSchema,
      action: actionSchema,
      filters: filtersSchema,
      dateCreated: z.string().max(64),
      dateUpdated: z.string().max(64),
    }),
  }),
  /** PUT /tessera/fee-ceilings/:network: the largest fee (wei per transaction) and tip (wei per gas) the nodes sign on that network; null: not capped. */
  z.strictObject({ type: z.literal("FeeCeilingSet"), network: id, maxFee: weiAmount.nullable(), maxPriorityFeePerGas: weiAmount.nullable() }),
]);
export type GovernanceEffect = z.infer<typeof governanceEffect>;

export interface GovernanceEntry {
  orgId: string;
  /** 0-based position in the log. */
  index: number;
  prev: string;
  /** The request that made the change: the user action's, or the registration request's. */
  evidence: UserActionEvidence | null;
  /** Registration only: the credential's proof of possession is checked by the edge; the node checks the user was created by the log and had no credential yet. */
  effect: GovernanceEffect;
  at: string;
}

export interface GovernanceHead {
  length: number;
  hash: string;
}

export const governanceHeadSchema = z.strictObject({ length: z.int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/) });

export function entryHash(e: GovernanceEntry): string {
  return bytesToHex(sha256(new TextEncoder().encode(`${GOVERNANCE_DOMAIN}\n${canonicalJson(e)}`)));
}

// ------------------------------------------------------------------ state

export interface IdentityState {
  kind: "User" | "ServiceAccount" | "Root";
  active: boolean;
  /** credentialUuid → { key: SPKI hex, active } */
  credentials: Record<string, { key: string; active: boolean }>;
}

export interface GovernanceState {
  orgId: string;
  /** SPKI hex of the root credentials: they act with every operation, as any identity they sign for. */
  roots: string[];
  identities: Record<string, IdentityState>;
  permissions: Record<string, { operations: string[]; archived: boolean; immutable?: boolean }>;
  assignments: Record<string, { permissionId: string; identityId: string }>;
  /**
   * The org's share holders as its log decided them: nodes added by their join request, and every
   * retired node (the deployment's configured nodes appear only once retired). Nodes check their
   * ceremonies against it: a retired node takes part in none, a new node joins a key only by a
   * reshare the log ordered.
   */
  shareHolders: Record<string, ShareHolderState>;
  /** The org's policies (every version's latest state, archived ones included), as the log set them. */
  policies?: Record<string, Policy>;
  /** Per network: the EVM fee ceiling every node enforces (shared/src/chains/evm/fees.ts). */
  feeCeilings?: Record<string, FeeCeiling>;
  head: GovernanceHead;
}

export interface ShareHolderState {
  active: boolean;
  /** Absent for a deployment node retired by the log (it was never added through it). */
  region?: string;
  /** Where the other share holders dial it, and where the edge does (from its join request). */
  nodeAddresses?: string[];
  edgeAddresses?: string[];
  /** Retired: the node that takes over its party index. */
  replacement?: string | null;
}

/**
 * The state before the first entry: the root credentials (SPKI hex or PEM) and, optionally, the
 * org's immutable all-operations permission created at bootstrap (assignments to it then grant
 * every operation at the nodes too).
 */
export function genesis(orgId: string, rootKeys: string[], rootPermissionId: string | null = null): GovernanceState {
  const roots = rootKeys.map((k) => (/^[0-9a-f]+$/.test(k) ? k : spkiHex(k))).filter((k): k is string => k !== null);
  if (roots.length !== rootKeys.length || roots.length === 0) throw new Error("every root must be a usable public key");
  const permissions: GovernanceState["permissions"] = rootPermissionId ? { [rootPermissionId]: { operations: [...DFNS_OPERATIONS], archived: false, immutable: true } } : {};
  return { orgId, roots, identities: {}, permissions, assignments: {}, shareHolders: {}, head: { length: 0, hash: GENESIS_HASH } };
}

export function spkiHex(publicKeyPem: string): string | null {
  const parsed = parsePublicKeyPem(publicKeyPem);
  return parsed ? bytesToHex(parsed.spki) : null;
}

/** The operations an identity holds now (deny by default). */
export function operationsOf(state: GovernanceState, identityId: string): Set<string> {
  const out = new Set<string>();
  for (const a of Object.values(state.assignments)) {
    if (a.identityId !== identityId) continue;
    const p = state.permissions[a.permissionId];
    if (p && !p.archived) for (const op of p.operations) out.add(op);
  }
  return out;
}

/** Whether the log retired this node from the org. */
export function isRetired(state: GovernanceState, peerId: string): boolean {
  return state.shareHolders[peerId]?.active === false;
}

/** The first of `peerIds` the log retired from the org, if any. */
export function retiredAmong(state: GovernanceState, peerIds: string[]): string | undefined {
  return peerIds.find((p) => isRetired(state, p));
}

export type ActorCheck = { ok: true; root: boolean } | { ok: false; reason: string };

/**
 * May `identityId`, signing with the credential whose public key is `publicKeyPem`, do
 * `operation`? A root credential may do anything as any identity; otherwise the credential must
 * be an active credential of an active identity holding the operation.
 */
export function checkActor(state: GovernanceState, identityId: string, publicKeyPem: string, operation: string | null): ActorCheck {
  const key = spkiHex(publicKeyPem);
  if (!key) return { ok: false, reason: "the credential's public key is unusable" };
  if (state.roots.includes(key)) return { ok: true, root: true };
  const identity = state.identities[identityId];
  if (!identity) return { ok: false, reason: `identity ${identityId} is not in the org's governance log` };
  if (!identity.active) return { ok: false, reason: `identity ${identityId} is deactivated in the governance log` };
  const credential = Object.values(identity.credentials).find((c) => c.key === key);
  if (!credential) return { ok: false, reason: `the credential is not one of identity ${identityId}'s in the governance log` };
  if (!credential.active) return { ok: false, reason: `the credential of ${identityId} is deactivated in the governance log` };
  if (operation && !operationsOf(state, identityId).has(operation)) return { ok: false, reason: `identity ${identityId} does not hold ${operation}` };
  return { ok: true, root: false };
}

// ------------------------------------------------------------------ applying entries

export type ApplyResult = { ok: true; state: GovernanceState } | { ok: false; reason: string };

const fail = (reason: string): ApplyResult => ({ ok: false, reason });

function payloadOf(e: UserActionEvidence): Record<string, unknown> | null {
  try {
    const v = JSON.parse(e.payload) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function clone(s: GovernanceState): GovernanceState {
  return structuredClone(s);
}

/**
 * Applies one entry to the state, or says why it must not be applied. `verifySignatures: false`
 * is for replaying entries this node already verified (its own stored log).
 */
export async function applyEntry(state: GovernanceState, entry: GovernanceEntry, o: { rpId?: string; verifySignatures?: boolean } = {}): Promise<ApplyResult> {
  if (entry.orgId !== state.orgId) return fail(`entry is for org ${entry.orgId}`);
  if (entry.index !== state.head.length) return fail(`entry ${entry.index} does not follow the head at length ${state.head.length}`);
  if (entry.prev !== state.head.hash) return fail(`entry ${entry.index} does not chain to the head`);
  const effect = governanceEffect.safeParse(entry.effect);
  if (!effect.success) return fail(`entry ${entry.index} has a malformed effect`);
  const next = clone(state);
  const problem = entry.evidence ? await applyAction(next, entry.evidence, effect.data, o) : applyRegistration(next, effect.data);
  if (problem) return fail(`entry ${entry.index}: ${problem}`);
  next.head = { length: state.head.length + 1, hash: entryHash(entry) };
  return { ok: true, state: next };
}

function applyRegistration(s: GovernanceState, effect: GovernanceEffect): string | null {
  if (effect.type !== "CredentialAdded") return "only a registration may come without a user action";
  const identity = s.identities[effect.identityId];
  if (!identity || identity.kind !== "User") return `user ${effect.identityId} was not created in the log`;
  if (Object.keys(identity.credentials).length > 0) return `user ${effect.identityId} is already registered`;
  const key = spkiHex(effect.publicKey);
  if (!key) return "the credential's public key is unusable";
  identity.credentials[effect.credentialUuid] = { key, active: true };
  return null;
}

async function applyAction(s: GovernanceState, e: UserActionEvidence, effect: GovernanceEffect, o: { rpId?: string; verifySignatures?: boolean }): Promise<string | null> {
  if (e.orgId !== s.orgId) return "the user action is for another org";
  if (o.verifySignatures !== false) {
    const verdict = await verifyUserActionEvidence(e, { rpId: o.rpId ?? "localhost" });
    if (!verdict.ok) return `user action: ${verdict.reason}`;
  }
  const route = operationFor(e.method, e.path);
  if (!route) return `${e.method} ${e.path} is not a governance action`;
  const actor = checkActor(s, e.subject, e.credential.publicKey, route.operation);
  if (!actor.ok) return actor.reason;
  const body = payloadOf(e) ?? {};
  const param = (name: string) => route.params[name];
  const fresh = (...ids: string[]) => ids.every((x) => !s.identities[x] && !s.permissions[x] && !s.assignments[x] && !s.policies?.[x] && !Object.values(s.identities).some((i) => i.credentials[x]));

  switch (route.name) {
    case "createServiceAccount":
    case "createUser": {
      if (effect.type !== "IdentityCreated") return "the effect does not match the request";
      const isSa = route.name === "createServiceAccount";
      if (effect.kind !== (isSa ? "ServiceAccount" : "User")) return "the identity kind does not match the request";
      if (!fresh(effect.identityId, ...effect.credentials.map((c) => c.credentialUuid))) return "the new ids are already in use";
      if (isSa) {
        if (effect.credentials.length !== 1 || typeof body.publicKey !== "string" || spkiHex(body.publicKey) !== spkiHex(effect.credentials[0]!.publicKey)) return "the service account's key is not the one requested";
      } else if (effect.credentials.length !== 0) return "a new user starts without credentials";
      const requested = typeof body.permissionId === "string" ? body.permissionId : null;
      if (effect.permissionId !== requested) return "the permission does not match the request";
      if (requested && !s.permissions[requested]) return `permission ${requested} is not in the log`;
      s.identities[effect.identityId] = {
        kind: effect.kind,
        active: true,
        credentials: Object.fromEntries(effect.credentials.map((c) => [c.credentialUuid, { key: spkiHex(c.publicKey)!, active: true }])),
      };
      if (requested) {
        if (!effect.assignmentId || !fresh(effect.assignmentId)) return "the permission's assignment needs a fresh id";
        s.assignments[effect.assignmentId] = { permissionId: requested, identityId: effect.identityId };
      } else if (effect.assignmentId) return "no permission was requested";
      return null;
    }
    case "addCredential": {
      if (effect.type !== "CredentialAdded" || effect.identityId !== e.subject) return "a credential can be added only to the signer's own identity";
      if (!fresh(effect.credentialUuid)) return "the new ids are already in use";
      const key = spkiHex(effect.publicKey);
      if (!key) return "the credential's public key is unusable";
      const identity = s.identities[e.subject];
      if (!identity) return "only identities of the log can add credentials";
      identity.credentials[effect.credentialUuid] = { key, active: true };
      return null;
    }
    case "activateCredential":
    case "deactivateCredential": {
      if (effect.type !== "CredentialActive" || effect.identityId !== e.subject || body.credentialUuid !== effect.credentialUuid) return "the effect does not match the request";
      if (effect.active !== (route.name === "activateCredential")) return "the effect does not match the request";
      const credential = s.identities[e.subject]?.credentials[effect.credentialUuid];
      if (!credential) return `credential ${effect.credentialUuid} is not in the log`;
      credential.active = effect.active;
      return null;
    }
    case "activateIdentity":
    case "deactivateIdentity":
    case "archiveIdentity": {
      if (effect.type !== "IdentityActive" || effect.identityId !== param("id")) return "the effect does not match the request";
      if (effect.active !== (route.name === "activateIdentity")) return "the effect does not match the request";
      const identity = s.identities[effect.identityId];
      if (identity) identity.active = effect.active;
      // An identity the log never created (made at bootstrap) has nothing to change here.
      return null;
    }
    case "createPermission": {
      if (effect.type !== "PermissionCreated" || !fresh(effect.permissionId)) return "the effect does not match the request";
      if (!Array.isArray(body.operations) || canonicalJson([...body.operations].sort()) !== canonicalJson([...effect.operations].sort())) return "the operations are not the ones requested";
      s.permissions[effect.permissionId] = { operations: effect.operations.filter((op) => (DFNS_OPERATIONS as readonly string[]).includes(op)), archived: false };
      return null;
    }
    case "updatePermission":
    case "archivePermission": {
      if (effect.type !== "PermissionUpdated" || effect.permissionId !== param("permissionId")) return "the effect does not match the request";
      const p = s.permissions[effect.permissionId];
      if (!p) return `permission ${effect.permissionId} is not in the log`;
      if (p.immutable) return "the root permission is immutable";
      if (route.name === "archivePermission") {
        if (effect.archived !== (body.isArchived !== false)) return "the effect does not match the request";
        p.archived = effect.archived!;
        return null;
      }
      const ops = Array.isArray(body.operations) ? (body.operations as string[]) : null;
      if (canonicalJson(ops ? [...ops].sort() : null) !== canonicalJson(effect.operations ? [...effect.operations].sort() : null)) return "the operations are not the ones requested";
      if (ops) p.operations = ops.filter((op) => (DFNS_OPERATIONS as readonly string[]).includes(op));
      return null;
    }
    case "assign": {
      if (effect.type !== "Assigned" || effect.permissionId !== param("permissionId") || effect.identityId !== body.identityId || !fresh(effect.assignmentId)) return "the effect does not match the request";
      if (!s.permissions[effect.permissionId]) return `permission ${effect.permissionId} is not in the log`;
      s.assignments[effect.assignmentId] = { permissionId: effect.permissionId, identityId: effect.identityId };
      return null;
    }
    case "setFeeCeiling": {
      if (effect.type !== "FeeCeilingSet" || effect.network !== param("network")) return "the effect does not match the request";
      const asked = (v: unknown) => (v === undefined || v === null ? null : v);
      if (asked(body.maxFee) !== effect.maxFee || asked(body.maxPriorityFeePerGas) !== effect.maxPriorityFeePerGas) return "the ceiling is not the one requested";
      s.feeCeilings = { ...s.feeCeilings };
      if (effect.maxFee === null && effect.maxPriorityFeePerGas === null) delete s.feeCeilings[effect.network];
      else s.feeCeilings[effect.network] = { maxFee: effect.maxFee, maxPriorityFeePerGas: effect.maxPriorityFeePerGas };
      return null;
    }
    case "unassign": {
      if (effect.type !== "Unassigned" || effect.assignmentId !== param("assignmentId")) return "the effect does not match the request";
      delete s.assignments[effect.assignmentId];
      return null;
    }
    case "addShareHolder": {
      if (effect.type !== "ShareHolderAdded" || canonicalJson(body.joinRequest ?? null) !== canonicalJson(effect.joinRequest)) return "the join request is not the one requested";
      // The node's own key signed what it asks for: an edge cannot add a node under another's peer id or addresses.
      const join = verifyJoinRequest(effect.joinRequest);
      if (!join.ok) return join.reason;
      const r = join.request;
      if (s.shareHolders[r.peerId]) return `share holder ${r.peerId} is already ${s.shareHolders[r.peerId]!.active ? "in" : "retired from"} the org`;
      s.shareHolders[r.peerId] = { active: true, region: r.region, nodeAddresses: r.addresses.nodes, edgeAddresses: r.addresses.edge };
      return null;
    }
    case "retireShareHolder": {
      if (effect.type !== "ShareHolderRetired" || effect.peerId !== param("peerId")) return "the effect does not match the request";
      const replacement = typeof body.replacement === "string" ? body.replacement : null;
      if (effect.replacement !== replacement) return "the replacement is not the one requested";
      if (isRetired(s, effect.peerId)) return `share holder ${effect.peerId} is already retired`;
      if (replacement !== null && (replacement === effect.peerId || s.shareHolders[replacement]?.active !== true)) return `the replacement ${replacement} is not an active share holder the log added`;
      s.shareHolders[effect.peerId] = { ...s.shareHolders[effect.peerId], active: false, replacement };
      return null;
    }
    case "createPolicy":
    case "updatePolicy":
    case "archivePolicy": {
      if (effect.type !== "PolicySet") return "the effect does not match the request";
      const p = effect.policy as Policy;
      const policies = (s.policies ??= {});
      const before = policies[p.id];
      if (route.name === "createPolicy") {
        if (!fresh(p.id) || p.version !== 1 || p.status !== "Active") return "a new policy needs a fresh id, version 1, Active";
      } else {
        if (p.id !== param("policyId")) return "the effect does not match the request";
        if (!before) return `policy ${p.id} is not in the log`;
        if (before.status !== "Active") return `policy ${p.id} is archived`;
        if (p.version !== before.version + 1) return `policy ${p.id} must move to version ${before.version + 1}`;
      }
      if (route.name === "archivePolicy") {
        // Only the status changes.
        if (p.status !== "Archived" || canonicalJson({ ...p, status: "Active", version: before!.version, dateUpdated: "" }) !== canonicalJson({ ...before!, dateUpdated: "" })) return "an archive changes only the status";
      } else {
        // The policy is exactly what the signed body asks for (the same schema the edge's route applies).
        const requested = policyBodySchema.safeParse(body);
        if (!requested.success) return "the request's policy body is invalid";
        const r = requested.data;
        if (p.status !== "Active" || canonicalJson({ name: p.name, activityKind: p.activityKind, rule: p.rule, action: p.action, filters: p.filters }) !== canonicalJson(r)) return "the policy is not the one requested";
      }
      policies[p.id] = p;
      return null;
    }
  }
}

/** The org's active policies as the log set them. */
export function activePolicies(state: GovernanceState): Policy[] {
  return Object.values(state.policies ?? {}).filter((p) => p.status === "Active");
}
