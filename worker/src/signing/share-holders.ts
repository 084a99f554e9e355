// Layer 4 at the edge: the coordinator of the share-holder nodes, one Durable Object per
// organisation (a shard: no single object carries every ceremony of a deployment, and one org's
// load never queues another's). Each keeps one libp2p peer alive (websockets + noise + yamux, dial-only, allowed to
// reach the configured nodes only), issues ceremony authorizations signed with the edge's
// authorization key and carrying the user's own signed action, and hands them to the nodes
// through the shared coordinator client. It never sees a key share: nodes exchange round
// messages among themselves and return only the public key or the signature, which the
// coordinator client verifies before it is believed.
import { DurableObject } from "cloudflare:workers";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { z } from "zod";
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import { nonceScope } from "../../../shared/src/chains/evm/fees.js";
import { unsignedEvmTransaction } from "../../../shared/src/chains/evm/rules.js";
import { AUTHORIZATION_VERSION, evmTransactionOf, governedSessionId, type SignAuthorization, randomNonceHex, ed25519SigningKey, signAuthorizationNative, userActionEvidenceSchema, type Authorization, type Party } from "../../../shared/src/mpc/authorization.js";
import { usageRecordOf, type SigningPolicyFacts, type UsageRecord } from "../../../shared/src/policy/at-nodes.js";
import type { GovernanceEntry, GovernanceHead, ShareHolderState } from "../../../shared/src/governance/log.js";
import { FEED_ENTRIES } from "../governance/log-store.js";
import { verifyKeygenAttestation, type KeygenClaims, type KeygenEvidence } from "../../../shared/src/mpc/keygen-attestation.js";
import { CeremonyError, MpcCoordinator, type ShareHolderAddress } from "../../../shared/src/mpc/coordinator.js";
import type { SigningIntent } from "../../../shared/src/mpc/intent.js";
import type { MpcScheme } from "../../../shared/src/mpc/scheme.js";
import { failure, success, type Outcome } from "../http/errors.js";
import type { SigningFacts } from "../policy/contract.js";
import { createEdgePeer } from "./edge-peer.js";
import { poolSettings, PresignaturePools } from "./presignature-pool.js";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "must be 32 bytes of lower-case hex");

/** `TESSERA_SHARE_HOLDERS`: who holds shares, where, and how many must sign. */
export const shareHolderConfig = z.object({
  threshold: z.int().min(2).max(32),
  nodes: z
    .array(z.object({ index: z.int().min(1).max(255), peerId: z.string().min(40).max(100), multiaddrs: z.array(z.string().min(1)).min(1), region: z.string().max(32).optional() }))
    .min(2)
    .max(32),
});
export type ShareHolderConfig = z.infer<typeof shareHolderConfig>;

/** A ceremony's timeout; ECDSA key generation takes seconds of CPU per node. */
const CEREMONY_TIMEOUT_MS = 90_000;
/** How long an authorization stays valid: enough for the ceremony, short enough to be useless later. */
const AUTHORIZATION_LIFETIME_MS = 2 * 60_000;

/** How long a copy of an org's governance head is believed without asking the org (it is told of every change). */
const GOVERNANCE_COPY_MS = 10_000;

/** After a refill failed (a node down), when to try again if no signature does first. */
const REFILL_RETRY_MS = 30_000;

export interface KeygenInput {
  keyId: string;
  walletId: string;
  scheme: MpcScheme;
  userAction: UserActionEvidence;
}

export interface SignInput {
  keyId: string;
  intent: SigningIntent;
  /** The bytes to sign as the edge computed them (each node recomputes them itself). */
  message: string;
  userAction: UserActionEvidence;
  /** The request's facts as the policy gate's decision left them (absent: asked of the org's PolicyState). */
  policyFacts?: SigningFacts;
}

interface KeyRow {
  scheme: MpcScheme;
  parties: Party[];
  threshold: number;
  publicKey: string;
  /** A derived key (deriveFrom): the master key and the BIP32 path the nodes sign at. */
  masterKeyId?: string;
  derivationPath?: string;
  origin?: UserActionEvidence | null;
  walletId?: string | null;
  generation?: number;
}

export interface DeriveInput {
  keyId: string;
  walletId: string;
  masterKeyId: string;
  path: string;
  userAction: UserActionEvidence;
}

type Row = Record<string, SqlStorageValue>;

/** The object that coordinated every ceremony before coordinators were sharded per org. */
const UNSHARDED = "share-holders";

/**
 * The coordinator of an org's ceremonies: its own object (`TESSERA_COORDINATOR_SHARDS` = "org",
 * the default), or the one deployment-wide object ("deployment", as before sharding; kept for
 * comparison in bench/coordinator-shards.bench.mjs).
 */
export function shareHoldersOf(env: Cloudflare.Env, orgId: string) {
  const name = env.TESSERA_COORDINATOR_SHARDS === "deployment" ? UNSHARDED : `org:${orgId}`;
  const ns = placedAt(env, name);
  return ns.get(ns.idFromName(name));
}

/**
 * Cloudflare runs each object where it chooses, apart from the others. Locally every object of a
 * script shares one workerd thread, so scripts/local-network.ts can serve the coordinators from
 * workerd processes of their own (`coordinators`), one worker script each, bound here as
 * SHARE_HOLDERS (the first) and SHARE_HOLDERS_2… (the others); TESSERA_COORDINATOR_PLACEMENT,
 * {"org:<id>": n}, says which process holds which object (absent: the first). Unset in production.
 */
function placedAt(env: Cloudflare.Env, name: string): DurableObjectNamespace<ShareHolders> {
  const n = env.TESSERA_COORDINATOR_PLACEMENT ? (JSON.parse(env.TESSERA_COORDINATOR_PLACEMENT) as Record<string, number>)[name] : undefined;
  if (!n || n === 1) return env.SHARE_HOLDERS;
  const ns = (env as unknown as Record<string, DurableObjectNamespace<ShareHolders> | undefined>)[`SHARE_HOLDERS_${n}`];
  if (!ns) throw new Error(`TESSERA_COORDINATOR_PLACEMENT puts ${name} in coordinator process ${n}, but SHARE_HOLDERS_${n} is not bound`);
  return ns;
}

