// The ceremony authorization: what the edge (the coordinator) hands every share-holder node before
// a keygen, signature or refresh, and what every node checks on its own before it contributes.
//
// Trust model. The edge signs the authorization with its Ed25519 authorization key, but the edge
// alone must never be able to obtain a signature. So a signing authorization also carries the end
// user's UserActionEvidence (shared/src/dfns), and each node
//   - verifies the user's credential signature over the commitment to method, path and exact body;
//   - recomputes the bytes to sign from that body itself (shared/src/mpc/intent.ts);
//   - requires the user's path to name this key or its wallet, the user's org to be the key's org,
//     and the user's credential to be one bound to the key at keygen (the credential that created
//     it). A compromised edge can invent credentials, but not ones bound to an existing key;
//   - lets one user action authorize one signed message only (a transfer cannot be signed twice
//     with different nonces), and one authorization nonce be used once (persisted replay cache).
//
// Canonical encoding (what the Ed25519 signature covers), deterministic so the edge and every node
// derive the same bytes from the parsed object:
//     UTF-8( "tessera.mpc.authorization.v1" "\n" canonicalJson(authorization) )
// with canonicalJson as in ./canonical-json.ts (sorted keys, no whitespace, JSON.stringify
// strings, safe integers only, absent optional members omitted). Unknown members are refused by
// the schema rather than dropped, so what is verified is exactly what was sent.
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { z } from "zod";
import { parsePublicKeyPem, type NativeVerify } from "../dfns/public-key.js";
import { decodeChallenge, USER_ACTION_MAX_AGE_SECONDS } from "../dfns/user-action.js";
import { verifyUserActionEvidence } from "../dfns/user-action-evidence.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { checkActor, governanceHeadSchema, retiredAmong, type GovernanceState } from "../governance/log.js";
import { keyOperationFor, operationFor } from "../governance/operations.js";
import { checkPolicyAtNode, HELD_REQUEST_MAX_AGE_MS, signingPolicyFactsSchema, type OwnUsage, type UsageRecord } from "../policy/at-nodes.js";
import { canonicalJson, canonicalJsonBytes } from "./canonical-json.js";
import { checkKeygenRequest, defaultChainIdOf, derivedWalletRequest, recomputeSigningMessage, signingIntent, walletIdOfKeyBinding, walletOnKeyRequest, type ChainIdOf } from "./intent.js";
import { MPC_SCHEMES, type MpcScheme } from "./scheme.js";
import { ceilingForChain, feeCeilingProblem, nonceGapProblem, nonceScope, provenNonce } from "../chains/evm/fees.js";
import { unsignedEvmTransaction } from "../chains/evm/rules.js";

export const AUTHORIZATION_VERSION = 1;
export const AUTHORIZATION_DOMAIN = "tessera.mpc.authorization.v1";

// ------------------------------------------------------------------ schema

const lowerHex = (min: number, max: number) =>
  z
    .string()
    .min(min * 2)
    .max(max * 2)
    .regex(/^([0-9a-f]{2})*$/, "must be lower-case hex bytes");

export const sessionIdHex = z.string().regex(/^[0-9a-f]{64}$/, "must be 32 bytes of lower-case hex");
/** A libp2p peer id as text (base58btc multihash). */
export const peerIdText = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{40,100}$/, "must be a libp2p peer id");
export const keyIdText = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 characters of [A-Za-z0-9._:-]");

export const partySchema = z.strictObject({ index: z.int().min(1).max(255), peerId: peerIdText });
export type Party = z.infer<typeof partySchema>;

const partyList = z
  .array(partySchema)
  .min(2)
  .max(32)
  .refine((ps) => ps.every((p, i) => i === 0 || p.index > ps[i - 1]!.index), "parties must be sorted by index, without repeats")
  .refine((ps) => new Set(ps.map((p) => p.peerId)).size === ps.length, "a peer may hold only one party index");

const b64url = z.string().max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/, "must be base64url");

export const userActionEvidenceSchema = z.strictObject({
  actionId: z.string().min(1).max(128),
  orgId: z.string().min(1).max(128),
  subject: z.string().min(1).max(128),
  tokenId: z.string().min(1).max(128),
  method: z.string().min(1).max(16),
  path: z.string().min(1).max(1024),
  payload: z.string().max(256 * 1024),
  nonce: z.string().min(1).max(256),
  expiry: z.int().nonnegative(),
  challenge: z.string().min(1).max(8192),
  challengeIdentifier: z.string().min(1).max(256),
  credential: z.strictObject({ credId: z.string().min(1).max(512), credentialUuid: z.string().min(1).max(128), kind: z.enum(["Key", "Fido2"]), publicKey: z.string().min(1).max(8192) }),
  assertion: z.strictObject({ clientData: b64url, signature: b64url, authenticatorData: b64url.nullable(), userHandle: z.string().max(512).nullable() }),
  signedAt: z.string().min(1).max(64),
}) satisfies z.ZodType<UserActionEvidence>;

const common = {
  version: z.literal(AUTHORIZATION_VERSION),
  /** Which edge issued it; selects the authorization key the node verifies with. */
  edgeId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  sessionId: sessionIdHex,
  keyId: keyIdText,
  scheme: z.enum(MPC_SCHEMES),
  /** Keygen/refresh: every party. Sign: exactly the signers. */
  parties: partyList,
  /** Single use, 16-64 random bytes. */
  nonce: lowerHex(16, 64),
  /** Unix milliseconds. */
  issuedAt: z.int().nonnegative(),
  expiresAt: z.int().nonnegative(),
  /**
   * The head of the org's governance log the edge acts under (governed orgs: required). Every
   * participant refuses unless its own log has exactly this head, and the session id is then
   * derived from the whole authorization (governedSessionId): nodes given different heads run
   * different sessions, which cannot complete together.
   */
  governance: governanceHeadSchema.optional(),
};

const derivationPath = z.string().regex(/^m(\/[0-9]{1,10}){1,32}$/, "must be a non-hardened BIP32 path like m/0/1");

