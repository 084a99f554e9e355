// The node's ceremony engine: takes an authorization from a coordinator, checks it, runs this
// node's part of the ceremony against the other parties, keeps the result (a sealed share, a ban)
// and writes the audit entry. Transport, storage, audit sink and clock are injected, so the engine
// runs unchanged over libp2p (network/) and in one process under unit tests.
//
// Round messages may arrive before this node has the authorization for their session (another
// party was faster): they are held, bounded in count, bytes and time, and replayed once the
// session starts. Messages for sessions that already ended are dropped.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { Ceremony, KeyShare, MpcError } from "../../../wasm/index.js";
import { verifyAuthorization, type Authorization, type AuthorizationContext, type CeremonyKind, type KeyRecordView } from "../../../shared/src/mpc/authorization.js";
import type { ChainIdOf } from "../../../shared/src/mpc/intent.js";
import { decodeRoundFrame, encodeRoundFrame, type CeremonyResult, type NodeFailure, type NodeFailureCode, type NodeResponseFrame } from "../../../shared/src/mpc/protocol.js";
import { CeremonySession, type Clock, type SessionFailure } from "./session.js";
import type { KeyRecord } from "../storage/node-store.js";

export interface EngineStore {
  key(keyId: string): KeyRecord | undefined;
  share(keyId: string): Uint8Array;
  createKey(record: Omit<KeyRecord, "generation" | "createdAt">, share: Uint8Array, now: number): void;
  replaceShare(keyId: string, share: Uint8Array, now: number): number;
  isBanned(keyId: string, peerId: string): boolean;
  ban(keyId: string, peerId: string, reason: string, now: number): void;
  claim: (c: Parameters<AuthorizationContext["claim"]>[0], now: number) => ReturnType<AuthorizationContext["claim"]>;
}

export interface RoundTransport {
  /** Queues a round frame for a peer; delivery failures come back through engine.peerUnreachable. */
  send(peerId: string, frame: Uint8Array): void;
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
  authorization?: { maxLifetimeMs?: number; clockSkewMs?: number; userActionMaxAgeMs?: number; rpId?: string };
  chainIdOf?: ChainIdOf;
  maxSessions?: number;
  store: EngineStore;
  audit: { append(entry: Record<string, unknown>): unknown };
  transport: RoundTransport;
  clock: Clock;
  log?: (event: Record<string, unknown>) => void;
}

