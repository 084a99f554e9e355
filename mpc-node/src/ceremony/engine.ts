// The node's ceremony engine: takes an authorization from a coordinator, checks it, runs this
// node's part of the ceremony against the other parties, keeps the result (a sealed share, a ban)
// and writes the audit entry. Transport, storage, audit sink and clock are injected, so the engine
// runs unchanged over libp2p (network/) and in one process under unit tests.
//
// Round messages may arrive before this node has the authorization for their session (another
// party was faster): they are held, bounded in count, bytes and time, and replayed once the
// session starts. Messages for sessions that already ended are dropped.
//
// A share holder may lie, so every frame between nodes carries a statement signed with the
// sender's node key (shared/src/mpc/round-statements.ts): session, round, parties, the sender's
// share generation and audit head, and digests of the broadcast part and of the whole payload.
// - Keygen and refresh end with a confirmation exchange before anything is stored: each party
//   echoes the signed statements it received and the digest of its public view (FROST: the whole
//   public key package with every verifying share; ECDSA: key and chain code). Two statements of
//   one sender with different broadcast digests name it as an equivocator, with proof; a view
//   that differs from this node's names its sender. Only when all agree is the share stored.
// - Signing keeps its rounds. If it aborts, the parties exchange the statements they received and
//   an equivocator is named after the fact (FROST may otherwise blame an honest party).
// - A refresh commits (new share stored, old one retired) once every party confirmed; once every
//   party reports it committed too, the retired share is erased (row deleted, database vacuumed).
// - A core message whose sender signs an older share generation than this node's is refused.
// Culprits named with evidence are banned for the key and the evidence goes into the audit log.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { Ceremony, KeyShare, MpcError } from "../../../wasm/index.js";
import { verifyAuthorization, type Authorization, type AuthorizationContext, type CeremonyKind, type KeyBinding, type KeygenAuthorization, type KeyRecordView } from "../../../shared/src/mpc/authorization.js";
import type { ChainIdOf } from "../../../shared/src/mpc/intent.js";
import { decodeRoundFrame, encodeRoundFrame, type CeremonyResult, type NodeFailure, type NodeFailureCode, type NodeResponseFrame, type RetireResponse } from "../../../shared/src/mpc/protocol.js";
import { isRetired } from "../../../shared/src/governance/log.js";
import {
  checkEvidence,
  CORE_HEADER_BYTES,
  digestsOf,
  EMPTY_AUDIT_HEAD,
  encodeStatement,
  findEquivocation,
  FRAME_KIND,
  joinPayload,
  SIGNED_STATEMENT_BYTES,
  signedHex,
  splitPayload,
  STATEMENT_BYTES,
  type Evidence,
  type FrameKind,
  type Statement,
} from "../../../shared/src/mpc/round-statements.js";
import { nativeVerify } from "./native-verify.js";
import { nativeSha256, RoundSigner } from "./round-signer.js";
import { CeremonySession, type Clock, type SessionFailure } from "./session.js";
import type { KeyRecord } from "../storage/node-store.js";
import type { GovernanceBook } from "../governance/book.js";
import { signKeygenAttestation } from "../../../shared/src/mpc/keygen-attestation.js";
import { presignatureIds } from "../../../shared/src/mpc/presigned.js";

export interface EngineStore {
  key(keyId: string): KeyRecord | undefined;
  share(keyId: string): Uint8Array;
  /** A presigning ceremony's presignatures, all in one transaction (a batch is kept whole or not at all). */
  storePresignatures(keyId: string, presignatures: { id: string; bytes: Uint8Array }[], signers: number[], generation: number, now: number): void;
  /** Reads and deletes in one transaction; null if this node holds no such presignature. */
  takePresignature(keyId: string, presignatureId: string, signers: number[], o?: { durable?: boolean }): Uint8Array | null;
  createKey(record: Omit<KeyRecord, "generation" | "createdAt">, share: Uint8Array, now: number, generation?: number): void;
  /** deriveFrom: the key already derived at `path` of the master, if any. */
  derivedAt(masterKeyId: string, path: string): string | null;
  createDerivedKey(record: { keyId: string; masterKeyId: string; path: string; publicKey: string; orgId: string; walletId: string | null; network: string | null; credentials: string[]; owner: string | null }, now: number): void;
  /** Refresh: the new share becomes current; the old one is kept (retired) until erased. */
  commitRefresh(keyId: string, share: Uint8Array, now: number): number;
  /** Reshare: as a refresh, and the key's parties become the new set. */
  commitReshare(keyId: string, share: Uint8Array, parties: KeyRecord["parties"], now: number): number;
  /** This node was retired from the org: erases every share of the org's keys (see NodeStore). */
  eraseOrgShares(orgId: string): { keys: string[]; shares: number };
  /** Deletes retired shares of the key and compacts the database so no copy stays on disk. */
  eraseRetired(keyId: string): number;
  recordPeerHead(peerId: string, head: { seq: number; hash: string }, now: number): void;
  /** Several peers' heads at once (one commit); falls back to recordPeerHead when absent. */
  recordPeerHeads?(heads: Iterable<[string, { seq: number; hash: string }]>, now: number): void;
  isBanned(keyId: string, peerId: string): boolean;
  ban(keyId: string, peerId: string, reason: string, now: number): void;
  claim: (c: Parameters<AuthorizationContext["claim"]>[0], now: number, o?: { durable?: boolean }) => ReturnType<AuthorizationContext["claim"]>;
  /** The highest EVM nonce signed in a scope (key and chain); absent: the nonce rule is off (test stand-ins). */
  evmNonce?(scope: string): number | null;
  recordEvmNonce?(scope: string, nonce: number, now: number): void;
}

export interface RoundTransport {
  /** Queues a round frame for a peer; delivery failures come back through engine.peerUnreachable. */
  send(peerId: string, frame: Uint8Array): void;
}

/** What the coordinator's side of one request hears from the engine, and how it cancels it. */
export interface CeremonyHooks {
  /** The authorization passed and this node starts contributing. */
  accepted(sessionId: string): void;
  /** Aborted: the coordinator went away; this node's part is cancelled. */
  signal?: AbortSignal;
  /** A signature from a presignature: this signer's online broadcast, for the coordinator to assemble. */
  partial?(sessionId: string, partial: string): void;
}