export const keygenAuthorizationSchema = z.strictObject({
  ...common,
  kind: z.literal("keygen"),
  threshold: z.int().min(2).max(32),
  /** The wallet the key is created for (user paths /wallets/:walletId/… may then use it). */
  walletId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/).optional(),
  /** A fixed BIP32 child the key always signs with (ECDSA); sign authorizations must repeat it. */
  derivationPath: derivationPath.optional(),
  /**
   * Dfns's `signingKey.deriveFrom`: no ceremony; each node derives the BIP32 non-hardened child of
   * a master key it holds a share of at `path` and records only {master key, path} under `keyId`.
   * The path must be the one the user's request names (or the one derived from its challenge).
   */
  deriveFrom: z.strictObject({ keyId: keyIdText, path: derivationPath }).optional(),
  /** The user's POST /wallets or POST /keys. */
  userAction: userActionEvidenceSchema,
});

export const signAuthorizationSchema = z.strictObject({
  ...common,
  kind: z.literal("sign"),
  /** Exactly the bytes to sign (ECDSA: the 32-byte digest; FROST: the message). */
  message: lowerHex(1, 128 * 1024),
  derivationPath: derivationPath.optional(),
  /** What the message was derived from; every node re-derives it from the user's body. */
  intent: signingIntent,
  userAction: userActionEvidenceSchema,
  /**
   * When the user signs with a wallet created later on this existing key (Dfns: POST /wallets
   * {network, signingKey:{id}}): that creation request, as the user signed it. The wallet's id is
   * derived from it (walletIdOfKeyBinding), so nodes learn the wallet, its network and its consent
   * from the user alone, without a ceremony.
   */
  walletBinding: userActionEvidenceSchema.optional(),
  /**
   * Governed orgs: what the nodes' own policy evaluation needs beside the user's request — the
   * edge's claims about it, the approvers' signed decisions, the wallet's usage log
   * (shared/src/policy/at-nodes.ts).
   */
  policy: signingPolicyFactsSchema.optional(),
  /**
   * ECDSA: sign in one round from this presignature (the id of the presigning session of these
   * signers for this key, or its master). Each node erases its share of it before it answers, and
   * refuses one it does not hold (never made, already used, or made before a refresh).
   */
  presignature: sessionIdHex.optional(),
  /**
   * An EVM transaction: the key's signed transaction at the highest nonce the edge knows on that
   * chain, for a node that did not take part in signing it (shared/src/chains/evm/fees.ts).
   */
  nonceProof: z.strictObject({ transaction: z.string().max(2 * 128 * 1024 + 2).regex(/^0x([0-9a-fA-F]{2})+$/), signature: lowerHex(64, 64) }).optional(),
});

export const refreshAuthorizationSchema = z.strictObject({
  ...common,
  kind: z.literal("refresh"),
  /** Optional: a refresh changes shares, not keys, and yields no signature. */
  userAction: userActionEvidenceSchema.optional(),
});

/** Most presignatures one presigning ceremony makes (the core's limit, wasm/src/batch.rs). */
export const MAX_PRESIGNATURE_BATCH = 64;

/**
 * Presigning (wasm/vendor/dkls23-core/PRESIGN.md): the message-independent rounds of an ECDSA
 * signature with exactly `threshold` signers, ahead of time, for a key with shares of its own (a
 * derived key signs from its master's). Signs nothing by itself, so no user action.
 */
export const presignAuthorizationSchema = z.strictObject({
  ...common,
  kind: z.literal("presign"),
  /**
   * How many presignatures this one ceremony makes (their messages travel together, one frame
   * per round): their ids are presignatureIds(sessionId, count) (./presigned.ts), each used by
   * at most one signature.
   */
  count: z.int().min(1).max(MAX_PRESIGNATURE_BATCH),
  /** Never required (presigning signs nothing); checked like a refresh's when present. */
  userAction: userActionEvidenceSchema.optional(),
});


/**
 * Reshare onto a new party set: `target` (a share holder the org's log added) takes the party
 * index of `retired` (whom the log retired, naming `target` as its replacement), and every share
 * is refreshed. `parties` is the new set. The key's shape travels for the target, which holds
 * nothing yet; every current holder checks it against its own record, so the target adopts only
 * what the others hold: `origin` is the user's request that created the key (the target derives
 * the key's binding from it, as every node did at keygen), `generation` the share generation.
 */
export const reshareAuthorizationSchema = z.strictObject({
  ...common,
  kind: z.literal("reshare"),
  target: partySchema,
  retired: peerIdText,
  threshold: z.int().min(2).max(32),
  publicKey: lowerHex(32, 33),
  generation: z.int().nonnegative(),
  walletId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/).optional(),
  origin: userActionEvidenceSchema,
  /** The administrator's POST /tessera/share-holders/:retired/retire. */
  userAction: userActionEvidenceSchema,
});

export const authorizationSchema = z.discriminatedUnion("kind", [keygenAuthorizationSchema, signAuthorizationSchema, refreshAuthorizationSchema, presignAuthorizationSchema, reshareAuthorizationSchema]);
export type Authorization = z.infer<typeof authorizationSchema>;
export type KeygenAuthorization = z.infer<typeof keygenAuthorizationSchema>;
export type SignAuthorization = z.infer<typeof signAuthorizationSchema>;
export type RefreshAuthorization = z.infer<typeof refreshAuthorizationSchema>;
export type PresignAuthorization = z.infer<typeof presignAuthorizationSchema>;
export type ReshareAuthorization = z.infer<typeof reshareAuthorizationSchema>;
export type CeremonyKind = Authorization["kind"];

export const signedAuthorizationSchema = z.strictObject({ authorization: authorizationSchema, signature: lowerHex(64, 64) });
export type SignedAuthorization = z.infer<typeof signedAuthorizationSchema>;

// ------------------------------------------------------------------ encoding and signing

export function authorizationBytes(a: Authorization): Uint8Array {
  const body = canonicalJsonBytes(a);
  const prefix = new TextEncoder().encode(`${AUTHORIZATION_DOMAIN}\n`);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
}

function validAuthorization(a: Authorization): Authorization {
  const parsed = authorizationSchema.safeParse(a);
  if (!parsed.success) throw new Error(`invalid authorization: ${zodIssues(parsed.error)}`);
  if (parsed.data.expiresAt <= parsed.data.issuedAt) throw new Error("invalid authorization: expiresAt must be after issuedAt");
  return parsed.data;
}

/** The edge's side: validates, then signs with the 32-byte Ed25519 secret key. */
export function signAuthorization(a: Authorization, edgeSecretKey: Uint8Array): SignedAuthorization {
  const valid = validAuthorization(a);
  return { authorization: valid, signature: bytesToHex(ed25519.sign(authorizationBytes(valid), edgeSecretKey)) };
}