export class ShareHolders extends DurableObject<Cloudflare.Env> {
  private peer: Promise<Libp2p> | undefined;
  /** Rotates which holders sign, so every node shares the work (not always the first t). */
  private turn = 0;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS keys (
      key_id TEXT PRIMARY KEY, scheme TEXT NOT NULL, threshold INTEGER NOT NULL, parties TEXT NOT NULL, public_key TEXT NOT NULL, created TEXT NOT NULL)`);
    // Wallets created later on an existing key: the user's creation request, shown to the nodes
    // with every signature for that wallet (they derive the wallet id from it).
    const columns = new Set(ctx.storage.sql.exec<Row>("PRAGMA table_info(keys)").toArray().map((c) => String(c.name)));
    if (!columns.has("master_key_id")) ctx.storage.sql.exec("ALTER TABLE keys ADD COLUMN master_key_id TEXT");
    if (!columns.has("derivation_path")) ctx.storage.sql.exec("ALTER TABLE keys ADD COLUMN derivation_path TEXT");
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS wallet_bindings (wallet_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, evidence TEXT NOT NULL)`);
    // Each wallet's usage log as the share holders count it for velocity policies: one record per
    // request they were asked to sign (shared/src/policy/at-nodes.ts), carried with every ceremony.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS wallet_usage (wallet_id TEXT NOT NULL, request_id TEXT NOT NULL, record TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (wallet_id, request_id))`);
    // Every signature prunes its wallet's records by age and reads those inside the velocity window:
    // by time, not a walk through 30 days of the wallet's records.
    ctx.storage.sql.exec(`CREATE INDEX IF NOT EXISTS wallet_usage_by_time ON wallet_usage (wallet_id, at)`);
    // Presignatures the nodes hold for a key with shares of its own (a derived key uses its
    // master's), by signer set. Each is handed out once: taken from here before it is used.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS presignatures (
      presignature_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, parties TEXT NOT NULL, created TEXT NOT NULL)`);
    // For resharing a key onto a new holder: the request that created it (the new holder derives
    // the key's binding from it, the others check it against theirs), its wallet, and its share
    // generation (every reshare moves it on). Keys from before these columns cannot be reshared.
    if (!columns.has("origin")) ctx.storage.sql.exec("ALTER TABLE keys ADD COLUMN origin TEXT");
    if (!columns.has("wallet_id")) ctx.storage.sql.exec("ALTER TABLE keys ADD COLUMN wallet_id TEXT");
    if (!columns.has("generation")) ctx.storage.sql.exec("ALTER TABLE keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0");
    // Per key and EVM chain, the signed transaction at the highest nonce: shown to a node that sat
    // out that signature, which allows no nonce beyond the next one it knows (shared/src/chains/evm/fees.ts).
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS evm_nonce_proofs (scope TEXT PRIMARY KEY, nonce INTEGER NOT NULL, txn TEXT NOT NULL, signature TEXT NOT NULL)`);
  }

  /**
   * Presignatures kept ready per ECDSA key (wasm/vendor/dkls23-core/PRESIGN.md): a signature from
   * one is a single round at the nodes. A key's pool is topped up in the background whenever a
   * signature leaves it under the low-water mark (only keys that sign have one), with a few
   * presigning ceremonies in flight at once (./presignature-pool.ts); the signing path never
   * waits for a refill. Size, low-water mark and concurrency come from the environment.
   */
  private presignaturePools: PresignaturePools | undefined;
  private pools(): PresignaturePools {
    this.presignaturePools ??= new PresignaturePools({
      settings: poolSettings(this.env),
      ready: (keyId) => this.presignaturesReady(keyId),
      presign: (keyId, count) => this.presignBatch(keyId, count),
      failed: (keyId) => {
        // A node down or refusing: the pool stays short (signatures take the three-round path)
        // until the next signature, or this retry, tops it up.
        this.refillRetries.add(keyId);
        void this.ctx.storage.setAlarm(Date.now() + REFILL_RETRY_MS);
      },
    });
    return this.presignaturePools;
  }
  private readonly refillRetries = new Set<string>();

  /** Retries the refills that failed (the object's alarm). */
  override async alarm(): Promise<void> {
    const keys = [...this.refillRetries];
    this.refillRetries.clear();
    await Promise.all(keys.map((k) => this.pools().top(k)));
  }

  /** The signer set of each key's last presigned signature (takePresignature rotates away from it). */
  private readonly lastPresignedSigners = new Map<string, string>();

  /**
   * Takes one presignature of `shareKeyId` (removed from the pool before it is used), if any —
   * preferring another signer set than the key's last signature's: a batch holds many
   * presignatures of one set, and taking them in order would leave the other holders idle (and
   * without the governance entries signatures carry) for a batch's worth of signatures.
   */
  private takePresignature(shareKeyId: string): { id: string; parties: Party[] } | undefined {
    const row = this.ctx.storage.sql
      .exec<Row>(
        "DELETE FROM presignatures WHERE presignature_id = (SELECT presignature_id FROM presignatures WHERE key_id = ? ORDER BY parties = ?, created LIMIT 1) RETURNING presignature_id, parties",
        shareKeyId,
        this.lastPresignedSigners.get(shareKeyId) ?? "",
      )
      .toArray()[0];
    if (!row) return undefined;
    this.lastPresignedSigners.set(shareKeyId, String(row.parties));
    return { id: String(row.presignature_id), parties: JSON.parse(String(row.parties)) as Party[] };
  }

  presignaturesReady(keyId: string): number {
    return Number(this.ctx.storage.sql.exec<Row>("SELECT count(*) AS n FROM presignatures WHERE key_id = ?", keyId).toArray()[0]!.n);
  }

  /** Tops up a key's pool now (its size, not only under the low-water mark); resolves with how many were made. */
  async refillPresignatures(shareKeyId: string): Promise<number> {
    return this.pools().top(shareKeyId, { always: true });
  }

  /**
   * One presigning ceremony of `count` presignatures for the key, its signer set rotating like
   * signatures' do; the batch joins the pool in one transaction, under the ids the authorization
   * derives (the coordinator client checks the nodes reported exactly those).
   */
  private async presignBatch(shareKeyId: string, count: number): Promise<void> {
    const conf = this.config();
    if (!conf.ok) throw new Error(conf.message);
    const { cfg, edgeId, authKey, peerSeed } = conf.value;
    const key = this.storedKey(shareKeyId);
    if (!key || key.scheme !== "ecdsa-secp256k1" || key.masterKeyId) throw new Error(`key ${shareKeyId} does not presign`);
    const start = this.turn++ % key.parties.length;
    const signers = [...key.parties.slice(start), ...key.parties.slice(0, start)].slice(0, key.threshold).sort((a, b) => a.index - b.index);
    const a = { ...this.authorization({ edgeId, keyId: shareKeyId, scheme: key.scheme, parties: signers }), kind: "presign", count } as Authorization;
    // Holders an org's log added (a reshare's replacement) are dialled at their join request's addresses.
    const extra = key.origin ? await this.orgNodesFor(key.origin.orgId, key.parties, cfg) : [];
    const coordinator = await this.coordinator(peerSeed, cfg, extra);
    const out = await coordinator.presign({ nodes: this.addresses(cfg, extra), authorization: await this.seal(a, authKey, undefined) });
    if (out.publicKey !== key.publicKey) throw new Error(`the nodes presigned for key ${out.publicKey}, not ${key.publicKey}`);
    // A reshare in the meantime moved the key to other shares: these presignatures are of the old ones.
    if ((this.storedKey(shareKeyId)?.generation ?? -1) !== key.generation) return;
    const parties = JSON.stringify(signers);
    const created = new Date().toISOString();
    this.ctx.storage.transactionSync(() => {
      for (const id of out.presignatureIds) this.ctx.storage.sql.exec("INSERT INTO presignatures (presignature_id, key_id, parties, created) VALUES (?, ?, ?, ?)", id, shareKeyId, parties, created);
    });
  }

  /** The EVM transaction a signature is for, with its scope and nonce; null for anything else. */
  private evmNonceOf(keyId: string, scheme: MpcScheme, intent: SigningIntent): { scope: string; nonce: number; transaction: string } | null {
    // The edge resolves no network here: a transaction that parses as EVM is one (the nodes decide).
    const hex = evmTransactionOf(intent as SignAuthorization["intent"], { scheme, network: null }, () => 0);
    if (!hex) return null;
    try {
      const tx = unsignedEvmTransaction(hex);
      return tx.chainId === undefined ? null : { scope: nonceScope(keyId, tx.chainId), nonce: tx.nonce ?? 0, transaction: hex };
    } catch {
      return null;
    }
  }

  private nonceProof(scope: string): { transaction: string; signature: string } | undefined {
    const row = this.ctx.storage.sql.exec<Row>("SELECT txn, signature FROM evm_nonce_proofs WHERE scope = ?", scope).toArray()[0];
    return row ? { transaction: String(row.txn), signature: String(row.signature) } : undefined;
  }

  /** Records that `walletId` (derived from the user's request) signs with the existing key `keyId`. */
  async bindWallet(input: { walletId: string; keyId: string; userAction: UserActionEvidence }): Promise<Outcome<{ publicKey: string; scheme: MpcScheme }>> {
    const key = this.storedKey(input.keyId) ?? (await this.adoptUnshardedKey(input.keyId));
    if (!key) return failure(404, `Key ${input.keyId} is not held by the share holders`);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO wallet_bindings (wallet_id, key_id, evidence) VALUES (?, ?, ?)", input.walletId, input.keyId, JSON.stringify(input.userAction));
    return success({ publicKey: key.publicKey, scheme: key.scheme });
  }

  /** The creation request of the wallet a user action names, when that wallet was put on an existing key. */
  private walletBindingFor(keyId: string, userAction: UserActionEvidence): UserActionEvidence | undefined {
    const walletId = /^\/wallets\/([^/]+)\//.exec(userAction.path)?.[1];
    if (!walletId) return undefined;
    const row = this.ctx.storage.sql.exec<Row>("SELECT evidence FROM wallet_bindings WHERE wallet_id = ? AND key_id = ?", walletId, keyId).toArray()[0];
    return row ? (JSON.parse(String(row.evidence)) as UserActionEvidence) : undefined;
  }

  /** The parsed configuration: the environment does not change for the object's lifetime. */
  private parsed: Outcome<{ cfg: ShareHolderConfig; edgeId: string; authKey: Uint8Array; peerSeed: Uint8Array }> | undefined;

  private config(): Outcome<{ cfg: ShareHolderConfig; edgeId: string; authKey: Uint8Array; peerSeed: Uint8Array }> {
    this.parsed ??= this.parseConfig();
    return this.parsed;
  }

  private parseConfig(): Outcome<{ cfg: ShareHolderConfig; edgeId: string; authKey: Uint8Array; peerSeed: Uint8Array }> {
    const raw = this.env.TESSERA_SHARE_HOLDERS;
    if (!raw) return failure(409, "No share holders are configured for this deployment (TESSERA_SHARE_HOLDERS)");
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return failure(409, "TESSERA_SHARE_HOLDERS is not JSON");
    }
    const cfg = shareHolderConfig.safeParse(json);
    const authKey = hex32.safeParse(this.env.TESSERA_EDGE_AUTH_KEY ?? "");
    const peerSeed = hex32.safeParse(this.env.TESSERA_EDGE_PEER_SEED ?? "");
    if (!cfg.success || !authKey.success || !peerSeed.success) return failure(409, "Share-holder configuration is invalid (TESSERA_SHARE_HOLDERS, TESSERA_EDGE_AUTH_KEY, TESSERA_EDGE_PEER_SEED)");
    return success({ cfg: cfg.data, edgeId: this.env.TESSERA_EDGE_ID ?? "edge-local", authKey: hexToBytes(authKey.data), peerSeed: hexToBytes(peerSeed.data) });
  }

  /** The peers the edge may dial: the deployment's nodes, and the nodes an org's log added (grows as they are added). */
  private readonly allowed = new Set<string>();

  private coordinator(peerSeed: Uint8Array, cfg: ShareHolderConfig, extra: ShareHolderAddress[] = []): Promise<MpcCoordinator> {
    const viaRelays = cfg.nodes.some((n) => n.multiaddrs.some((a) => a.includes("/p2p-circuit")));
    for (const n of [...cfg.nodes, ...extra]) this.allowed.add(n.peerId);
    this.peer ??= createEdgePeer(peerSeed, this.allowed, { viaRelays }).catch((e) => {
      this.peer = undefined;
      throw e;
    });
    // Signatures from presignatures are assembled here from the signers' partials, half a round
    // trip earlier (shared/src/mpc/presigned.ts); TESSERA_ASSEMBLE_PRESIGNED=off waits for the signers.
    return this.peer.then((host) => new MpcCoordinator(host, { timeoutMs: CEREMONY_TIMEOUT_MS, assemblePresigned: this.env.TESSERA_ASSEMBLE_PRESIGNED !== "off" }));
  }

  private addresses(cfg: ShareHolderConfig, extra: ShareHolderAddress[] = []): ShareHolderAddress[] {
    return [...cfg.nodes.map((n) => ({ peerId: n.peerId, multiaddrs: n.multiaddrs, ...(n.region ? { region: n.region } : {}) })), ...extra];
  }

  /** Nodes the org's governance log added, where the edge dials them (from their join requests). */
  private async orgNodes(orgId: string): Promise<ShareHolderAddress[]> {
    return addedNodes((await this.env.ORG.getByName(orgId).shareHolderLog()) ?? {});
  }

  /** The same, asked of the org only when some party is not a deployment node (no extra call per signature otherwise). */
  private async orgNodesFor(orgId: string, parties: Party[], cfg: ShareHolderConfig): Promise<ShareHolderAddress[]> {
    return parties.every((p) => cfg.nodes.some((n) => n.peerId === p.peerId)) ? [] : this.orgNodes(orgId);
  }

  /**
   * How far each node's copy of an org's governance log is known to reach ("<orgId> <peerId>" →
   * head length): a node that took part in a ceremony under a head holds the log up to it (it
   * refuses any other head). Only entries beyond what every party is known to hold travel with a
   * signature, instead of the newest FEED_ENTRIES every time. The log only grows, so the knowledge
   * stays true; a node that lost its copy refuses (governance) and is sent the whole feed again.
   */
  private readonly governanceAt = new Map<string, number>();

  /**
   * Each org's governance head and its newest entries (at most FEED_ENTRIES) as the org last gave
   * or told them, so a signature does not ask the org for them again: the org tells this object of
   * every entry it appends before it answers the change (Org.tellShareHolders), and a copy is
   * believed for GOVERNANCE_COPY_MS after the org last gave or told it something (should the org
   * ever fail to tell, nothing more arrives and the copy goes stale within that). A copy the nodes
   * contradict (they are at another head) is dropped with what they were thought to hold.
   */
  private readonly governanceCopies = new Map<string, { head: GovernanceHead; entries: GovernanceEntry[]; at: number }>();

  /** The org appended `entry` (its head is now `head`): the copy moves on, or is dropped if it missed an entry. */
  governanceAppended(orgId: string, entry: GovernanceEntry, head: GovernanceHead): void {
    const copy = this.governanceCopies.get(orgId);
    if (!copy || copy.head.length !== entry.index || copy.head.hash !== entry.prev || head.length !== entry.index + 1) {
      // Told out of order (or never fetched): the next ceremony asks the org.
      this.governanceCopies.delete(orgId);
      return;
    }
    const entries = [...copy.entries, entry];
    // Told in order: the copy is the org's log up to this entry (a missed entry breaks the chain above), as of now.
    this.governanceCopies.set(orgId, { head, entries: entries.length > FEED_ENTRIES ? entries.slice(entries.length - FEED_ENTRIES) : entries, at: Date.now() });
  }

  /** The org's governance head and newest entries (null: the org has no root of trust); `parties`: only what they lack. */
  private async governanceFeed(orgId: string, parties?: Party[]): Promise<{ head: GovernanceHead; entries: unknown[] } | null> {
    const since = parties && parties.length > 0 ? Math.min(...parties.map((p) => this.governanceAt.get(`${orgId} ${p.peerId}`) ?? 0)) : 0;
    const copy = this.governanceCopies.get(orgId);
    // The same entries the org's feed(since) would give: from `since`, at most the newest FEED_ENTRIES.
    const from = (c: { head: GovernanceHead; entries: GovernanceEntry[] }) => c.head.length - c.entries.length;
    if (copy && Date.now() - copy.at < GOVERNANCE_COPY_MS && since >= from(copy)) {
      return { head: copy.head, entries: copy.entries.slice(Math.max(0, since - from(copy))) };
    }
    const feed = await this.env.ORG.getByName(orgId).governanceFeed(since);
    // Kept when it reaches at least as far back as the copy it replaces (an org without a root is asked each time).
    if (feed && (!copy || Date.now() - copy.at >= GOVERNANCE_COPY_MS || from(feed) <= from(copy) || feed.head.length > copy.head.length)) {
      this.governanceCopies.set(orgId, { head: feed.head, entries: feed.entries, at: Date.now() });
    }
    return feed;
  }

  /** After a ceremony under `head` succeeded, its parties hold the log up to it. */
  private governanceReached(orgId: string, parties: Party[], head: GovernanceHead | undefined): void {
    if (!head) return;
    for (const p of parties) this.governanceAt.set(`${orgId} ${p.peerId}`, head.length);
  }

  /**
   * Nodes that refused because their log is not at the request's head (or could not apply the
   * entries sent) may lack entries the edge assumed they held: forgotten, so they get the whole
   * feed next. True when that is news (worth one more attempt); any other governance refusal
   * stands as it is.
   */
  private governanceDoubted(orgId: string, e: unknown): boolean {
    if (!(e instanceof CeremonyError)) return false;
    let doubted = false;
    for (const f of e.failures) {
      const lagging = f.stage === "refused" && f.code === "governance" && /governance log of org .* is at |^governance entry refused/.test(f.message);
      if (!lagging) continue;
      // A node at another head than the copy's: the copy may be behind the org's log.
      if (this.governanceCopies.delete(orgId)) doubted = true;
      if (this.governanceAt.delete(`${orgId} ${f.peerId}`)) doubted = true;
    }
    return doubted;
  }

  /**
   * What the nodes need to evaluate the org's policies themselves (governed orgs): the request as
   * the policy gate judged it, the approvers' signed decisions, and the wallet's usage log inside
   * the longest velocity window of the org's policies.
   */
  private async policyFacts(orgId: string, userAction: UserActionEvidence, handed?: SigningFacts): Promise<{ facts: Omit<SigningPolicyFacts, "usage">; walletId: string; usageWindowMs: number } | null> {
    const known = handed ?? (await this.env.POLICY_STATE.getByName(orgId).signingFacts(userAction.challenge));
    if (!known.request) return null;
    const org = this.env.ORG.getByName(orgId);
    const fields = Object.keys(userActionEvidenceSchema.shape);
    const approvals: UserActionEvidence[] = [];
    for (const id of known.approvalActionIds) {
      const e = await org.userActionEvidence(id);
      if (e.ok) approvals.push(Object.fromEntries(Object.entries(e.value).filter(([k]) => fields.includes(k))) as unknown as UserActionEvidence);
    }
    const r = known.request;
    const base = {
      network: r.network,
      walletTags: r.walletTags,
      ...(r.asset ? { asset: r.asset } : {}),
      ...(r.amount !== undefined ? { amount: r.amount } : {}),
      ...(r.to !== undefined ? { to: r.to } : {}),
      approvals,
    };
    return { facts: base, walletId: r.walletId, usageWindowMs: known.usageWindowMs };
  }

  private usageLog(walletId: string, windowMs: number): UsageRecord[] {
    if (windowMs <= 0) return [];
    return this.ctx.storage.sql
      .exec<{ record: string }>("SELECT record FROM wallet_usage WHERE wallet_id = ? AND at > ? ORDER BY at, request_id", walletId, Date.now() - windowMs)
      .toArray()
      .map((row) => JSON.parse(row.record) as UsageRecord);
  }

  /** One velocity-governed ceremony per wallet at a time: each one's usage log holds every earlier one. */
  private readonly walletTurns = new Map<string, Promise<unknown>>();
  private async inTurn<T>(walletId: string | null, f: () => Promise<T>): Promise<T> {
    if (!walletId) return f();
    const previous = this.walletTurns.get(walletId) ?? Promise.resolve();
    const run = previous.then(f, f);
    const settled = run.catch(() => {});
    this.walletTurns.set(walletId, settled);
    void settled.then(() => {
      if (this.walletTurns.get(walletId) === settled) this.walletTurns.delete(walletId);
    });
    return run;
  }

  /** The edge's authorization key as a WebCrypto key (the environment does not change while the object lives). */
  private signingKey: Promise<CryptoKey> | undefined;

  /** Signs the authorization; under a governance head, its session id is derived from everything else it says. */
  private seal(a: Authorization, authKey: Uint8Array, head: GovernanceHead | undefined) {
    const governed = head ? ({ ...a, governance: head } as Authorization) : a;
    // workerd's native Ed25519 (the same deterministic signature as noble's, a fraction of its CPU); the key is imported once.
    this.signingKey ??= ed25519SigningKey(authKey).catch((e) => {
      this.signingKey = undefined;
      throw e;
    });
    return this.signingKey.then((key) => signAuthorizationNative(head ? ({ ...governed, sessionId: governedSessionId(governed) } as Authorization) : governed, key));
  }

  private authorization(base: { edgeId: string; keyId: string; scheme: MpcScheme; parties: Party[] }): Omit<Authorization, "kind"> {
    const now = Date.now();
    return {
      version: AUTHORIZATION_VERSION,
      edgeId: base.edgeId,
      sessionId: randomNonceHex(32),
      keyId: base.keyId,
      scheme: base.scheme,
      parties: base.parties,
      nonce: randomNonceHex(16),
      issuedAt: now,
      expiresAt: now + AUTHORIZATION_LIFETIME_MS,
    } as Omit<Authorization, "kind">;
  }

  /** Distributed key generation with every configured node; returns the group public key and what each node attested of it. */
  async keygen(input: KeygenInput): Promise<Outcome<{ publicKey: string; keygen: KeygenEvidence }>> {
    const conf = this.config();
    if (!conf.ok) return conf;
    const { cfg, edgeId, authKey, peerSeed } = conf.value;
    // The org's holders: the deployment's nodes, each retired one replaced by the node the log named.
    const log: Record<string, ShareHolderState> = (await this.env.ORG.getByName(input.userAction.orgId).shareHolderLog()) ?? {};
    const holderAt = (peerId: string): string | null => {
      const seen = new Set<string>();
      let p: string | null = peerId;
      while (p && log[p]?.active === false && !seen.has(p)) {
        seen.add(p);
        p = log[p]!.replacement ?? null;
      }
      return p;
    };
    const parties: Party[] = cfg.nodes
      .map((n) => ({ index: n.index, peerId: holderAt(n.peerId) }))
      .filter((p): p is Party => p.peerId !== null)
      .sort((a, b) => a.index - b.index);
    const a = { ...this.authorization({ edgeId, keyId: input.keyId, scheme: input.scheme, parties }), kind: "keygen", threshold: cfg.threshold, walletId: input.walletId, userAction: input.userAction } as Authorization;
    try {
      const feed = await this.governanceFeed(input.userAction.orgId);
      const extra = addedNodes(log);
      const coordinator = await this.coordinator(peerSeed, cfg, extra);
      const out = await coordinator.keygen({ nodes: this.addresses(cfg, extra), authorization: await this.seal(a, authKey, feed?.head), ...(feed ? { governance: feed.entries } : {}) });
      this.governanceReached(input.userAction.orgId, parties, feed?.head);
      this.ctx.storage.sql.exec(
        "INSERT INTO keys (key_id, scheme, threshold, parties, public_key, created, origin, wallet_id, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        input.keyId,
        input.scheme,
        cfg.threshold,
        JSON.stringify(parties),
        out.publicKey,
        new Date().toISOString(),
        JSON.stringify(input.userAction),
        input.walletId,
      );
      // What each node signed (engine.ts) follows from this request; the owner is the user's identity
      // where the nodes govern the org, none where they do not: keep the claims the nodes' signatures verify.
      const base = { orgId: input.userAction.orgId, keyId: input.keyId, walletId: input.walletId, publicKey: out.publicKey, scheme: input.scheme, governance: feed?.head ?? null };
      const candidates: KeygenClaims[] = [{ ...base, owner: feed ? input.userAction.subject : null }, { ...base, owner: null }];
      const claims = candidates.find((c) => out.attestations.length > 0 && out.attestations.every((a) => verifyKeygenAttestation(c, a))) ?? candidates[0]!;
      return success({ publicKey: out.publicKey, keygen: { claims, attestations: out.attestations } });
    } catch (e) {
      return ceremonyFailure(e);
    }
  }

  /**
   * Key rows as parsed, kept while the object lives: a row changes only here, by a reshare (which
   * drops its entry); rows that do not exist yet are not kept.
   */
  private readonly keyRows = new Map<string, KeyRow>();

  private storedKey(keyId: string): KeyRow | undefined {
    const kept = this.keyRows.get(keyId);
    if (kept) return kept;
    const key = this.readKey(keyId);
    if (key) this.keyRows.set(keyId, key);
    return key;
  }

  private readKey(keyId: string): KeyRow | undefined {
    const row = this.ctx.storage.sql.exec<Row>("SELECT scheme, threshold, parties, public_key, master_key_id, derivation_path, origin, wallet_id, generation FROM keys WHERE key_id = ?", keyId).toArray()[0];
    if (!row) return undefined;
    return {
      scheme: String(row.scheme) as MpcScheme,
      threshold: Number(row.threshold),
      parties: JSON.parse(String(row.parties)) as Party[],
      publicKey: String(row.public_key),
      ...(row.master_key_id ? { masterKeyId: String(row.master_key_id) } : {}),
      ...(row.derivation_path ? { derivationPath: String(row.derivation_path) } : {}),
      origin: row.origin ? (JSON.parse(String(row.origin)) as UserActionEvidence) : null,
      walletId: row.wallet_id ? String(row.wallet_id) : null,
      generation: Number(row.generation ?? 0),
    };

  }

  /**
   * A wallet derived from a master key (Dfns signingKey.deriveFrom): no ceremony. Every holder of
   * the master key checks the user's request itself, derives the child key from its own share and
   * records {master, path}; all must answer the same child public key (the coordinator compares).
   */
  async derive(input: DeriveInput): Promise<Outcome<{ publicKey: string }>> {
    const conf = this.config();
    if (!conf.ok) return conf;
    const { cfg, edgeId, authKey, peerSeed } = conf.value;
    const master = this.storedKey(input.masterKeyId) ?? (await this.adoptUnshardedKey(input.masterKeyId));
    if (!master) return failure(404, `Key ${input.masterKeyId} is not held by the share holders`);
    if (master.masterKeyId || master.derivationPath) return failure(400, `Key ${input.masterKeyId} is itself derived: derive from its master key${master.masterKeyId ? ` ${master.masterKeyId}` : ""}`);
    if (master.scheme !== "ecdsa-secp256k1") return failure(400, `Key ${input.masterKeyId} is ${master.scheme}: only ECDSA secp256k1 keys derive children`);
    const taken = this.ctx.storage.sql.exec<Row>("SELECT key_id FROM keys WHERE master_key_id = ? AND derivation_path = ?", input.masterKeyId, input.path).toArray()[0];
    if (taken) return failure(409, `Key ${String(taken.key_id)} is already derived from ${input.masterKeyId} at ${input.path}`);
    const a = {
      ...this.authorization({ edgeId, keyId: input.keyId, scheme: master.scheme, parties: master.parties }),
      kind: "keygen",
      threshold: master.threshold,
      walletId: input.walletId,
      deriveFrom: { keyId: input.masterKeyId, path: input.path },
      userAction: input.userAction,
    } as Authorization;
    try {
      const feed = await this.governanceFeed(input.userAction.orgId);
      const extra = await this.orgNodesFor(input.userAction.orgId, master.parties, cfg);
      const coordinator = await this.coordinator(peerSeed, cfg, extra);
      const out = await coordinator.keygen({ nodes: this.addresses(cfg, extra), authorization: await this.seal(a, authKey, feed?.head), ...(feed ? { governance: feed.entries } : {}) });
      this.governanceReached(input.userAction.orgId, master.parties, feed?.head);
      this.ctx.storage.sql.exec(
        "INSERT INTO keys (key_id, scheme, threshold, parties, public_key, created, master_key_id, derivation_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        input.keyId,
        master.scheme,
        master.threshold,
        JSON.stringify(master.parties),
        out.publicKey,
        new Date().toISOString(),
        input.masterKeyId,
        input.path,
      );
      return success({ publicKey: out.publicKey });
    } catch (e) {
      return ceremonyFailure(e);
    }
  }

  /** A key's record as this object holds it (null if it does not), for an org shard to adopt. */
  async keyRecord(keyId: string): Promise<KeyRow | null> {
    return this.storedKey(keyId) ?? null;
  }

  /**
   * Keys generated before the coordinator was sharded are recorded in the one deployment-wide
   * object: an org's shard copies such a key's record on first use, then holds it itself.
   */
  private async adoptUnshardedKey(keyId: string): Promise<KeyRow | undefined> {
    const unsharded = this.env.SHARE_HOLDERS.idFromName(UNSHARDED);
    if (unsharded.equals(this.ctx.id)) return undefined;
    const key = await this.env.SHARE_HOLDERS.get(unsharded).keyRecord(keyId);
    if (!key) return undefined;
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO keys (key_id, scheme, threshold, parties, public_key, created) VALUES (?, ?, ?, ?, ?, ?)",
      keyId,
      key.scheme,
      key.threshold,
      JSON.stringify(key.parties),
      key.publicKey,
      new Date().toISOString(),
    );
    return key;
  }

  /** Keys of this shard `peerId` holds a share of. */
  private keysWith(peerId: string): { keyId: string; key: KeyRow }[] {
    const out: { keyId: string; key: KeyRow }[] = [];
    for (const row of this.ctx.storage.sql.exec<Row>("SELECT key_id FROM keys")) {
      const key = this.storedKey(String(row.key_id))!;
      if (key.parties.some((p) => p.peerId === peerId)) out.push({ keyId: String(row.key_id), key });
    }
    return out;
  }

  private hasDerived(keyId: string): boolean {
    return this.ctx.storage.sql.exec<Row>("SELECT 1 FROM keys WHERE master_key_id = ? LIMIT 1", keyId).toArray().length > 0;
  }

  /** Keys held with `peerId` that retiring it with this replacement could not move. */
  async keysStuckWith(peerId: string, replacement: string | null): Promise<string[]> {
    return this.keysWith(peerId)
      .filter(({ keyId, key }) => replacement === null || key.parties.some((p) => p.peerId === replacement) || !this.canReshare(key) || this.hasDerived(keyId))
      .map(({ keyId }) => keyId);
  }

  /**
   * Keys generated before the coordinator kept their origin cannot be reshared; nor, yet, a master
   * key with derived wallets or a derived key (its holders' records name the parties too).
   */
  private canReshare(key: KeyRow): boolean {
    return Boolean(key.origin) && !key.masterKeyId;
  }

  /**
   * Moves every key held with the retired node onto its replacement (a reshare: the replacement
   * takes the retired node's party index, every share is refreshed), then has the retired node
   * erase its shares. The org's log already retired the node: every participant checks the
   * reshare against it, and the retired node erases only because its own copy of the log says so.
   */
  async retire(input: { orgId: string; peerId: string; replacement: string | null; userAction: UserActionEvidence }): Promise<Outcome<RetireOutcome>> {
    const held = this.keysWith(input.peerId);
    const conf = this.config();
    if (!conf.ok) return held.length > 0 ? conf : success({ reshared: [], erased: null });
    const { cfg, edgeId, authKey, peerSeed } = conf.value;
    const feed = await this.governanceFeed(input.orgId);
    if (!feed) return failure(409, "This organisation has no governance log");
    const extra = await this.orgNodes(input.orgId);
    const nodes = this.addresses(cfg, extra);
    const coordinator = await this.coordinator(peerSeed, cfg, extra);
    const reshared: string[] = [];
    for (const { keyId, key } of held) {
      if (!input.replacement || !key.origin) return failure(409, `Key ${keyId} is held with ${input.peerId} and cannot be reshared`);
      const retiredParty = key.parties.find((p) => p.peerId === input.peerId)!;
      const parties = key.parties.map((p) => (p.peerId === input.peerId ? { index: p.index, peerId: input.replacement! } : p));
      const a = {
        ...this.authorization({ edgeId, keyId, scheme: key.scheme, parties }),
        kind: "reshare",
        target: { index: retiredParty.index, peerId: input.replacement },
        retired: input.peerId,
        threshold: key.threshold,
        publicKey: key.publicKey,
        generation: key.generation ?? 0,
        ...(key.walletId ? { walletId: key.walletId } : {}),
        origin: key.origin,
        userAction: input.userAction,
      } as Authorization;
      try {
        const out = await coordinator.reshare({ nodes, authorization: await this.seal(a, authKey, feed.head), governance: feed.entries });
        this.governanceReached(input.orgId, parties, feed.head);
        if (out.publicKey !== key.publicKey) return failure(503, `The reshare of key ${keyId} returned another public key`);
      } catch (e) {
        return ceremonyFailure(e);
      }
      this.ctx.storage.sql.exec("UPDATE keys SET parties = ?, generation = generation + 1 WHERE key_id = ?", JSON.stringify(parties), keyId);
      this.keyRows.delete(keyId);
      // Presignatures were made with the old shares and signer sets: the nodes refuse them now.
      this.ctx.storage.sql.exec("DELETE FROM presignatures WHERE key_id = ?", keyId);
      reshared.push(keyId);
    }
    // The retired node erases what it holds of the org's keys, on its own log's word.
    const node = nodes.find((n) => n.peerId === input.peerId);
    let erased: RetireOutcome["erased"] = null;
    if (node) {
      try {
        const answer = await coordinator.retire(node, input.orgId, feed.entries);
        erased = answer.type === "erased" ? { ok: true, shares: answer.shares } : { ok: false, message: answer.reason };
      } catch (e) {
        erased = { ok: false, message: `could not reach it: ${(e as Error).message}` };
      }
    }
    return success({ reshared, erased });
  }

  /**
   * A threshold signature by `threshold` of the key's holders. If some holders fail or time
   * out, one more attempt runs with holders that were not blamed, when enough remain.
   */
  async sign(input: SignInput): Promise<Outcome<{ signature: string; recid?: 0 | 1; publicKey: string }>> {
    const conf = this.config();
    if (!conf.ok) return conf;
    const key = this.storedKey(input.keyId) ?? (await this.adoptUnshardedKey(input.keyId));
    if (!key) return failure(404, `Key ${input.keyId} is not held by the share holders`);

    const binding = this.walletBindingFor(input.keyId, input.userAction);
    const known = await this.policyFacts(input.userAction.orgId, input.userAction, input.policyFacts);
    return this.inTurn(known && known.usageWindowMs > 0 ? known.walletId : null, () => this.signNow(input, key, binding, known));
  }

  private async signNow(
    input: SignInput,
    key: KeyRow,
    binding: UserActionEvidence | undefined,
    known: { facts: Omit<SigningPolicyFacts, "usage">; walletId: string; usageWindowMs: number } | null,
  ): Promise<Outcome<{ signature: string; recid?: 0 | 1; publicKey: string }>> {
    const conf = this.config();
    if (!conf.ok) return conf;
    const { cfg, edgeId, authKey, peerSeed } = conf.value;
    const policy: SigningPolicyFacts | null = known ? { ...known.facts, usage: this.usageLog(known.walletId, known.usageWindowMs) } : null;
    // The request joins its wallet's usage log before any node is asked: a node that agrees to sign
    // keeps its own record, and from then on refuses any log that lacks it.
    const record = policy ? usageRecordOf(input.userAction, policy) : null;
    const recorded = record
      ? this.ctx.storage.sql.exec("INSERT OR IGNORE INTO wallet_usage (wallet_id, request_id, record, at) VALUES (?, ?, ?, ?)", record.walletId, record.requestId, JSON.stringify(record), record.at).rowsWritten > 0
      : false;
    // Records older than the longest window Dfns allows (30 days) are never carried again.
    if (recorded && record) this.ctx.storage.sql.exec("DELETE FROM wallet_usage WHERE wallet_id = ? AND at < ?", record.walletId, Date.now() - 43_200 * 60_000);
    let anyAccepted = false;
    const shareKeyId = key.masterKeyId ?? input.keyId;
    // ECDSA: one online round from a presignature when the pool has one (the first attempt only).
    const presigning = key.scheme === "ecdsa-secp256k1" && this.pools().enabled;
    let presignature = presigning ? this.takePresignature(shareKeyId) : undefined;
    // In the background: this signature does not wait for it.
    const refill = () => {
      if (presigning) void this.pools().top(shareKeyId);
    };
    const evm = this.evmNonceOf(input.keyId, key.scheme, input.intent);
    const proof = evm && evm.nonce > 0 ? this.nonceProof(evm.scope) : undefined;
    let excluded = new Set<string>();
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const available = key.parties.filter((p) => !excluded.has(p.peerId));
      if (available.length < key.threshold) break;
      // ECDSA (DKLs23) signs with exactly t parties; FROST with at least t: t keeps it cheap.
      const start = this.turn++ % available.length;
      const signers = presignature ? presignature.parties : [...available.slice(start), ...available.slice(0, start)].slice(0, key.threshold).sort((a, b) => a.index - b.index);
      const usedPresignature = presignature?.id;
      presignature = undefined;
      const a = {
        ...this.authorization({ edgeId, keyId: input.keyId, scheme: key.scheme, parties: signers }),
        kind: "sign",
        message: input.message,
        intent: input.intent,
        userAction: input.userAction,
        ...(key.derivationPath ? { derivationPath: key.derivationPath } : {}),
        ...(binding ? { walletBinding: binding } : {}),
        ...(policy ? { policy } : {}),
        ...(usedPresignature ? { presignature: usedPresignature } : {}),
        ...(proof ? { nonceProof: proof } : {}),
      } as Authorization;
      try {
        const feed = await this.governanceFeed(input.userAction.orgId, signers);
        const extra = await this.orgNodesFor(input.userAction.orgId, key.parties, cfg);
        const coordinator = await this.coordinator(peerSeed, cfg, extra);
        const out = await coordinator.sign({ nodes: this.addresses(cfg, extra), authorization: await this.seal(a, authKey, feed?.head), publicKey: key.publicKey, ...(feed ? { governance: feed.entries } : {}) });
        this.governanceReached(input.userAction.orgId, signers, feed?.head);
        refill();
        if (evm && out.signature.length === 128) {
          this.ctx.storage.sql.exec(
            "INSERT INTO evm_nonce_proofs (scope, nonce, txn, signature) VALUES (?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET nonce = excluded.nonce, txn = excluded.txn, signature = excluded.signature WHERE excluded.nonce >= evm_nonce_proofs.nonce",
            evm.scope,
            evm.nonce,
            evm.transaction,
            out.signature,
          );
        }
        return success({ signature: out.signature, ...(out.recid !== undefined ? { recid: out.recid } : {}), publicKey: out.publicKey });
      } catch (e) {
        last = e;
        if (!(e instanceof CeremonyError) || e.failures.length < signers.length || e.failures.some((f) => f.stage !== "refused")) anyAccepted = true;
        // A node refused the head because it lacks entries it was thought to hold: again, with them
        // (a fresh session; a presignature used here is spent either way).
        if (this.governanceDoubted(input.userAction.orgId, e)) continue;
        // The one-round path failed (a node no longer holds the presignature, or a node failed):
        // today's path next, once; the presignature is spent either way. Refusals for any other
        // cause than the presignature end the request as before.
        if (usedPresignature && e instanceof CeremonyError && !e.failures.some((f) => f.stage === "refused" && f.code !== "mismatch")) {
          excluded = new Set([...excluded, ...e.blamed]);
          continue;
        }
        if (!(e instanceof CeremonyError) || e.failures.some((f) => f.stage === "refused")) break;
        excluded = new Set([...excluded, ...e.blamed]);
      }
    }
    // Refused by every node asked: none keeps a record of it, so neither does the log.
    if (recorded && record && !anyAccepted) this.ctx.storage.sql.exec("DELETE FROM wallet_usage WHERE wallet_id = ? AND request_id = ?", record.walletId, record.requestId);
    refill();
    return ceremonyFailure(last ?? new Error(`fewer than ${key.threshold} share holders are available`));
  }
}