export interface EngineOptions {
  self: { peerId: string; region: string };
  /** The other share holders this node talks to, with their region labels (for error messages). */
  peers: ReadonlyMap<string, { region: string }>;
  edgeKeys: ReadonlyMap<string, Uint8Array>;
  /** Per-session timeout for signatures. */
  signTimeoutMs: number;
  /** Per-session timeout for keygen and refresh (ECDSA DKG costs seconds of CPU per party). */
  keygenTimeoutMs: number;
  authorization?: { maxLifetimeMs?: number; clockSkewMs?: number; userActionMaxAgeMs?: number; rpId?: string; policyPrices?: Record<string, string> };
  chainIdOf?: ChainIdOf;
  /** Governed orgs' logs; without it every org is treated as ungoverned. */
  governance?: GovernanceBook;
  maxSessions?: number;
  store: EngineStore;
  audit: { append(entry: Record<string, unknown>): unknown; currentHead?(): { seq: number; hash: string } };
  /**
   * Group commits (storage/group-commit.ts), each resolving once what was written before it is on
   * disk. With them, the claim of an authorization and the spending of a presignature are
   * committed without waiting for the disk, and `store` is awaited before the ceremony starts
   * (before anything computed under them leaves the node); audit lines are written without a sync
   * of their own, and `audit` is awaited before the answer. Without them, each of those writes
   * syncs itself. (What else a ceremony stores either syncs itself — keys, refreshes, bans, EVM
   * nonces — or may be lost in a crash by design: presignatures, peers' audit heads.)
   */
  durable?: { store(): Promise<void>; audit(): Promise<void> };
  /** This node's 32-byte Ed25519 peer-key seed: signs its round statements. */
  nodeKey: Uint8Array;
  /** How long to wait for the other parties' confirmations, commits or post-abort evidence. */
  exchangeTimeoutMs?: number;
  /**
   * Keygen/refresh confirmation exchange (echo broadcast + public view comparison). Always on in a
   * node (the daemon never sets this); false exists for the benchmark's without-the-round baseline.
   */
  confirmRound?: boolean;
  /**
   * How many keys' shares stay imported in the core between signatures (default 64, 0: none).
   * A signature then skips reading the sealed share (≈ 105 KB for ECDSA), decrypting and parsing
   * it. The process already holds the key-encryption key that opens every share, so keeping
   * some opened changes nothing for an attacker who can read its memory.
   */
  shareCacheSize?: number;
  /** Deliberate misbehaviour for the malicious-node tests (mpc-node/test/malicious/); never set by the daemon. */
  deviation?: Deviation;
  transport: RoundTransport;
  clock: Clock;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * How a deliberately malicious node deviates (tests only). Applied to what this node sends,
 * before it signs it: the statements stay validly signed, as a real cheater's would.
 */
export interface Deviation {
  core?(m: { kind: CeremonyKind; scheme: string; keyId: string; round: number; me: number; to: number }, message: Uint8Array): Uint8Array;
  publicView?(view: Uint8Array): Uint8Array;
}

interface SignedFrame {
  statement: Uint8Array;
  signature: Uint8Array;
  parsed: Statement;
  payload: Uint8Array;
}

interface ActiveSession {
  session: CeremonySession;
  sessionId: string;
  kind: CeremonyKind;
  scheme: string;
  keyId: string;
  me: number;
  generation: number;
  partyOf: Map<string, number>;
  peerOf: Map<number, string>;
  /** Signed core statements received, and this node's own (one per round). */
  received: { statement: Uint8Array; signature: Uint8Array }[];
  sent: Map<number, { statement: Uint8Array; signature: Uint8Array }>;
  confirms: Map<number, SignedFrame>;
  committed: Set<number>;
  evidence: Map<number, SignedFrame>;
  peerHeads: Map<string, { seq: number; hash: string }>;
  /** Evidence found while receiving (stale generation, a misbound message). */
  convicted: Evidence | null;
  wake: (() => void) | null;
}

type Binding = KeyBinding;

type Settled = { ok: true; result: CeremonyResult; audit?: Record<string, unknown> } | { ok: false; failure: NodeFailure; evidence?: Evidence };

interface Pending {
  frames: { from: string; bytes: Uint8Array }[];
  bytes: number;
  cancel: () => void;
}

const MAX_PENDING_SESSIONS = 512;
const MAX_PENDING_FRAMES = 64;
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export class CeremonyEngine {
  private readonly active = new Map<string, ActiveSession>();
  private readonly pending = new Map<string, Pending>();
  /** Sessions that ended, with when they may be forgotten (insertion order = expiry order). */
  private readonly closed = new Map<string, number>();
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly signer: RoundSigner;
  private readonly shares: ShareCache;

  constructor(private readonly o: EngineOptions) {
    this.log = o.log ?? (() => {});
    this.signer = new RoundSigner(o.nodeKey);
    this.shares = new ShareCache(o.store, o.shareCacheSize ?? 64);
  }

  private releaseShare(kind: CeremonyKind, share: KeyShare): void {
    if (kind === "sign" || kind === "presign") this.shares.release(share);
    else share.free();
  }

  get activeSessions(): number {
    return this.active.size;
  }

  /** Names a peer for messages: "12D3KooW… (us)". */
  describePeer(peerId: string): string {
    const region = peerId === this.o.self.peerId ? this.o.self.region : this.o.peers.get(peerId)?.region;
    return region ? `${peerId} (${region})` : peerId;
  }

  /**
   * One coordinator request: `accepted(sessionId)` is called once the authorization passed and
   * this node starts contributing; the returned frame is the final answer. Aborting `signal`
   * (the coordinator went away) cancels this node's part.
   */
  async run(
    kind: CeremonyKind,
    signed: unknown,
    coordinator: string,
    hooks: CeremonyHooks,
    governanceEntries?: unknown[],
  ): Promise<NodeResponseFrame> {
    const answer = await this.runCeremony(kind, signed, coordinator, hooks, governanceEntries);
    if (!this.o.durable) return answer;
    // Every answer follows its audit line onto the disk.
    try {
      await this.o.durable.audit();
    } catch (e) {
      this.log({ event: "sync-failed", error: (e as Error).message });
      const started = answer.type === "result" || (answer.type === "failure" && answer.started);
      return { type: "failure", sessionId: answer.sessionId, error: { code: "internal", message: `this node could not sync its audit log and store: ${(e as Error).message}`, culprits: [], waitingFor: [] }, ...(started ? { started: true as const } : {}) };
    }
    return answer;
  }

  private async runCeremony(
    kind: CeremonyKind,
    signed: unknown,
    coordinator: string,
    hooks: CeremonyHooks,
    governanceEntries?: unknown[],
  ): Promise<NodeResponseFrame> {
    const clock = this.o.clock;
    const receivedAt = clock.now();
    const store = this.o.store;
    if (this.active.size >= (this.o.maxSessions ?? 256)) {
      return this.refused(kind, signed, coordinator, receivedAt, "busy", `this node already runs ${this.active.size} sessions`);
    }
    const book = this.o.governance;
    if (book && governanceEntries && governanceEntries.length > 0) {
      const orgId = claimedOrg(signed, store);
      if (orgId) {
        const synced = await book.sync(orgId, governanceEntries);
        if (!synced.ok) return this.refused(kind, signed, coordinator, receivedAt, "governance", synced.reason);
      }
    }
    let check: Awaited<ReturnType<typeof verifyAuthorization>>;
    try {
      check = await verifyAuthorization(signed, {
        edgeKeys: this.o.edgeKeys,
        self: this.o.self.peerId,
        expectedKind: kind,
        now: clock.now(),
        ...this.o.authorization,
        // node:crypto, synchronously: no thread-pool round trip on the signature's critical path.
        nativeVerify,
        ...(this.o.chainIdOf ? { chainIdOf: this.o.chainIdOf } : {}),
        key: (id): KeyRecordView | undefined => store.key(id),
        ...(book ? { governance: (orgId: string) => book.state(orgId) } : {}),
        isBanned: (keyId, peerId) => store.isBanned(keyId, peerId),
        // Synced before anything leaves the node: by the group commit awaited before the ceremony
        // starts; else an online signature from a presignature deletes it (a synced commit) first,
        // which syncs this claim too, and every other request's claim is synced itself.
        claim: (c) => store.claim(c, clock.now(), { durable: !this.o.durable && !claimsPresignature(signed) }),
        ...(store.evmNonce ? { evmNonce: (scope: string) => store.evmNonce!(scope) } : {}),
      });
    } catch (e) {
      // A check that throws instead of answering is a bug; the request is refused all the same.
      return this.refused(kind, signed, coordinator, receivedAt, "internal", `could not check the authorization: ${(e as Error).message}`);
    }
    if (!check.ok) return this.refused(kind, signed, coordinator, receivedAt, check.code, check.reason);
    const a = check.authorization;
    if (this.active.has(a.sessionId) || this.closed.has(a.sessionId)) {
      return this.refused(kind, signed, coordinator, receivedAt, "mismatch", `session ${a.sessionId} already ran on this node`);
    }

    if (a.kind === "keygen" && a.deriveFrom) return this.derive(a, a.deriveFrom, check.binding!, coordinator, receivedAt, hooks);

    const me = a.parties.find((p) => p.peerId === this.o.self.peerId)!.index;
    const sessionIdBytes = hexToBytes(a.sessionId);
    const indices = a.parties.map((p) => p.index);
    let share: KeyShare | undefined;
    let ceremony: Ceremony;
    try {
      if (a.kind === "keygen") {
        ceremony = Ceremony.keygen({ scheme: a.scheme, sessionId: sessionIdBytes, me, parties: indices, threshold: a.threshold });
      } else if (a.kind === "reshare" && a.target.peerId === this.o.self.peerId) {
        // The replacement: no share yet; it takes the retired holder's index of this very key.
        ceremony = Ceremony.reshare({ sessionId: sessionIdBytes, parties: indices, target: a.target.index, scheme: a.scheme, threshold: a.threshold, publicKey: hexToBytes(a.publicKey) });
      } else {
        share = a.kind === "sign" || a.kind === "presign" ? this.shares.acquire(a.keyId) : openShare(this.o.store, a.keyId);
        if (a.kind === "sign" && a.presignature) {
          // Erased from storage here, before the ceremony starts and releases anything from it.
          const presignature = store.takePresignature(a.keyId, a.presignature, indices, { durable: !this.o.durable });
          if (!presignature) {
            this.releaseShare(a.kind, share);
            return this.refused(kind, signed, coordinator, receivedAt, "mismatch", `presignature ${a.presignature} of key ${a.keyId} for parties ${indices.join(",")} is not held by this node (never made, already used, or made before a refresh)`);
          }
          try {
            ceremony = Ceremony.signPresigned({ share, sessionId: sessionIdBytes, signers: indices, message: check.message!, presignature, ...(a.derivationPath ? { path: a.derivationPath } : {}) });
          } finally {
            presignature.fill(0);
          }
        } else {
          ceremony =
            a.kind === "sign"
              ? Ceremony.sign({ share, sessionId: sessionIdBytes, signers: indices, message: check.message!, ...(a.derivationPath ? { path: a.derivationPath } : {}) })
              : a.kind === "presign"
                ? Ceremony.presign({ share, sessionId: sessionIdBytes, signers: indices, presignatureIds: presignatureIds(a.sessionId, a.count).map(hexToBytes) })
                : a.kind === "reshare"
                  ? Ceremony.reshare({ share, sessionId: sessionIdBytes, parties: indices, target: a.target.index })
                  : Ceremony.refresh({ share, sessionId: sessionIdBytes, parties: indices });
        }
      }
    } catch (e) {
      if (share) this.releaseShare(a.kind, share);
      const code: NodeFailureCode = e instanceof MpcError && e.code === "bad-input" ? "mismatch" : "internal";
      return this.refused(kind, signed, coordinator, receivedAt, code, `cannot start the ceremony: ${(e as Error).message}`);
    }

    if (this.o.durable) {
      // The claim (nonce, session, user action, policy record) and a spent presignature reach the
      // disk before the ceremony releases anything computed under them.
      try {
        await this.o.durable.store();
      } catch (e) {
        ceremony.free();
        if (share) this.releaseShare(a.kind, share);
        return this.refused(kind, signed, coordinator, receivedAt, "internal", `could not sync this node's store: ${(e as Error).message}`);
      }
    }
    const peerOf = new Map(a.parties.map((p) => [p.index, p.peerId]));
    const partyOf = new Map(a.parties.map((p) => [p.peerId, p.index]));
    const s: ActiveSession = {
      session: undefined as unknown as CeremonySession,
      sessionId: a.sessionId,
      kind: a.kind,
      scheme: a.scheme,
      keyId: a.keyId,
      me,
      // A reshare's replacement signs the generation the others hold (the authorization's, which they checked).
      generation: a.kind === "keygen" ? 0 : a.kind === "reshare" ? a.generation : store.key(a.keyId)!.generation,
      partyOf,
      peerOf,
      received: [],
      sent: new Map(),
      confirms: new Map(),
      committed: new Set(),
      evidence: new Map(),
      peerHeads: new Map(),
      convicted: null,
      wake: null,
    };
    const session = new CeremonySession({
      ceremony,
      sessionId: sessionIdBytes,
      parties: indices,
      timeoutMs: a.kind === "sign" || a.kind === "presign" ? this.o.signTimeoutMs : this.o.keygenTimeoutMs,
      clock,
      send: (to, message) => this.sendFrame(s, to, FRAME_KIND.core, message),
      describe: (p) => `party ${p} = ${this.describePeer(peerOf.get(p) ?? "?")}`,
    });
    s.session = session;
    this.active.set(a.sessionId, s);
    const acceptedAt = clock.now();
    this.log({ event: "session-accepted", sessionId: a.sessionId, kind: a.kind, keyId: a.keyId, parties: a.parties.map((p) => p.peerId) });
    hooks.accepted(a.sessionId);
    const onAbort = () => session.abort("cancelled", "the coordinator closed the session");
    hooks.signal?.addEventListener("abort", onAbort);
    if (hooks.signal?.aborted) onAbort();

    session.start();
    // A signature from a presignature: the coordinator gets this signer's broadcast too and can
    // assemble the signature one network hop earlier (shared/src/mpc/presigned.ts). The
    // presignature is already spent; this round reveals nothing more to it than to the other signer.
    let partialSent = false;
    if (hooks.partial && a.kind === "sign" && a.presignature && !session.finished) {
      const partial = ceremony.partial();
      if (partial) {
        hooks.partial(a.sessionId, bytesToHex(partial));
        partialSent = true;
      }
    }
    const held = this.pending.get(a.sessionId);
    if (held) {
      held.cancel();
      this.pending.delete(a.sessionId);
      for (const f of held.frames) this.receiveFrame(f.from, f.bytes);
    }
    const outcome = await session.outcome;
    hooks.signal?.removeEventListener("abort", onAbort);

    const base = { ...auditBase(a, coordinator), ...(partialSent ? { partialSentToCoordinator: true } : {}) };
    let settled: Settled;
    try {
      settled = await this.settle(s, a, outcome, check.binding, share);
    } catch (e) {
      const message = `could not complete the ${a.kind}: ${(e as Error).message}`;
      settled = { ok: false, failure: { code: "internal", message, culprits: [], waitingFor: [] } };
    } finally {
      this.active.delete(a.sessionId);
      this.rememberClosed(a.sessionId);
      ceremony.free();
      if (share) this.releaseShare(a.kind, share);
      // A refresh or reshare moved the key to a new generation: the cached share is the old one.
      if (a.kind === "refresh" || a.kind === "reshare") this.shares.evict(a.keyId);
    }
    const finishedAt = clock.now();
    const timings = { receivedAt: new Date(receivedAt).toISOString(), verifyMs: Math.round(acceptedAt - receivedAt), ceremonyMs: Math.round(finishedAt - acceptedAt), totalMs: Math.round(finishedAt - receivedAt) };
    // Cross-anchoring: the audit heads the other parties signed into this session's messages.
    const peerHeads = Object.fromEntries([...s.peerHeads].map(([p, h]) => [p, h]));
    if (store.recordPeerHeads) store.recordPeerHeads(s.peerHeads, finishedAt);
    else for (const [p, h] of s.peerHeads) store.recordPeerHead(p, h, finishedAt);
    if (!settled.ok) {
      const failure = settled.failure;
      if (failure.code === "ban" || settled.evidence) {
        for (const p of failure.culprits) store.ban(a.keyId, p, failure.message, finishedAt);
      }
      this.o.audit.append({
        ...base,
        outcome: "failed",
        error: { code: failure.code, message: failure.message, culprits: failure.culprits },
        ...(settled.evidence ? { evidence: settled.evidence } : {}),
        peerHeads,
        timings,
      });
      this.log({ event: "session-failed", sessionId: a.sessionId, kind: a.kind, code: failure.code, message: failure.message, culprits: failure.culprits, ms: timings.totalMs });
      return { type: "failure", sessionId: a.sessionId, error: failure, started: true };
    }
    // The nonce is signed now: the next one may follow it (shared/src/chains/evm/fees.ts).
    if (check.evmNonce) store.recordEvmNonce?.(check.evmNonce.scope, check.evmNonce.nonce, finishedAt);
    this.o.audit.append({ ...base, outcome: "ok", result: resultForAudit(settled.result), ...settled.audit, peerHeads, timings });
    this.log({ event: "session-finished", sessionId: a.sessionId, kind: a.kind, keyId: a.keyId, ms: timings.totalMs });
    // Keygen: this node's signed statement of what it generated, for whom, under which governance head.
    const attestation =
      settled.result.kind === "keygen" && check.binding
        ? signKeygenAttestation(
            { orgId: check.binding.orgId, keyId: a.keyId, walletId: check.binding.walletId, publicKey: settled.result.publicKey, scheme: a.scheme, owner: check.binding.owner, governance: a.governance ?? null },
            this.o.self.peerId,
            this.o.nodeKey,
          )
        : undefined;
    return { type: "result", sessionId: a.sessionId, result: settled.result, ...(attestation ? { attestation } : {}) };
  }

  /**
   * A derived wallet (deriveFrom): no rounds. This node derives the child public key from its own
   * share of the master key (BIP32 non-hardened: the tweak comes from the master's public key and
   * chain code, the same at every party), records {master, path} and the user's binding under the
   * new key id, and answers with the child public key; the coordinator requires every party to
   * answer the same one.
   */
  private derive(a: KeygenAuthorization, from: { keyId: string; path: string }, binding: Binding, coordinator: string, receivedAt: number, hooks: { accepted(sessionId: string): void }): NodeResponseFrame {
    const store = this.o.store;
    const taken = store.derivedAt(from.keyId, from.path);
    if (taken) return this.refused("keygen", { authorization: a }, coordinator, receivedAt, "mismatch", `key ${taken} is already derived from ${from.keyId} at ${from.path}`);
    hooks.accepted(a.sessionId);
    let publicKey: string;
    try {
      const plain = store.share(from.keyId);
      let share: KeyShare | undefined;
      try {
        share = KeyShare.import(plain);
        publicKey = bytesToHex(share.derivePublicKey(from.path));
      } finally {
        plain.fill(0);
        share?.free();
      }
      store.createDerivedKey({ keyId: a.keyId, masterKeyId: from.keyId, path: from.path, publicKey, orgId: binding.orgId, walletId: binding.walletId, network: binding.network, credentials: binding.credentials, owner: binding.owner }, this.o.clock.now());
    } catch (e) {
      return this.refused("keygen", { authorization: a }, coordinator, receivedAt, "internal", `cannot derive from ${from.keyId} at ${from.path}: ${(e as Error).message}`);
    }
    const timings = { receivedAt: new Date(receivedAt).toISOString(), totalMs: Math.round(this.o.clock.now() - receivedAt) };
    this.o.audit.append({ ...auditBase(a, coordinator), outcome: "ok", derivedFrom: from, result: { publicKey }, timings });
    this.log({ event: "key-derived", sessionId: a.sessionId, keyId: a.keyId, masterKeyId: from.keyId, path: from.path, ms: timings.totalMs });
    return { type: "result", sessionId: a.sessionId, result: { kind: "keygen", keyId: a.keyId, publicKey } };
  }

  /**
   * After the core finished (or failed): the confirmation exchange of keygen and refresh, the
   * post-abort evidence exchange of signing, then storing what was produced.
   */
  private async settle(
    s: ActiveSession,
    a: Authorization,
    outcome: Awaited<CeremonySession["outcome"]>,
    binding: Binding | undefined,
    share: KeyShare | undefined,
  ): Promise<Settled> {
    const peerOf = s.peerOf;
    const blameworthy = (f: SessionFailure) => f.code === "protocol-abort" || f.code === "malformed" || f.code === "ban";
    if (a.kind === "sign" || a.kind === "presign") {
      if (outcome.ok) {
        if (a.kind === "sign") return { ok: true, result: this.complete(a, outcome.ceremony, undefined, this.o.clock.now(), s.me, share) };
        // The whole batch in one transaction: every presignature the authorization names, or none.
        const ids = presignatureIds(a.sessionId, a.count);
        const made = outcome.ceremony.presignatures();
        try {
          if (made.length !== ids.length) throw new Error(`the core made ${made.length} presignatures, the authorization names ${ids.length}`);
          this.o.store.storePresignatures(a.keyId, ids.map((id, i) => ({ id, bytes: made[i]! })), a.parties.map((p) => p.index), s.generation, this.o.clock.now());
        } finally {
          for (const b of made) b.fill(0);
        }
        return { ok: true, result: { kind: "presign", keyId: a.keyId, presignatureIds: ids, publicKey: this.o.store.key(a.keyId)!.publicKey } };
      }
      if (s.convicted) return this.convict(s, s.convicted, outcome.failure);
      // Only a failed protocol check can hide an equivocation: a frame refused for its envelope or
      // signature names its sender for certain, and DKLs23's ban comes from a pairwise check.
      if (outcome.failure.code !== "protocol-abort") return { ok: false, failure: this.toNodeFailure(outcome.failure, peerOf) };
      // Signing keeps its rounds; after an abort the parties compare what they were sent. One
      // other party's statements can suffice, so the first equivocation found ends the wait.
      const mine = this.statementsPayload(s);
      for (const p of this.others(s)) this.sendFrame(s, p, FRAME_KIND.evidence, mine);
      let eq: Evidence | null = null;
      const search = () => {
        const pool = [...s.received, ...s.sent.values()];
        for (const f of s.evidence.values()) pool.push(...readStatements(splitPayload(f.payload).direct));
        eq = findEquivocation(s.sessionId, pool, peerOf);
        return eq !== null || this.others(s).every((p) => s.evidence.has(p));
      };
      await this.waitUntil(s, search, this.o.exchangeTimeoutMs ?? 3_000);
      if (eq) return this.convict(s, eq, outcome.failure);
      return { ok: false, failure: this.toNodeFailure(outcome.failure, peerOf) };
    }

    // Keygen and refresh.
    if (this.o.confirmRound === false) {
      if (!outcome.ok) return { ok: false, failure: this.toNodeFailure(outcome.failure, peerOf) };
      const fresh = outcome.ceremony.keyShare();
      try {
        return { ok: true, result: this.store(a, fresh, binding, s.me) };
      } finally {
        fresh.free();
      }
    }
    if (!outcome.ok && !blameworthy(outcome.failure)) return { ok: false, failure: this.toNodeFailure(outcome.failure, peerOf) };
    const fresh = outcome.ok ? outcome.ceremony.keyShare() : null;
    try {
      let view = fresh ? fresh.publicView() : new Uint8Array(0);
      if (fresh && this.o.deviation?.publicView) view = this.o.deviation.publicView(view);
      const myBroadcast = new Uint8Array(33);
      if (fresh) myBroadcast.set(sha256(view));
      myBroadcast[32] = fresh ? 0 : 1;
      const myConfirm = joinPayload(myBroadcast, this.statementsPayload(s));
      const mine: { statement: Uint8Array; signature: Uint8Array }[] = [];
      for (const p of this.others(s)) mine.push(this.sendFrame(s, p, FRAME_KIND.confirm, myConfirm));
      // The others may still be computing their last round (ECDSA: seconds of CPU): the
      // confirmations are awaited until the ceremony's own deadline, at least the exchange timeout.
      const left = this.o.keygenTimeoutMs - (this.o.clock.now() - s.session.startedAt);
      // After an abort, one other party's echo can already convict an equivocator: no need to wait
      // for a cheater's own confirmation then.
      const equivocation = () => {
        const pool = [...s.received, ...s.sent.values()];
        for (const c of s.confirms.values()) pool.push(...readStatements(splitPayload(c.payload).direct));
        return findEquivocation(s.sessionId, pool, peerOf);
      };
      const all = await this.waitUntil(
        s,
        () => this.others(s).every((p) => s.confirms.has(p)) || (!outcome.ok && equivocation() !== null),
        Math.max(left, this.o.exchangeTimeoutMs ?? 10_000),
      );

      // 1. Evidence found while receiving; 2. equivocation in any broadcast, over what this node
      // received and what every other party echoed.
      if (s.convicted) return this.convict(s, s.convicted, outcome.ok ? undefined : outcome.failure);
      const eq = equivocation();
      if (eq) return this.convict(s, eq, outcome.ok ? undefined : outcome.failure);
      if (!outcome.ok) return { ok: false, failure: this.toNodeFailure(outcome.failure, peerOf) };
      if (!all) {
        const missing = this.others(s).filter((p) => !s.confirms.has(p));
        return { ok: false, failure: this.toNodeFailure({ code: "timeout", message: `no confirmation of the ${a.kind} from ${missing.map((p) => `party ${p} = ${this.describePeer(peerOf.get(p)!)}`).join(", ")}; nothing was stored`, culprits: missing, waitingFor: missing, round: 0 }, peerOf) };
      }
      const aborted = [...s.confirms].filter(([, c]) => splitPayload(c.payload).broadcast[32] !== 0).map(([p]) => p);
      if (aborted.length > 0) {
        return { ok: false, failure: this.toNodeFailure({ code: "protocol-abort", message: `party ${aborted.join(", ")} aborted the ${a.kind} (no equivocation found); nothing was stored`, culprits: [], waitingFor: [], round: 0 }, peerOf) };
      }
      // 3. Every party's view of the public key package (every verifying share) must be this one.
      const myHex = bytesToHex(myBroadcast);
      const agreed = [...s.confirms].filter(([, c]) => bytesToHex(splitPayload(c.payload).broadcast) === myHex);
      for (const [p, c] of s.confirms) {
        const theirs = splitPayload(c.payload).broadcast;
        if (bytesToHex(theirs) === myHex) continue;
        const evidence: Evidence = {
          kind: "wrong-public-view",
          culprit: peerOf.get(p)!,
          sessionId: s.sessionId,
          claimed: { ...signedHex(c.statement, c.signature), broadcast: bytesToHex(theirs) },
          agreed: [
            { ...signedHex(mine[0]!.statement, mine[0]!.signature), signer: this.o.self.peerId, broadcast: myHex },
            ...agreed.map(([q, x]) => ({ ...signedHex(x.statement, x.signature), signer: peerOf.get(q)!, broadcast: myHex })),
          ],
        };
        return this.convict(s, evidence, undefined);
      }

      const result = this.store(a, fresh!, binding, s.me);
      if (a.kind === "keygen") return { ok: true, result };
      // Every party confirmed the new generation and this node committed it; the retired share
      // goes as soon as every other party reports that it committed too.
      for (const p of this.others(s)) this.sendFrame(s, p, FRAME_KIND.committed, joinPayload(new Uint8Array(0), new Uint8Array(0)));
      const everyone = await this.waitUntil(s, () => this.others(s).every((p) => s.committed.has(p)), this.o.exchangeTimeoutMs ?? 10_000);
      if (!everyone) {
        const missing = this.others(s).filter((p) => !s.committed.has(p)).map((p) => peerOf.get(p)!);
        return { ok: true, result, audit: { retired: { erased: false, reason: "not every party reported the commit; the retired share is kept for a rollback", waitingFor: missing } } };
      }
      const erased = this.o.store.eraseRetired(a.keyId);
      return { ok: true, result, audit: { retired: { erased: true, shares: erased } } };
    } finally {
      fresh?.free();
    }
  }

  private convict(s: ActiveSession, evidence: Evidence, original: SessionFailure | undefined): Settled {
    // Our own accusation must hold up for a third party before we act on it.
    const verdict = checkEvidence(evidence);
    if (!verdict.ok) {
      this.log({ event: "evidence-rejected", sessionId: s.sessionId, reason: verdict.reason });
      return { ok: false, failure: original ? this.toNodeFailure(original, s.peerOf) : { code: "protocol-abort", message: `inconsistent ${s.kind}: ${verdict.reason}`, culprits: [], waitingFor: [] } };
    }
    const who = this.describePeer(evidence.culprit);
    const what: Record<Evidence["kind"], string> = {
      equivocation: "equivocated: it signed two different broadcasts for one round",
      "stale-generation": "signed round messages with a retired share generation",
      "wrong-public-view": "confirmed a public key package (verifying shares) that differs from the one every other party derived",
      misbound: "signed a round message bound to another session, round or party (a replay)",
    };
    const message = `${who} ${what[evidence.kind]}; evidence is in the audit log${s.kind === "sign" || s.kind === "presign" ? "" : "; nothing was stored"}${original ? ` (the core had reported: ${original.message})` : ""}`;
    return { ok: false, failure: { code: "protocol-abort", message: message.slice(0, 4000), culprits: [evidence.culprit], waitingFor: [], round: original?.round ?? 0 }, evidence };
  }

  private others(s: ActiveSession): number[] {
    return [...s.peerOf.keys()].filter((p) => p !== s.me);
  }

  /** The signed core statements this node received, as an echo payload's direct part. */
  private statementsPayload(s: ActiveSession): Uint8Array {
    const out = new Uint8Array(s.received.length * SIGNED_STATEMENT_BYTES);
    s.received.forEach((r, i) => {
      out.set(r.statement, i * SIGNED_STATEMENT_BYTES);
      out.set(r.signature, i * SIGNED_STATEMENT_BYTES + STATEMENT_BYTES);
    });
    return s.kind === "sign" || s.kind === "presign" ? joinPayload(new Uint8Array(0), out) : out;
  }

  private waitUntil(s: ActiveSession, done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cancel = this.o.clock.setTimeout(() => {
        s.wake = null;
        resolve(done());
      }, ms);
      s.wake = () => {
        if (!done()) return;
        cancel();
        s.wake = null;
        resolve(true);
      };
    });
  }

  /** Signs and sends one frame; returns the signed statement. */
  private sendFrame(s: ActiveSession, to: number, kind: FrameKind, payload: Uint8Array): { statement: Uint8Array; signature: Uint8Array } {
    const peer = s.peerOf.get(to);
    if (kind === FRAME_KIND.core && this.o.deviation?.core) {
      payload = this.o.deviation.core({ kind: s.kind, scheme: s.scheme, keyId: s.keyId, round: payload[33]!, me: s.me, to }, payload);
    }
    const statement = encodeStatement({
      sessionId: s.sessionId,
      kind,
      round: kind === FRAME_KIND.core ? payload[33]! : 0,
      from: s.me,
      to,
      generation: s.generation,
      auditHead: this.o.audit.currentHead?.() ?? EMPTY_AUDIT_HEAD,
      ...safeDigests(kind, payload),
    });
    const signature = this.signer.sign(statement);
    if (kind === FRAME_KIND.core && !s.sent.has(statement[34]!)) s.sent.set(statement[34]!, { statement, signature });
    if (peer) this.o.transport.send(peer, encodeRoundFrame(statement, signature, payload));
    return { statement, signature };
  }

  /** Stores a confirmed keygen or refresh share (refresh: the old one is retired, not yet erased). */
  private store(a: Authorization, fresh: KeyShare, binding: Binding | undefined, me: number): CeremonyResult {
    const store = this.o.store;
    const now = this.o.clock.now();
    const publicKey = bytesToHex(fresh.publicKey());
    const bytes = fresh.export();
    try {
      if (a.kind === "keygen") {
        const chainCode = a.scheme === "ecdsa-secp256k1" ? bytesToHex(fresh.chainCode()) : null;
        store.createKey({ keyId: a.keyId, scheme: a.scheme, threshold: a.threshold, parties: a.parties, myIndex: me, publicKey, chainCode, ...binding! }, bytes, now);
        return { kind: "keygen", keyId: a.keyId, publicKey, ...(chainCode ? { chainCode } : {}) };
      }
      if (a.kind === "reshare") {
        if (publicKey !== a.publicKey) throw new Error("the reshared share belongs to another public key");
        const existing = store.key(a.keyId);
        if (existing) {
          if (existing.publicKey !== publicKey) throw new Error("the reshared share belongs to another public key");
          store.commitReshare(a.keyId, bytes, a.parties, now);
        } else {
          const chainCode = a.scheme === "ecdsa-secp256k1" ? bytesToHex(fresh.chainCode()) : null;
          store.createKey({ keyId: a.keyId, scheme: a.scheme, threshold: a.threshold, parties: a.parties, myIndex: me, publicKey, chainCode, ...binding! }, bytes, now, a.generation + 1);
        }
        return { kind: "reshare", keyId: a.keyId, publicKey };
      }
      if (publicKey !== store.key(a.keyId)!.publicKey) throw new Error("the refreshed share belongs to another public key");
      store.commitRefresh(a.keyId, bytes, now);
      return { kind: "refresh", keyId: a.keyId, publicKey };
    } finally {
      bytes.fill(0);
    }
  }

  /** The answer to a signing request. */
  private complete(a: Authorization, ceremony: Ceremony, _binding: undefined, _now: number, _me: number, share: KeyShare | undefined): CeremonyResult {
    const key = this.o.store.key(a.keyId)!;
    const sig = ceremony.signature();
    let publicKey = key.publicKey;
    if (a.kind === "sign" && a.derivationPath && share) publicKey = bytesToHex(share.derivePublicKey(a.derivationPath));
    return { kind: "sign", keyId: a.keyId, signature: bytesToHex(sig.signature), ...(sig.recid !== undefined ? { recid: sig.recid === 1 ? 1 : 0 } : {}), publicKey };
  }

  private toNodeFailure(f: SessionFailure, peerOf: Map<number, string>): NodeFailure {
    const peers = (ps: number[]) => ps.map((p) => peerOf.get(p)).filter((p): p is string => p !== undefined);
    return { code: f.code, message: f.message, culprits: peers(f.culprits), waitingFor: peers(f.waitingFor), round: f.round };
  }

  private refused(kind: CeremonyKind, signed: unknown, coordinator: string, receivedAt: number, code: NodeFailureCode, reason: string): NodeResponseFrame {
    const claimed = claimedFields(signed);
    this.o.audit.append({
      type: "ceremony",
      kind,
      ...claimed,
      coordinator,
      outcome: "refused",
      error: { code, message: reason },
      timings: { receivedAt: new Date(receivedAt).toISOString(), totalMs: Math.round(this.o.clock.now() - receivedAt) },
    });
    this.log({ event: "refused", kind, sessionId: claimed.sessionId ?? null, code, reason });
    return { type: "failure", sessionId: typeof claimed.sessionId === "string" && /^[0-9a-f]{64}$/.test(claimed.sessionId) ? claimed.sessionId : null, error: { code, message: reason, culprits: [], waitingFor: [] } };
  }

  /**
   * A coordinator says this node was retired from `orgId`: believed only if the org's governance
   * log (synced from `entries`, each checked under the org's root) retires this node. Then every
   * share of the org's keys is erased, and the audit log says so.
   */
  async retire(orgId: string, entries: unknown[], coordinator: string): Promise<RetireResponse> {
    const answer = await this.retireOrg(orgId, entries, coordinator);
    // The answer follows its audit line onto the disk (a failed sync leaves the coordinator without one).
    await this.o.durable?.audit();
    return answer;
  }

  private async retireOrg(orgId: string, entries: unknown[], coordinator: string): Promise<RetireResponse> {
    const book = this.o.governance;
    const refuse = (reason: string): RetireResponse => {
      this.o.audit.append({ type: "retirement", orgId, coordinator, outcome: "refused", reason });
      return { type: "refused", reason };
    };
    if (!book) return refuse("this node keeps no governance logs");
    const synced = await book.sync(orgId, entries);
    if (!synced.ok) return refuse(synced.reason);
    const state = await book.state(orgId);
    if (!state) return refuse(`org ${orgId} has no root of trust at this node`);
    if (!isRetired(state, this.o.self.peerId)) return refuse(`org ${orgId}'s governance log does not retire this node`);
    const busy = [...this.active.values()].filter((s) => this.o.store.key(s.keyId)?.orgId === orgId);
    for (const s of busy) s.session.abort("cancelled", "this node was retired from the org");
    this.shares.clear();
    const erased = this.o.store.eraseOrgShares(orgId);
    this.o.audit.append({ type: "retirement", orgId, coordinator, outcome: "erased", keys: erased.keys, shares: erased.shares, governance: state.head });
    this.log({ event: "retired", orgId, keys: erased.keys.length, shares: erased.shares });
    return { type: "erased", orgId, keys: erased.keys, shares: erased.shares };
  }

  /** A round frame from an authenticated share holder. */
  receiveFrame(from: string, bytes: Uint8Array): void {
    if (!this.o.peers.has(from)) return;
    const decoded = decodeRoundFrame(bytes);
    if (!decoded.ok) {
      const s = decoded.sessionId ? this.active.get(decoded.sessionId) : undefined;
      if (s) {
        const party = s.partyOf.get(from);
        if (party !== undefined) s.session.abort("malformed", `party ${party} = ${this.describePeer(from)} sent a broken frame: ${decoded.reason}`, [party]);
        return;
      }
      if (decoded.sessionId && !this.closed.has(decoded.sessionId)) return this.hold(decoded.sessionId, from, bytes);
      if (!decoded.sessionId) this.peerMisbehaved(from, `sent an unreadable frame: ${decoded.reason}`);
      return;
    }
    const { sessionId, statement, signature, payload, parsed } = decoded.frame;
    const s = this.active.get(sessionId);
    if (!s) {
      if (!this.closed.has(sessionId)) this.hold(sessionId, from, bytes);
      return;
    }
    const party = s.partyOf.get(from);
    if (party === undefined) {
      this.log({ event: "dropped-frame", sessionId, from, reason: "sender is not a party of this session" });
      return;
    }
    const who = `party ${party} = ${this.describePeer(from)}`;
    const refuse = (reason: string) => s.session.abort("malformed", `${who} ${reason}`, [party]);
    if (!this.signer.verify(from, statement, signature)) return refuse("sent a frame its node key did not sign");
    if (parsed.from !== party || parsed.to !== s.me) return refuse(`signed a frame from party ${parsed.from} to party ${parsed.to}`);
    let digests;
    try {
      digests = digestsOf(parsed.kind, payload, nativeSha256);
    } catch (e) {
      return refuse(`sent an unreadable payload: ${(e as Error).message}`);
    }
    if (digests.payloadDigest !== parsed.payloadDigest || digests.broadcastDigest !== parsed.broadcastDigest) return refuse("sent a payload that does not match its signed digests");
    if (parsed.auditHead.seq > 0) s.peerHeads.set(from, parsed.auditHead);
    const copy = { statement: statement.slice(), signature: signature.slice() };
    switch (parsed.kind) {
      case FRAME_KIND.core: {
        if (parsed.generation !== s.generation) {
          if (parsed.generation < s.generation && s.kind !== "keygen") {
            s.convicted ??= { kind: "stale-generation", culprit: from, sessionId, currentGeneration: s.generation, statement: signedHex(copy.statement, copy.signature) };
            return s.session.abort("protocol-abort", `${who} signed its messages with share generation ${parsed.generation}; this key is at generation ${s.generation}`, [party]);
          }
          return s.session.abort("protocol-abort", `${who} holds share generation ${parsed.generation}, this node ${s.generation}: this node missed a refresh`);
        }
        const bound =
          payload.length >= CORE_HEADER_BYTES && bytesToHex(payload.subarray(1, 33)) === sessionId && payload[33] === parsed.round && payload[34] === party && payload[35] === s.me;
        if (!bound) {
          s.convicted ??= { kind: "misbound", culprit: from, sessionId, statement: signedHex(copy.statement, copy.signature), message: bytesToHex(payload) };
          return s.session.abort("protocol-abort", `${who} signed a message bound to another session, round or party`, [party]);
        }
        s.received.push(copy);
        s.session.deliver(party, payload);
        return;
      }
      case FRAME_KIND.confirm: {
        if (s.confirms.has(party)) return;
        s.confirms.set(party, { ...copy, parsed, payload: payload.slice() });
        if (splitPayload(payload).broadcast[32] !== 0) s.session.abort("protocol-abort", `${who} aborted the ${s.kind}`);
        break;
      }
      case FRAME_KIND.committed:
        s.committed.add(party);
        break;
      case FRAME_KIND.evidence:
        if (!s.evidence.has(party)) s.evidence.set(party, { ...copy, parsed, payload: payload.slice() });
        s.session.abort("protocol-abort", `${who} aborted the session`);
        break;
    }
    s.wake?.();
  }

  /** Ends every running session `peerId` takes part in, blaming it. */
  peerMisbehaved(peerId: string, reason: string): void {
    this.endSessionsWith(peerId, "malformed", reason);
  }

  /** A share holder could not be reached: sessions that need it cannot finish. */
  peerUnreachable(peerId: string, reason: string): void {
    this.endSessionsWith(peerId, "unreachable", `cannot reach it: ${reason}`);
  }

  private endSessionsWith(peerId: string, code: "malformed" | "unreachable", reason: string): void {
    for (const s of this.active.values()) {
      const party = s.partyOf.get(peerId);
      if (party !== undefined) s.session.abort(code, `party ${party} = ${this.describePeer(peerId)} ${reason}`, [party]);
    }
  }

  /** Stops every session (node shutting down). */
  close(): void {
    this.shares.clear();
    for (const s of this.active.values()) s.session.abort("cancelled", "the node is shutting down");
    for (const p of this.pending.values()) p.cancel();
    this.pending.clear();
    this.closed.clear();
  }

  private hold(sessionId: string, from: string, bytes: Uint8Array): void {
    let p = this.pending.get(sessionId);
    if (!p) {
      if (this.pending.size >= MAX_PENDING_SESSIONS) return;
      const cancel = this.o.clock.setTimeout(() => this.pending.delete(sessionId), this.o.keygenTimeoutMs);
      p = { frames: [], bytes: 0, cancel };
      this.pending.set(sessionId, p);
    }
    if (p.frames.length >= MAX_PENDING_FRAMES || p.bytes + bytes.length > MAX_PENDING_BYTES) return;
    p.frames.push({ from, bytes });
    p.bytes += bytes.length;
  }

  private rememberClosed(sessionId: string): void {
    const now = this.o.clock.now();
    for (const [id, until] of this.closed) {
      if (until > now) break;
      this.closed.delete(id);
    }
    this.closed.set(sessionId, now + 2 * this.o.keygenTimeoutMs);
  }
}