/**
 * The 32-byte Ed25519 secret key as a WebCrypto key (PKCS#8 around the seed), for
 * signAuthorizationNative: the runtime's own Ed25519 (workerd, Node) instead of noble's in JS.
 */
export function ed25519SigningKey(edgeSecretKey: Uint8Array): Promise<CryptoKey> {
  if (edgeSecretKey.length !== 32) throw new Error("an Ed25519 secret key is 32 bytes");
  const pkcs8 = new Uint8Array(48);
  pkcs8.set([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
  pkcs8.set(edgeSecretKey, 16);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
}

/**
 * signAuthorization with a WebCrypto key (ed25519SigningKey): Ed25519 signatures are
 * deterministic (RFC 8032), so the bytes are the same as noble's (authorization.test.ts checks it).
 */
export async function signAuthorizationNative(a: Authorization, key: CryptoKey): Promise<SignedAuthorization> {
  const valid = validAuthorization(a);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, authorizationBytes(valid) as Uint8Array<ArrayBuffer>));
  return { authorization: valid, signature: bytesToHex(signature) };
}

/** The session id of a governed ceremony: a hash of everything else the authorization says. */
export function governedSessionId(a: Omit<Authorization, "sessionId"> | Authorization): string {
  const { sessionId: _ignored, ...rest } = a as Authorization;
  return bytesToHex(sha256(new TextEncoder().encode(`tessera.mpc.session.v1\n${canonicalJson(rest)}`)));
}

export function edgePublicKeyOf(edgeSecretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(edgeSecretKey);
}

export function randomNonceHex(bytes = 16): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Identifies a credential by its public key (DER SPKI hex), whatever the PEM's line breaks. */
export function credentialKeyId(publicKeyPem: string): string | null {
  const parsed = parsePublicKeyPem(publicKeyPem);
  return parsed ? bytesToHex(parsed.spki) : null;
}

function zodIssues(e: z.ZodError): string {
  return e.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

// ------------------------------------------------------------------ node-side verification

/** What a node knows about a key it holds a share of. */
export interface KeyRecordView {
  keyId: string;
  scheme: MpcScheme;
  threshold: number;
  parties: Party[];
  orgId: string;
  walletId: string | null;
  network: string | null;
  derivationPath: string | null;
  /** The group public key (hex), when the node's record has it (chain families that check change addresses need it). */
  publicKey?: string;
  /** credentialKeyId of every credential allowed to authorize signatures with this key (an ungoverned org's key). */
  credentials: string[];
  /** The identity that owns the key, in its org's governance log: any active credential of it may sign. */
  owner?: string | null;
  /** A derived key (deriveFrom): the master key whose share signs at `derivationPath`; `publicKey` is then the child's. */
  masterKeyId?: string | null;
  /** The share generation (refreshes and reshares so far). */
  generation?: number;
}

export type RefusalCode = "malformed" | "unknown-edge" | "forged" | "expired" | "replayed" | "mismatch" | "banned" | "user-evidence" | "intent" | "governance" | "policy";

/** The org's policies at this node, decided atomically with recording the wallet's usage (AuthorizationContext.claim). */
export interface PolicyClaim {
  walletId: string;
  /** The request's usage record, when a velocity policy applies (kept by the node as its own). */
  record: UsageRecord | null;
  decide(own: OwnUsage[], now: number): string | null;
}

export type AuthorizationCheck =
  | {
      ok: true;
      authorization: Authorization;
      /** Sign: the bytes this node itself derived from the user's request. */
      message?: Uint8Array;
      /** Sign: what the user action may sign, when one action authorizes several messages (a Bitcoin transaction's inputs). */
      claim?: string;
      /** Sign under a velocity policy: the usage record this node keeps, to mark done once it contributed. */
      usage?: { walletId: string; requestId: string };
      /** Keygen (and a reshare's new holder): what the node records about the new key, from the user's own action. */
      binding?: KeyBinding;
      /** Sign, an EVM transaction: the nonce this node records as signed once the signature exists. */
      evmNonce?: { scope: string; nonce: number };
    }
  | { ok: false; code: RefusalCode; reason: string };

/** What a node records about a new key (keygen) or derived key (deriveFrom), from the user's own action. */
export interface KeyBinding {
  orgId: string;
  walletId: string | null;
  network: string | null;
  derivationPath: string | null;
  credentials: string[];
  owner: string | null;
  /** deriveFrom: the master key; the node stores no share for this key. */
  masterKeyId?: string;
}

export interface AuthorizationContext {
  /** Ed25519 public keys (32 bytes) of the edges this node accepts, by edge id. */
  edgeKeys: ReadonlyMap<string, Uint8Array>;
  /** This node's peer id: it must be one of the parties. */
  self: string;
  /** The ceremony the coordinator opened (the protocol it used). */
  expectedKind: CeremonyKind;
  /** Unix milliseconds. */
  now: number;
  /** Longest allowed expiresAt - issuedAt (default 5 minutes). */
  maxLifetimeMs?: number;
  /** Tolerated clock difference with the edge (default 30 s). */
  clockSkewMs?: number;
  /**
   * A user action is accepted for this long after its challenge was issued (default 5 minutes):
   * an edge cannot stockpile signed actions and spend them later.
   */
  userActionMaxAgeMs?: number;
  /** WebAuthn relying party id passkey assertions must be bound to. */
  rpId?: string;
  /**
   * The runtime's own synchronous signature check (NativeVerify) for the edge's signature and the
   * user's credential; without it, WebCrypto checks them. The same checks either way.
   */
  nativeVerify?: NativeVerify;
  /** USD per whole unit of an asset, by priceKey, for the org's amount rules (this node's own prices). */
  policyPrices?: Record<string, string>;
  chainIdOf?: ChainIdOf;
  key(keyId: string): KeyRecordView | undefined;
  /** The org's governance state at this node (after syncing the entries the request carried), or null if the org has no root of trust here. */
  governance?(orgId: string): Promise<GovernanceState | null>;
  isBanned(keyId: string, peerId: string): boolean;
  /** The highest EVM nonce this node knows signed in a scope (nonceScope: key and chain); null if none. Without it the nonce rule is not applied. */
  evmNonce?(scope: string): number | null;
  /**
   * Atomically spends the nonce and the session id and, for a signature, binds the user action
   * to what it signs; refuses if the nonce or session id was seen, or the user action already
   * authorized something else. Called
   * last, only for an authorization that passed every other check.
   */
  claim(c: { edgeId: string; nonce: string; sessionId: string; expiresAt: number; userAction?: { challenge: string; binding: string }; policy?: PolicyClaim }): { ok: true } | { ok: false; reason: string; code?: RefusalCode };
}

// The edge signature is checked with the runtime's own Ed25519 (WebCrypto: OpenSSL in Node, BoringSSL
// in workerd) rather than noble: every node checks one per ceremony, and noble's verify costs ≈ 3 ms
// of a signature's node CPU where the native one costs ≈ 0.1 ms. Both verify RFC 8032 signatures
// (canonical S, canonical encodings); the imported keys are cached per edge key.
const edgeVerifyKeys = new Map<string, Promise<CryptoKey>>();
function edgeVerifyKey(raw: Uint8Array): Promise<CryptoKey> {
  const id = bytesToHex(raw);
  let key = edgeVerifyKeys.get(id);
  if (!key) {
    if (edgeVerifyKeys.size >= 64) edgeVerifyKeys.clear();
    key = crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "Ed25519", false, ["verify"]);
    edgeVerifyKeys.set(id, key);
    key.catch(() => edgeVerifyKeys.delete(id));
  }
  return key;
}