/** Where the edge dials the nodes an org's log added (from their join requests). */
function addedNodes(log: Record<string, ShareHolderState>): ShareHolderAddress[] {
  return Object.entries(log)
    .filter(([, h]) => h.edgeAddresses && h.edgeAddresses.length > 0)
    .map(([peerId, h]) => ({ peerId, multiaddrs: h.edgeAddresses!, ...(h.region ? { region: h.region } : {}) }));
}

/** What retiring a node did: the keys reshared onto the replacement, and what the retired node erased. */
export interface RetireOutcome {
  reshared: string[];
  erased: { ok: boolean; shares?: number; message?: string } | null;
}

/** Refusals of the user's evidence are the request's fault (403); anything else is ours (503). */
function ceremonyFailure(e: unknown): Outcome<never> {
  if (e instanceof CeremonyError) {
    const refusedForCause = e.failures.some((f) => f.stage === "refused" && ["user-evidence", "intent", "mismatch", "banned", "governance", "policy"].includes(f.code ?? ""));
    const byPolicy = e.failures.some((f) => f.stage === "refused" && f.code === "policy");
    return { ...failure(refusedForCause ? 403 : 503, `Share holders: ${e.message}`), ...(byPolicy ? { refusal: "policy" as const } : {}) };
  }
  return failure(503, `Share holders unavailable: ${e instanceof Error ? e.message : String(e)}`);
}