/** Digests of what this node sends; a body that does not split (only a deliberately faulty node sends one) gets the empty broadcast's. */
function safeDigests(kind: FrameKind, payload: Uint8Array): { broadcastDigest: string; payloadDigest: string } {
  try {
    return digestsOf(kind, payload, nativeSha256);
  } catch {
    return { broadcastDigest: bytesToHex(sha256(new Uint8Array(0))), payloadDigest: bytesToHex(sha256(payload)) };
  }
}

/** Signed statements packed back to back (an echo or evidence payload's direct part). */
function readStatements(bytes: Uint8Array): { statement: Uint8Array; signature: Uint8Array }[] {
  const out: { statement: Uint8Array; signature: Uint8Array }[] = [];
  for (let at = 0; at + SIGNED_STATEMENT_BYTES <= bytes.length; at += SIGNED_STATEMENT_BYTES) {
    out.push({ statement: bytes.subarray(at, at + STATEMENT_BYTES), signature: bytes.subarray(at + STATEMENT_BYTES, at + SIGNED_STATEMENT_BYTES) });
  }
  return out;
}

/** Whether a request names a presignature (as it claims; the check that follows decides). */
function claimsPresignature(signed: unknown): boolean {
  const a = (signed as { authorization?: { kind?: unknown; presignature?: unknown } } | null)?.authorization;
  return a?.kind === "sign" && typeof a.presignature === "string";
}