/** A raw 32-byte Ed25519 public key as SubjectPublicKeyInfo (RFC 8410: a fixed prefix, then the key). */
function ed25519Spki(raw: Uint8Array): Uint8Array {
  const spki = new Uint8Array(44);
  spki.set([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
  spki.set(raw, 12);
  return spki;
}

const refuse = (code: RefusalCode, reason: string): AuthorizationCheck => ({ ok: false, code, reason });

/** A sign check's policy decision still to run at claim time (kept beside the check, not in what it returns). */
const policyPending = new WeakMap<AuthorizationCheck, { walletId: string; record: UsageRecord | null; newestApprovedAt: number | null; decide(own: OwnUsage[], now: number, held: boolean): string | null }>();

export async function verifyAuthorization(input: unknown, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  const parsed = signedAuthorizationSchema.safeParse(input);
  if (!parsed.success) return refuse("malformed", `authorization is malformed: ${zodIssues(parsed.error)}`);
  const { authorization: a, signature } = parsed.data;

  const edgeKey = ctx.edgeKeys.get(a.edgeId);
  if (!edgeKey) return refuse("unknown-edge", `edge ${a.edgeId} is not one this node accepts`);
  let signed = false;
  try {
    signed = ctx.nativeVerify
      ? ctx.nativeVerify("Ed25519", ed25519Spki(edgeKey), authorizationBytes(a), hexToBytes(signature))
      : await crypto.subtle.verify("Ed25519", await edgeVerifyKey(edgeKey), hexToBytes(signature) as Uint8Array<ArrayBuffer>, authorizationBytes(a) as Uint8Array<ArrayBuffer>);
  } catch {
    signed = false;
  }
  if (!signed) return refuse("forged", `the signature is not edge ${a.edgeId}'s`);

  const skew = ctx.clockSkewMs ?? 30_000;
  const maxLifetime = ctx.maxLifetimeMs ?? 5 * 60_000;
  if (a.issuedAt > ctx.now + skew) return refuse("expired", "issued in the future");
  if (ctx.now >= a.expiresAt) return refuse("expired", `expired ${ctx.now - a.expiresAt} ms ago`);
  if (a.expiresAt - a.issuedAt > maxLifetime) return refuse("expired", `valid for ${a.expiresAt - a.issuedAt} ms, more than the ${maxLifetime} ms allowed`);

  if (a.kind !== ctx.expectedKind) return refuse("mismatch", `a ${a.kind} authorization was sent on the ${ctx.expectedKind} protocol`);
  if (!a.parties.some((p) => p.peerId === ctx.self)) return refuse("mismatch", "this node is not one of the parties");

  const checked =
    a.kind === "keygen"
      ? await checkKeygen(a, ctx)
      : a.kind === "sign"
        ? await checkSign(a, ctx)
        : a.kind === "presign"
          ? checkPresign(a, ctx)
          : a.kind === "refresh"
            ? await checkRefresh(a, ctx)
            : await checkReshare(a, ctx);
  if (!checked.ok) return checked;

  const pending = a.kind === "sign" ? policyPending.get(checked) : undefined;
  let held = false;
  if (a.userAction) {
    const maxAge = ctx.userActionMaxAgeMs ?? USER_ACTION_MAX_AGE_SECONDS * 1000;
    const age = userActionAgeProblem(a.userAction, ctx.now, maxAge, skew);
    if (age) {
      // A request the policies held for approval is signed when its approvals complete, possibly
      // long after its initiator signed: then the approvers' verified decisions carry the freshness
      // (the newest within the cap), and the decision must indeed have required them.
      held = pending !== undefined && pending.newestApprovedAt !== null && ctx.now - pending.newestApprovedAt <= maxAge && userActionAgeProblem(a.userAction, ctx.now, HELD_REQUEST_MAX_AGE_MS, skew) === null;
      if (!held) return refuse("user-evidence", age);
    }
  }
  const claim = ctx.claim({
    edgeId: a.edgeId,
    nonce: a.nonce,
    sessionId: a.sessionId,
    expiresAt: a.expiresAt,
    // One user action, one signed message — or, for a multi-signature transaction, the messages of
    // that one transaction (its family's claim binding), each as often as retries need — and, apart
    // from it, at most one nonce fill (a zero-value self-transfer at a nonce the request left
    // unused), bound under its own key.
    ...(a.kind === "sign"
      ? { userAction: { challenge: `${a.userAction.challenge}${a.intent.kind === "NonceFill" ? "#nonce-fill" : ""}`, binding: `${a.keyId}:${a.derivationPath ?? ""}:${checked.claim ?? a.message}` } }
      : {}),
    ...(pending ? { policy: { walletId: pending.walletId, record: pending.record, decide: (own: OwnUsage[], now: number) => pending.decide(own, now, held) } } : {}),
  });
  if (!claim.ok) return refuse(claim.code ?? "replayed", claim.reason);
  return pending?.record ? { ...checked, usage: { walletId: pending.walletId, requestId: pending.record.requestId } } : checked;
}

/** The user action's challenge was issued within the cap, and not in the future. */
export function userActionAgeProblem(e: UserActionEvidence, now: number, maxAgeMs: number, skewMs: number): string | null {
  const claims = decodeChallenge(e.challenge);
  if (!claims || claims.kind !== "UserAction") return "the user action's challenge is not a user action";
  const issuedAt = claims.issuedAt * 1000;
  if (issuedAt > now + skewMs) return "the user action was issued in the future";
  if (now - issuedAt > maxAgeMs) return `the user action is ${Math.round((now - issuedAt) / 1000)} s old, older than the ${Math.round(maxAgeMs / 1000)} s allowed`;
  return null;
}

async function checkUserEvidence(e: UserActionEvidence, ctx: AuthorizationContext): Promise<AuthorizationCheck | null> {
  const verdict = await verifyUserActionEvidence(e, { rpId: ctx.rpId ?? "localhost", ...(ctx.nativeVerify ? { native: ctx.nativeVerify } : {}) });
  return verdict.ok ? null : refuse("user-evidence", `user action: ${verdict.reason}`);
}

function checkBans(a: Authorization, ctx: AuthorizationContext): AuthorizationCheck | null {
  const banned = a.parties.find((p) => ctx.isBanned(a.keyId, p.peerId));
  return banned ? refuse("banned", `peer ${banned.peerId} is banned from key ${a.keyId}`) : null;
}

async function checkKeygen(a: KeygenAuthorization, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  if (ctx.key(a.keyId)) return refuse("mismatch", `key ${a.keyId} already exists`);
  if (a.deriveFrom) return checkDerive(a, a.deriveFrom, ctx);
  if (a.threshold > a.parties.length) return refuse("mismatch", `threshold ${a.threshold} exceeds the ${a.parties.length} parties`);
  if (a.derivationPath && a.scheme !== "ecdsa-secp256k1") return refuse("mismatch", "only ECDSA keys support derivation paths");
  const evidence = await checkUserEvidence(a.userAction, ctx);
  if (evidence) return evidence;
  const request = checkKeygenRequest(a.userAction, a.scheme, ctx.chainIdOf ?? defaultChainIdOf);
  if (!request.ok) return refuse("intent", request.reason);
  if (request.target === "wallet" && !a.walletId) return refuse("mismatch", "a wallet's key needs the wallet id");
  if (request.target === "key" && a.walletId) return refuse("mismatch", "the user created a key, not a wallet");
  const credential = credentialKeyId(a.userAction.credential.publicKey);
  if (!credential) return refuse("user-evidence", "the user's credential public key is unusable");
  const gov = await governed(a, a.userAction.orgId, ctx);
  if (!gov.ok) return gov.refusal;
  if (gov.state) {
    const actor = checkActor(gov.state, a.userAction.subject, a.userAction.credential.publicKey, keyOperationFor(a.userAction.method, a.userAction.path) ?? "(none)");
    if (!actor.ok) return refuse("governance", actor.reason);
    const retired = retiredAmong(gov.state, a.parties.map((p) => p.peerId));
    if (retired) return refuse("governance", `share holder ${retired} is retired from org ${a.userAction.orgId} by its governance log`);
  }
  return {
    ok: true,
    authorization: a,
    binding: { orgId: a.userAction.orgId, walletId: a.walletId ?? null, network: request.network ?? null, derivationPath: a.derivationPath ?? null, credentials: [credential], owner: gov.state ? a.userAction.subject : null },
  };
}

/**
 * A derived wallet (Dfns `signingKey.deriveFrom`). Authorized like a keygen — the user's own
 * POST /wallets, verified here; in a governed org an active credential of a log-known identity
 * holding Wallets:Create — and, because the child signs with the master key's shares, only by
 * whoever may sign with the master key: its owner in a governed org (who then owns the child),
 * otherwise a credential bound to it (the child gets the master's credentials). The path is the
 * one the user's request names, or the one derived from its challenge; the node derives the child
 * key itself from its own share.
 */
async function checkDerive(a: KeygenAuthorization, from: { keyId: string; path: string }, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  if (a.scheme !== "ecdsa-secp256k1") return refuse("mismatch", "only ECDSA secp256k1 keys derive children (BIP32 non-hardened)");
  if (a.derivationPath) return refuse("mismatch", "a derived key's path is deriveFrom.path");
  if (!a.walletId) return refuse("mismatch", "a derived wallet needs the wallet id");
  const master = ctx.key(from.keyId);
  if (!master) return refuse("mismatch", `this node holds no share of master key ${from.keyId}`);
  if (master.masterKeyId || master.derivationPath) return refuse("mismatch", `key ${from.keyId} is itself derived: derive from its master key`);
  if (master.scheme !== a.scheme) return refuse("mismatch", `key ${from.keyId} is ${master.scheme}, not ${a.scheme}`);
  if (a.threshold !== master.threshold || a.parties.length !== master.parties.length) return refuse("mismatch", `a key derived from ${from.keyId} has its ${master.threshold}-of-${master.parties.length} parties`);
  for (const p of a.parties) {
    const held = master.parties.find((k) => k.index === p.index);
    if (!held || held.peerId !== p.peerId) return refuse("mismatch", `party ${p.index} of key ${from.keyId} is not peer ${p.peerId}`);
  }
  const banned = a.parties.find((p) => ctx.isBanned(from.keyId, p.peerId));
  if (banned) return refuse("banned", `peer ${banned.peerId} is banned from key ${from.keyId}`);
  const evidence = await checkUserEvidence(a.userAction, ctx);
  if (evidence) return evidence;
  const request = derivedWalletRequest(a.userAction, from.keyId, a.scheme, ctx.chainIdOf ?? defaultChainIdOf);
  if (!request.ok) return refuse("intent", request.reason);
  if (request.path !== from.path) return refuse("intent", `the user's request derives at ${request.path}, not ${from.path}`);
  if (a.userAction.orgId !== master.orgId) return refuse("user-evidence", `the user action is from org ${a.userAction.orgId}, key ${from.keyId} belongs to another org`);
  const gov = await governed(a, master.orgId, ctx);
  if (!gov.ok) return gov.refusal;
  if (gov.state) {
    const actor = checkActor(gov.state, a.userAction.subject, a.userAction.credential.publicKey, keyOperationFor(a.userAction.method, a.userAction.path) ?? "(none)");
    if (!actor.ok) return refuse("governance", actor.reason);
    const retired = retiredAmong(gov.state, a.parties.map((p) => p.peerId));
    if (retired) return refuse("governance", `share holder ${retired} is retired from org ${master.orgId} by its governance log`);
  }
  if (gov.state && master.owner) {
    if (a.userAction.subject !== master.owner) return refuse("governance", `key ${from.keyId} is owned by ${master.owner}: only its owner derives wallets from it, not ${a.userAction.subject}`);
  } else {
    const binding = checkUserBinding(a.userAction, master);
    if (binding) return binding;
  }
  return {
    ok: true,
    authorization: a,
    binding: { orgId: master.orgId, walletId: a.walletId, network: request.network, derivationPath: from.path, credentials: master.credentials, owner: gov.state ? (master.owner ?? null) : null, masterKeyId: from.keyId },
  };
}

function checkKeyParties(a: SignAuthorization | RefreshAuthorization | PresignAuthorization, key: KeyRecordView): AuthorizationCheck | null {
  if (a.scheme !== key.scheme) return refuse("mismatch", `key ${a.keyId} is ${key.scheme}, not ${a.scheme}`);
  for (const p of a.parties) {
    const held = key.parties.find((k) => k.index === p.index);
    if (!held || held.peerId !== p.peerId) return refuse("mismatch", `party ${p.index} of key ${a.keyId} is not peer ${p.peerId}`);
  }
  return null;
}

function checkUserBinding(e: UserActionEvidence, key: KeyRecordView): AuthorizationCheck | null {
  if (e.orgId !== key.orgId) return refuse("user-evidence", `the user action is from org ${e.orgId}, key ${key.keyId} belongs to another org`);
  const credential = credentialKeyId(e.credential.publicKey);
  if (!credential || !key.credentials.includes(credential)) return refuse("user-evidence", `credential ${e.credential.credId} is not bound to key ${key.keyId}`);
  return null;
}

/**
 * Who may sign with a key. A governed org's key is owned by an identity: any credential of the
 * owner that the log holds active may sign (a second credential, after the first was lost), and a
 * deactivation in the log is honoured at once; `includeInactive` also accepts a credential the
 * owner has deactivated since (for evidence of an earlier request, such as the original of a
 * speed-up). An ungoverned org's key: the credential bound at keygen.
 */
export function checkSigner(e: UserActionEvidence, key: KeyRecordView, state: GovernanceState | null, o: { includeInactive?: boolean } = {}): AuthorizationCheck | null {
  if (!state || !key.owner) return checkUserBinding(e, key);
  if (e.orgId !== key.orgId) return refuse("user-evidence", `the user action is from org ${e.orgId}, key ${key.keyId} belongs to another org`);
  if (e.subject !== key.owner) return refuse("governance", `key ${key.keyId} is owned by ${key.owner}, not ${e.subject}`);
  if (o.includeInactive) {
    const spki = credentialKeyId(e.credential.publicKey);
    const credentials = Object.values(state.identities[key.owner]?.credentials ?? {});
    if (spki && (state.roots.includes(spki) || credentials.some((c) => c.key === spki))) return null;
    return refuse("governance", `the credential is not one of ${key.owner}'s in the governance log`);
  }
  const actor = checkActor(state, key.owner, e.credential.publicKey, null);
  return actor.ok ? null : refuse("governance", actor.reason);
}

async function checkSign(a: SignAuthorization, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  const key = ctx.key(a.keyId);
  if (!key) return refuse("mismatch", `this node holds no share of key ${a.keyId}`);
  const parties = checkKeyParties(a, key);
  if (parties) return parties;
  const needed = key.threshold;
  if (a.scheme === "ecdsa-secp256k1" ? a.parties.length !== needed : a.parties.length < needed) {
    return refuse("mismatch", `key ${a.keyId} signs with ${a.scheme === "ecdsa-secp256k1" ? "exactly" : "at least"} ${needed} parties, not ${a.parties.length}`);
  }
  if ((a.derivationPath ?? null) !== key.derivationPath) return refuse("mismatch", `key ${a.keyId} signs with derivation path ${key.derivationPath ?? "(none)"}, not ${a.derivationPath ?? "(none)"}`);
  const banned = checkBans(a, ctx);
  if (banned) return banned;
  const evidence = await checkUserEvidence(a.userAction, ctx);
  if (evidence) return evidence;
  const gov = await governed(a, key.orgId, ctx);
  if (!gov.ok) return gov.refusal;
  const retired = gov.state ? retiredAmong(gov.state, a.parties.map((p) => p.peerId)) : undefined;
  if (retired) return refuse("governance", `share holder ${retired} is retired from org ${key.orgId} by its governance log`);
  const signer = checkSigner(a.userAction, key, gov.state);
  if (signer) return signer;
  let signingKey: KeyRecordView = key;
  if (a.walletBinding) {
    const bound = await checkWalletBinding(a.walletBinding, key, gov.state, ctx);
    if (!bound.ok) return bound.refusal;
    signingKey = { ...key, walletId: bound.walletId, network: bound.network };
  }
  if (a.intent.kind === "Replacement") {
    // The original request's action is the user's evidence too: verified and bound like the first.
    const original = userActionEvidenceSchema.safeParse(a.intent.original.userAction);
    if (!original.success) return refuse("malformed", `the original request's user action: ${zodIssues(original.error)}`);
    const originalEvidence = await checkUserEvidence(original.data, ctx);
    if (originalEvidence) return originalEvidence;
    // By the owner, with a credential of theirs in the log (it may have been deactivated since: the
    // speed-up itself is signed by an active one, checked above).
    const originalBinding = checkSigner(original.data, key, gov.state, { includeInactive: true });
    if (originalBinding) return originalBinding;
  }
  // A derived key's record holds the child's own public key (its address is known to this node).
  if (key.masterKeyId) signingKey = { ...signingKey, derivationPath: null };
  const recomputed = recomputeSigningMessage({ intent: a.intent, userAction: a.userAction, key: signingKey, ...(ctx.chainIdOf ? { chainIdOf: ctx.chainIdOf } : {}) });
  if (!recomputed.ok) return refuse("intent", recomputed.reason);
  if (bytesToHex(recomputed.message) !== a.message) return refuse("intent", "the message to sign is not the one derived from the user's request");
  const fees = checkEvmFeesAndNonce(a, key, gov.state, ctx);
  if (!fees.ok) return fees.refusal;
  const out: AuthorizationCheck = { ok: true, authorization: a, message: recomputed.message, ...(recomputed.binding ? { claim: recomputed.binding } : {}), ...(fees.evmNonce ? { evmNonce: fees.evmNonce } : {}) };
  if (gov.state && signingKey.walletId) {
    // The org's policies, as this node's own governance log has them (shared/src/policy/at-nodes.ts).
    const policy = await checkPolicyAtNode({
      state: gov.state,
      walletId: signingKey.walletId,
      network: signingKey.network,
      userAction: a.userAction,
      intent: a.intent,
      facts: a.policy,
      prices: ctx.policyPrices ?? {},
      rpId: ctx.rpId ?? "localhost",
      skewMs: ctx.clockSkewMs ?? 30_000,
      now: ctx.now,
    });
    if (!policy.ok) return refuse("policy", policy.reason);
    if (policy.applies) policyPending.set(out, { walletId: signingKey.walletId, record: policy.usage?.record ?? null, newestApprovedAt: policy.newestApprovedAt, decide: policy.decide });
  }
  return out;
}

/** The EVM transaction a signature is for (hex), if it is one. */
export function evmTransactionOf(intent: SignAuthorization["intent"], key: Pick<KeyRecordView, "scheme" | "network">, chainIdOf: ChainIdOf): string | null {
  if (key.scheme !== "ecdsa-secp256k1") return null;
  switch (intent.kind) {
    case "EvmCall":
    case "NonceFill":
    case "Replacement":
      return intent.transaction;
    case "Transfer":
      return chainIdOf(intent.network) !== undefined ? intent.transaction : null;
    case "Transaction":
      return !key.network || chainIdOf(key.network) !== undefined ? intent.transaction : null;
    default:
      return null;
  }
}

/**
 * Every EVM transaction a node signs: within the org's fee ceiling for its chain (governed orgs),
 * and at a nonce no further than one past the highest this node knows the key signed on that chain
 * (its own record, or the edge's proof: a transaction at that nonce signed by the key).
 */
function checkEvmFeesAndNonce(
  a: SignAuthorization,
  key: KeyRecordView,
  state: GovernanceState | null,
  ctx: AuthorizationContext,
): { ok: true; evmNonce?: { scope: string; nonce: number } } | { ok: false; refusal: AuthorizationCheck } {
  const chainIdOf = ctx.chainIdOf ?? defaultChainIdOf;
  const hex = evmTransactionOf(a.intent, key, chainIdOf);
  if (!hex) return { ok: true };
  const tx = unsignedEvmTransaction(hex);
  if (state) {
    const applies = ceilingForChain(state.feeCeilings, tx.chainId, chainIdOf);
    const problem = applies ? feeCeilingProblem(tx, applies.ceiling, applies.network) : null;
    if (problem) return { ok: false, refusal: refuse("governance", problem) };
  }
  if (!ctx.evmNonce || tx.chainId === undefined) return { ok: true };
  const scope = nonceScope(a.keyId, tx.chainId);
  const nonce = tx.nonce ?? 0;
  let seen = ctx.evmNonce(scope);
  // The key's own public key: a derived key's record holds the child's; a fixed-path key's only the master's.
  if (nonceGapProblem(nonce, seen) && a.nonceProof && key.publicKey && (!key.derivationPath || key.masterKeyId)) {
    // Signed while this node sat out: the key's own signature on the earlier transaction proves it.
    const proven = provenNonce(a.nonceProof, tx.chainId, key.publicKey);
    if (proven !== null && (seen === null || proven > seen)) seen = proven;
  }
  const gap = nonceGapProblem(nonce, seen);
  if (gap) return { ok: false, refusal: refuse("intent", gap) };
  return { ok: true, evmNonce: { scope, nonce } };
}

/**
 * Another wallet on an existing key: the user's own POST /wallets {network, signingKey:{id}} naming
 * this key, by a credential bound to it, in its org. The wallet id is the one derived from that
 * request, so a wallet id the edge made up matches no binding.
 */
async function checkWalletBinding(
  e: UserActionEvidence,
  key: KeyRecordView,
  state: GovernanceState | null,
  ctx: AuthorizationContext,
): Promise<{ ok: true; walletId: string; network: string } | { ok: false; refusal: AuthorizationCheck }> {
  const evidence = await checkUserEvidence(e, ctx);
  if (evidence) return { ok: false, refusal: evidence };
  const bound = checkSigner(e, key, state, { includeInactive: true });
  if (bound) return { ok: false, refusal: bound };
  const request = walletOnKeyRequest(e, key.keyId, key.scheme, ctx.chainIdOf ?? defaultChainIdOf);
  if (!request.ok) return { ok: false, refusal: refuse("intent", request.reason) };
  return { ok: true, walletId: walletIdOfKeyBinding(e.challenge), network: request.network };
}

/**
 * A governed org (a root of trust at this node): the authorization must name this node's own
 * governance head, and its session id must be derived from it. An ungoverned org: no head.
 */
async function governed(a: Authorization, orgId: string, ctx: AuthorizationContext): Promise<{ ok: true; state: GovernanceState | null } | { ok: false; refusal: AuthorizationCheck }> {
  const state = (await ctx.governance?.(orgId)) ?? null;
  // An org without a root of trust here is judged as before (the key's bound credentials); the
  // edge names its head whatever the nodes know, so a head is not refused.
  if (!state) return { ok: true, state: null };
  if (!a.governance) return { ok: false, refusal: refuse("governance", `org ${orgId} is governed: the request must name the governance head`) };
  if (a.governance.length !== state.head.length || a.governance.hash !== state.head.hash) {
    return { ok: false, refusal: refuse("governance", `this node's governance log of org ${orgId} is at ${state.head.length}:${state.head.hash.slice(0, 16)}, the request names ${a.governance.length}:${a.governance.hash.slice(0, 16)}`) };
  }
  if (a.sessionId !== governedSessionId(a)) return { ok: false, refusal: refuse("governance", "the session id is not derived from the authorization") };
  return { ok: true, state };
}

function checkPresign(a: PresignAuthorization, ctx: AuthorizationContext): AuthorizationCheck {
  const key = ctx.key(a.keyId);
  if (!key) return refuse("mismatch", `this node holds no share of key ${a.keyId}`);
  if (key.scheme !== "ecdsa-secp256k1" || a.scheme !== "ecdsa-secp256k1") return refuse("mismatch", `presignatures exist only for ecdsa-secp256k1 keys`);
  const parties = checkKeyParties(a, key);
  if (parties) return parties;
  if (key.masterKeyId) return refuse("mismatch", `key ${a.keyId} is derived from ${key.masterKeyId}: presign the master key`);
  if (a.parties.length !== key.threshold) return refuse("mismatch", `key ${a.keyId} presigns with exactly ${key.threshold} parties, not ${a.parties.length}`);
  const banned = checkBans(a, ctx);
  if (banned) return banned;
  return { ok: true, authorization: a };
}

async function checkRefresh(a: RefreshAuthorization, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  const key = ctx.key(a.keyId);
  if (!key) return refuse("mismatch", `this node holds no share of key ${a.keyId}`);
  const parties = checkKeyParties(a, key);
  if (parties) return parties;
  if (key.masterKeyId) return refuse("mismatch", `key ${a.keyId} is derived from ${key.masterKeyId} and has no shares of its own: refresh the master key`);
  if (a.parties.length !== key.parties.length) return refuse("mismatch", `a refresh of key ${a.keyId} needs all ${key.parties.length} parties`);
  const banned = checkBans(a, ctx);
  if (banned) return banned;
  if (a.userAction) {
    const evidence = await checkUserEvidence(a.userAction, ctx);
    if (evidence) return evidence;
    const binding = checkUserBinding(a.userAction, key);
    if (binding) return binding;
  }
  return { ok: true, authorization: a };
}

/**
 * Reshare: only as the org's governance log ordered it. The administrator's retire request is
 * verified and must be permitted by the log (ShareHolders:Retire); the log must have retired
 * `retired` with `target` as its replacement, and hold `target` as an active share holder. A
 * current holder requires the new set to be its key's parties with the retired one's index moved
 * to the target, and the key's shape and origin to be what it recorded. The target (no share
 * yet) derives the key's binding from the origin request, as at keygen.
 */
async function checkReshare(a: ReshareAuthorization, ctx: AuthorizationContext): Promise<AuthorizationCheck> {
  const key = ctx.key(a.keyId);
  const orgId = key?.orgId ?? a.origin.orgId;
  if (a.userAction.orgId !== orgId || a.origin.orgId !== orgId) return refuse("user-evidence", `the reshare's requests are not all from org ${orgId}`);
  const state = (await ctx.governance?.(orgId)) ?? null;
  if (!state) return refuse("governance", `org ${orgId} has no governance log at this node: its keys are reshared only as its log orders`);
  const gov = await governed(a, orgId, ctx);
  if (!gov.ok) return gov.refusal;
  for (const e of [a.userAction, a.origin]) {
    const evidence = await checkUserEvidence(e, ctx);
    if (evidence) return evidence;
  }
  const route = operationFor(a.userAction.method, a.userAction.path);
  if (route?.name !== "retireShareHolder" || route.params.peerId !== a.retired) return refuse("intent", `the user action is not the retirement of ${a.retired}`);
  const actor = checkActor(state, a.userAction.subject, a.userAction.credential.publicKey, route.operation);
  if (!actor.ok) return refuse("governance", actor.reason);
  const retired = state.shareHolders[a.retired];
  if (retired?.active !== false || retired.replacement !== a.target.peerId) return refuse("governance", `org ${orgId}'s governance log does not retire ${a.retired} in favour of ${a.target.peerId}`);
  if (state.shareHolders[a.target.peerId]?.active !== true) return refuse("governance", `${a.target.peerId} is not an active share holder in org ${orgId}'s governance log`);
  const otherRetired = retiredAmong(state, a.parties.map((p) => p.peerId));
  if (otherRetired) return refuse("governance", `share holder ${otherRetired} is retired from org ${orgId}`);
  if (!a.parties.some((p) => p.index === a.target.index && p.peerId === a.target.peerId)) return refuse("mismatch", "the target is not among the parties at its index");
  const origin = checkKeygenRequest(a.origin, a.scheme, ctx.chainIdOf ?? defaultChainIdOf);
  if (!origin.ok) return refuse("intent", `the key's origin: ${origin.reason}`);
  const credential = credentialKeyId(a.origin.credential.publicKey);
  if (!credential) return refuse("user-evidence", "the origin's credential public key is unusable");
  const binding = { orgId, walletId: a.walletId ?? null, network: origin.network ?? null, derivationPath: null, credentials: [credential], owner: a.origin.subject };

  if (ctx.self === a.target.peerId) {
    if (key) return refuse("mismatch", `this node already holds a share of key ${a.keyId}`);
    return { ok: true, authorization: a, binding };
  }
  if (!key) return refuse("mismatch", `this node holds no share of key ${a.keyId}`);
  if (key.scheme !== a.scheme || key.threshold !== a.threshold || (key.publicKey !== undefined && key.publicKey !== a.publicKey)) return refuse("mismatch", `key ${a.keyId} is not ${a.scheme} ${a.threshold}-of-n with public key ${a.publicKey}`);
  if (key.generation !== undefined && key.generation !== a.generation) return refuse("mismatch", `key ${a.keyId} is at share generation ${key.generation}, not ${a.generation}`);
  const expected = key.parties.map((p) => (p.peerId === a.retired ? { index: p.index, peerId: a.target.peerId } : p));
  if (!key.parties.some((p) => p.peerId === a.retired && p.index === a.target.index)) return refuse("mismatch", `${a.retired} does not hold party ${a.target.index} of key ${a.keyId}`);
  if (canonicalJson(expected) !== canonicalJson(a.parties)) return refuse("mismatch", `the new parties are not key ${a.keyId}'s with ${a.retired} replaced by ${a.target.peerId}`);
  if (key.walletId !== binding.walletId || key.network !== binding.network || key.derivationPath !== null || (key.owner ?? null) !== binding.owner || !key.credentials.includes(credential)) {
    return refuse("mismatch", `the key's origin or wallet is not what this node recorded for key ${a.keyId}`);
  }
  const banned = checkBans(a, ctx);
  if (banned) return banned;
  return { ok: true, authorization: a };
}