interface ActiveSession {
  session: CeremonySession;
  kind: CeremonyKind;
  keyId: string;
  partyOf: Map<string, number>;
  peerOf: Map<number, string>;
}

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

  constructor(private readonly o: EngineOptions) {
    this.log = o.log ?? (() => {});
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
  async run(kind: CeremonyKind, signed: unknown, coordinator: string, hooks: { accepted(sessionId: string): void; signal?: AbortSignal }): Promise<NodeResponseFrame> {
    const clock = this.o.clock;
    const receivedAt = clock.now();
    const store = this.o.store;
    if (this.active.size >= (this.o.maxSessions ?? 256)) {
      return this.refused(kind, signed, coordinator, receivedAt, "busy", `this node already runs ${this.active.size} sessions`);
    }
    let check: Awaited<ReturnType<typeof verifyAuthorization>>;
    try {
      check = await verifyAuthorization(signed, {
        edgeKeys: this.o.edgeKeys,
        self: this.o.self.peerId,
        expectedKind: kind,
        now: clock.now(),
        ...this.o.authorization,
        ...(this.o.chainIdOf ? { chainIdOf: this.o.chainIdOf } : {}),
        key: (id): KeyRecordView | undefined => store.key(id),
        isBanned: (keyId, peerId) => store.isBanned(keyId, peerId),
        claim: (c) => store.claim(c, clock.now()),
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

    const me = a.parties.find((p) => p.peerId === this.o.self.peerId)!.index;
    const sessionIdBytes = hexToBytes(a.sessionId);
    const indices = a.parties.map((p) => p.index);
    let share: KeyShare | undefined;
    let ceremony: Ceremony;
    try {
      if (a.kind === "keygen") {
        ceremony = Ceremony.keygen({ scheme: a.scheme, sessionId: sessionIdBytes, me, parties: indices, threshold: a.threshold });
      } else {
        share = KeyShare.import(store.share(a.keyId));
        ceremony =
          a.kind === "sign"
            ? Ceremony.sign({ share, sessionId: sessionIdBytes, signers: indices, message: check.message!, ...(a.derivationPath ? { path: a.derivationPath } : {}) })
            : Ceremony.refresh({ share, sessionId: sessionIdBytes, parties: indices });
      }
    } catch (e) {
      share?.free();
      const code: NodeFailureCode = e instanceof MpcError && e.code === "bad-input" ? "mismatch" : "internal";
      return this.refused(kind, signed, coordinator, receivedAt, code, `cannot start the ceremony: ${(e as Error).message}`);
    }

    const peerOf = new Map(a.parties.map((p) => [p.index, p.peerId]));
    const partyOf = new Map(a.parties.map((p) => [p.peerId, p.index]));
    const session = new CeremonySession({
      ceremony,
      sessionId: sessionIdBytes,
      parties: indices,
      timeoutMs: a.kind === "sign" ? this.o.signTimeoutMs : this.o.keygenTimeoutMs,
      clock,
      send: (to, message) => {
        const peer = peerOf.get(to);
        if (peer) this.o.transport.send(peer, encodeRoundFrame(sessionIdBytes, message));
      },
      describe: (p) => `party ${p} = ${this.describePeer(peerOf.get(p) ?? "?")}`,
    });
    this.active.set(a.sessionId, { session, kind: a.kind, keyId: a.keyId, partyOf, peerOf });
    const acceptedAt = clock.now();
    this.log({ event: "session-accepted", sessionId: a.sessionId, kind: a.kind, keyId: a.keyId, parties: a.parties.map((p) => p.peerId) });
    hooks.accepted(a.sessionId);
    const onAbort = () => session.abort("cancelled", "the coordinator closed the session");
    hooks.signal?.addEventListener("abort", onAbort);
    if (hooks.signal?.aborted) onAbort();

    session.start();
    const held = this.pending.get(a.sessionId);
    if (held) {
      held.cancel();
      this.pending.delete(a.sessionId);
      for (const f of held.frames) this.receiveFrame(f.from, f.bytes);
    }
    const outcome = await session.outcome;
    hooks.signal?.removeEventListener("abort", onAbort);
    this.active.delete(a.sessionId);
    this.rememberClosed(a.sessionId);
    const finishedAt = clock.now();

    const base = auditBase(a, coordinator);
    const timings = { receivedAt: new Date(receivedAt).toISOString(), verifyMs: Math.round(acceptedAt - receivedAt), ceremonyMs: Math.round(finishedAt - acceptedAt), totalMs: Math.round(finishedAt - receivedAt) };
    try {
      if (!outcome.ok) {
        const failure = this.toNodeFailure(outcome.failure, peerOf);
        if (outcome.failure.code === "ban") {
          for (const p of failure.culprits) store.ban(a.keyId, p, failure.message, finishedAt);
        }
        this.o.audit.append({ ...base, outcome: "failed", error: { code: failure.code, message: failure.message, culprits: failure.culprits }, timings });
        this.log({ event: "session-failed", sessionId: a.sessionId, kind: a.kind, code: failure.code, message: failure.message, culprits: failure.culprits, ms: timings.totalMs });
        return { type: "failure", sessionId: a.sessionId, error: failure };
      }
      const result = this.complete(a, outcome.ceremony, check.binding, finishedAt, me, share);
      this.o.audit.append({ ...base, outcome: "ok", result: resultForAudit(result), timings });
      this.log({ event: "session-finished", sessionId: a.sessionId, kind: a.kind, keyId: a.keyId, ms: timings.totalMs });
      return { type: "result", sessionId: a.sessionId, result };
    } catch (e) {
      const message = `could not complete the ${a.kind}: ${(e as Error).message}`;
      this.o.audit.append({ ...base, outcome: "failed", error: { code: "internal", message, culprits: [] }, timings });
      this.log({ event: "session-failed", sessionId: a.sessionId, kind: a.kind, code: "internal", message });
      return { type: "failure", sessionId: a.sessionId, error: { code: "internal", message, culprits: [], waitingFor: [] } };
    } finally {
      ceremony.free();
      share?.free();
    }
  }

  /** Keeps what the ceremony produced and builds the answer for the coordinator. */
  private complete(
    a: Authorization,
    ceremony: Ceremony,
    binding: { orgId: string; walletId: string | null; network: string | null; derivationPath: string | null; credentials: string[] } | undefined,
    now: number,
    me: number,
    share: KeyShare | undefined,
  ): CeremonyResult {
    const store = this.o.store;
    if (a.kind === "keygen") {
      const fresh = ceremony.keyShare();
      try {
        const publicKey = bytesToHex(fresh.publicKey());
        const chainCode = a.scheme === "ecdsa-secp256k1" ? bytesToHex(fresh.chainCode()) : null;
        store.createKey(
          { keyId: a.keyId, scheme: a.scheme, threshold: a.threshold, parties: a.parties, myIndex: me, publicKey, chainCode, ...binding! },
          fresh.export(),
          now,
        );
        return { kind: "keygen", keyId: a.keyId, publicKey, ...(chainCode ? { chainCode } : {}) };
      } finally {
        fresh.free();
      }
    }
    const key = store.key(a.keyId)!;
    if (a.kind === "refresh") {
      const fresh = ceremony.keyShare();
      try {
        const publicKey = bytesToHex(fresh.publicKey());
        if (publicKey !== key.publicKey) throw new Error("the refreshed share belongs to another public key");
        store.replaceShare(a.keyId, fresh.export(), now);
        return { kind: "refresh", keyId: a.keyId, publicKey };
      } finally {
        fresh.free();
      }
    }
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
    const { sessionId, message } = decoded.frame;
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
    s.session.deliver(party, message);
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
    ...(a.kind === "sign" ? { digest: a.message, intent: a.intent.kind } : {}),
    ...(a.kind !== "refresh" && a.derivationPath !== undefined ? { derivationPath: a.derivationPath } : {}),
    ...(ua ? { userAction: { actionId: ua.actionId, orgId: ua.orgId, subject: ua.subject, credId: ua.credential.credId, request: `${ua.method} ${ua.path}` } } : {}),
  };
}

function resultForAudit(r: CeremonyResult): Record<string, unknown> {
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