/** The org a request is about, from what it claims (verified later): the keygen user's org, or the key's. */
function claimedOrg(signed: unknown, store: EngineStore): string | null {
  const a = (signed as { authorization?: { kind?: unknown; keyId?: unknown; userAction?: { orgId?: unknown } } } | null)?.authorization;
  if (!a || typeof a !== "object") return null;
  if (a.kind === "keygen" || a.kind === "reshare") return typeof a.userAction?.orgId === "string" ? a.userAction.orgId : null;
  return typeof a.keyId === "string" ? (store.key(a.keyId)?.orgId ?? null) : null;
}

function auditBase(a: Authorization, coordinator: string): Record<string, unknown> {
  const ua = a.userAction;
  return {
    type: "ceremony",
    kind: a.kind,
    sessionId: a.sessionId,
    keyId: a.keyId,
    scheme: a.scheme,
    edgeId: a.edgeId,
    nonce: a.nonce,
    coordinator,
    parties: a.parties,
    ...(a.kind === "keygen" ? { threshold: a.threshold } : {}),
    ...(a.kind === "presign" ? { count: a.count } : {}),
    ...(a.kind === "sign" ? { digest: a.message, intent: a.intent.kind, ...(a.presignature ? { presignature: a.presignature } : {}) } : {}),
    ...((a.kind === "sign" || a.kind === "keygen") && a.derivationPath !== undefined ? { derivationPath: a.derivationPath } : {}),
    ...(a.kind === "reshare" ? { target: a.target, retired: a.retired, generation: a.generation } : {}),
    ...(a.governance ? { governance: a.governance } : {}),
    ...(ua ? { userAction: { actionId: ua.actionId, orgId: ua.orgId, subject: ua.subject, credId: ua.credential.credId, request: `${ua.method} ${ua.path}` } } : {}),
  };
}

function resultForAudit(r: CeremonyResult): Record<string, unknown> {
  if (r.kind === "presign") return { presignatureIds: r.presignatureIds, publicKey: r.publicKey };
  return r.kind === "sign" ? { signature: r.signature, ...(r.recid !== undefined ? { recid: r.recid } : {}), publicKey: r.publicKey } : { publicKey: r.publicKey };
}

/** Whatever identifying fields a refused request claimed, as bounded strings. */
function claimedFields(signed: unknown): { sessionId?: string; keyId?: string; edgeId?: string; nonce?: string; digest?: string } {
  const a = (signed as { authorization?: Record<string, unknown> } | null)?.authorization;
  if (!a || typeof a !== "object") return {};
  const pick = (k: string, max = 200) => (typeof a[k] === "string" ? (a[k] as string).slice(0, max) : undefined);
  const out: Record<string, string> = {};
  for (const [k, v] of [
    ["sessionId", pick("sessionId")],
    ["keyId", pick("keyId")],
    ["edgeId", pick("edgeId")],
    ["nonce", pick("nonce")],
    ["digest", pick("message", 300)],
  ] as const) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A key's share, unsealed and imported into the core (the plaintext bytes zeroed once the core has them). */
function openShare(store: EngineStore, keyId: string): KeyShare {
  const plain = store.share(keyId);
  try {
    return KeyShare.import(plain);
  } finally {
    plain.fill(0); // the wasm object is the one copy in memory
  }
}

/**
 * Imported key shares of the keys that signed recently (least recently used dropped first), by
 * key and share generation: a refresh's new generation is never served the old share. A share in
 * use by a ceremony is freed only once that ceremony released it.
 */
class ShareCache {
  private readonly entries = new Map<string, { generation: number; share: KeyShare; users: number; evicted: boolean }>();
  /** Every share handed out and not yet freed (cached or evicted while in use). */
  private readonly live = new Map<KeyShare, { share: KeyShare; users: number; evicted: boolean }>();

  constructor(
    private readonly store: EngineStore,
    private readonly size: number,
  ) {}

  acquire(keyId: string): KeyShare {
    const key = this.store.key(keyId);
    if (!key) throw new Error(`no share of key ${keyId}`);
    const id = key.masterKeyId ?? keyId;
    let e = this.entries.get(id);
    if (e && e.generation !== key.generation) {
      this.drop(id);
      e = undefined;
    }
    if (!e) {
      const share = openShare(this.store, id);
      e = { generation: key.generation, share, users: 0, evicted: false };
      if (this.size > 0) {
        this.entries.set(id, e);
        while (this.entries.size > this.size) this.drop(this.entries.keys().next().value!);
      } else e.evicted = true;
      this.live.set(share, e);
    } else {
      // Most recently used last.
      this.entries.delete(id);
      this.entries.set(id, e);
    }
    e.users++;
    return e.share;
  }

  release(share: KeyShare): void {
    const e = this.live.get(share);
    if (!e) return share.free();
    e.users--;
    if (e.evicted && e.users === 0) this.free(e);
  }

  evict(keyId: string): void {
    const key = this.store.key(keyId);
    this.drop(key?.masterKeyId ?? keyId);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  private drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    e.evicted = true;
    if (e.users === 0) this.free(e);
  }

  private free(e: { share: KeyShare }): void {
    this.live.delete(e.share);
    e.share.free();
  }
}
