// The coordinator's client for the share-holder nodes: hands a signed authorization to every
// party over libp2p, waits for their answers and returns the public key or signature — checked
// for agreement between nodes and, for signatures, verified with @noble/curves before it is
// returned. Runtime-neutral (no Node APIs): the caller brings an already-started libp2p node,
// from Node (TCP or WebSockets) or from a Durable Object (WebSockets, see
// /work/shared/research/workers-libp2p.md for the two shims workerd needs).
//
// Failures are reported as a CeremonyError that names every node that did not deliver and why:
// refused (with the node's reason), failed (with the peers the node blames), timed out, hung up,
// or could not be dialled.
import type { AbortOptions, Stream } from "@libp2p/interface";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { ed25519 } from "@noble/curves/ed25519.js";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { CeremonyKind, SignedAuthorization } from "./authorization.js";
import { canonicalJson } from "./canonical-json.js";
import { combinePartials, presignatureIds } from "./presigned.js";
import { readFrames, writeFrame } from "./frames.js";
import {
  CEREMONY_PROTOCOLS,
  decodeJsonFrame,
  decodeSessionResponse,
  encodeJsonFrame,
  MAX_CONTROL_FRAME_BYTES,
  nodeResponseFrame,
  PROTOCOL,
  retireResponseFrame,
  type CeremonyResult,
  type NodeFailure,
  type NodeResponseFrame,
  type RetireResponse,
} from "./protocol.js";

/** Where a share holder can be reached. */
export interface ShareHolderAddress {
  peerId: string;
  multiaddrs: string[];
  /** A label for messages, e.g. "eu". */
  region?: string;
}

/** The part of a libp2p node the coordinator uses. */
export interface CoordinatorHost {
  dialProtocol(peer: Multiaddr | Multiaddr[], protocols: string | string[], options?: AbortOptions): Promise<Stream>;
}

export interface CeremonyRequest {
  /** Every party named in the authorization (extra entries are ignored). */
  nodes: ShareHolderAddress[];
  authorization: SignedAuthorization;
  /** The newest entries of the org's governance log, for nodes that lag (sent beside the authorization). */
  governance?: unknown[];
  /** Overall deadline for this ceremony (default: the coordinator's). */
  timeoutMs?: number;
}

/**
 * unreachable: could not be dialled · refused: turned the authorization down · failed: accepted,
 * then reported a failure · hung-up: closed the stream without a result · timed-out: no answer by
 * the deadline · silent: no report yet when another node's failure ended the session ·
 * inconsistent: its result differs from the others'.
 */
export type NodeFailureStage = "unreachable" | "refused" | "failed" | "hung-up" | "timed-out" | "silent" | "inconsistent";

export interface FailedNode {
  peerId: string;
  region?: string;
  stage: NodeFailureStage;
  /** The node's own failure code, when it sent one. */
  code?: NodeFailure["code"];
  message: string;
  /** Peers this node blames (cheating or silent). */
  culprits: string[];
  waitingFor: string[];
}

export class CeremonyError extends Error {
  override readonly name = "CeremonyError";
  constructor(
    readonly kind: CeremonyKind,
    readonly sessionId: string,
    readonly keyId: string,
    readonly failures: FailedNode[],
    readonly timedOut: boolean,
    describe: (peerId: string) => string,
  ) {
    super(
      `${kind} session ${sessionId.slice(0, 16)}… for key ${keyId} failed${timedOut ? " (timed out)" : ""}: ` +
        failures.map((f) => `${describe(f.peerId)} ${f.stage}${f.code ? ` [${f.code}]` : ""}: ${f.message}`).join("; "),
    );
  }

  /** Every peer named as the cause: nodes that failed to answer, and peers the others blame. */
  get blamed(): string[] {
    const out = new Set<string>();
    for (const f of this.failures) {
      if (f.stage === "unreachable" || f.stage === "hung-up" || f.stage === "timed-out") out.add(f.peerId);
      for (const p of [...f.culprits, ...f.waitingFor]) out.add(p);
    }
    return [...out];
  }
}

export interface CoordinatorOptions {
  /** Overall deadline per ceremony (default 60 s). Keep it above the nodes' own session timeouts. */
  timeoutMs?: number;
  /** After a first failure, how long to wait for the other nodes' reports (default 300 ms). */
  graceMs?: number;
  /**
   * Assemble a signature from a presignature out of the signers' partials (./presigned.ts), one
   * network hop before their results (the edge's coordinator turns it on; TESSERA_ASSEMBLE_PRESIGNED).
   */
  assemblePresigned?: boolean;
}

/** `attestations`: each node's signature over what it generated (./keygen-attestation.ts), as it sent it; clients verify them against pinned node identities. */
export type KeygenOutcome = { keyId: string; publicKey: string; chainCode?: string; attestations: { peerId: string; signature: string }[] };
/** `assembled`: put together here from the signers' partials (a presignature), before their own results came. */
export type SignOutcome = { keyId: string; signature: string; recid?: 0 | 1; publicKey: string; assembled?: true };
export type RefreshOutcome = { keyId: string; publicKey: string };
/** `presignatureIds`: the ids of the batch, as the authorization derives them (presignatureIds). */
export type PresignOutcome = { keyId: string; presignatureIds: string[]; publicKey: string };
export type RetireOutcome = RetireResponse;

interface NodeState {
  node: ShareHolderAddress;
  accepted: boolean;
  result?: CeremonyResult;
  attestation?: { peerId: string; signature: string };
  failure?: FailedNode;
  stream?: Stream;
  /** On a shared ceremonies stream: tells the node to drop this request. */
  cancel?: () => void;
  /** A signature from a presignature: what this signer broadcast in the online round, with x(R'). */
  partial?: Uint8Array;
}

/**
 * One long-lived /tessera/ceremonies/1 stream to a node, shared by every ceremony this host
 * coordinates with it: requests go out tagged with an id, answers are routed back by it.
 */
class CeremonyLink {
  private nextId = 1;
  private readonly open = new Map<number, { onFrame(f: NodeResponseFrame): void; onEnd(reason: string): void }>();
  broken = false;

  constructor(
    readonly stream: Stream,
    private readonly gone: () => void,
  ) {
    void this.read();
  }

  /** Sends a request; answers go to `onFrame` until `close(id)`; `onEnd` if the stream ends first. */
  request(body: (id: number) => Uint8Array, handlers: { onFrame(f: NodeResponseFrame): void; onEnd(reason: string): void }): number {
    const id = this.nextId++;
    this.open.set(id, handlers);
    writeFrame(this.stream, body(id)).catch((e: unknown) => this.end(`the stream failed: ${(e as Error)?.message ?? String(e)}`));
    return id;
  }

  close(id: number): void {
    this.open.delete(id);
  }

  cancel(id: number): void {
    if (!this.open.delete(id) || this.broken) return;
    writeFrame(this.stream, encodeJsonFrame({ type: "cancel", id })).catch(() => {});
  }

  private async read(): Promise<void> {
    let reason = "the node closed the ceremonies stream";
    try {
      const frames = readFrames(this.stream, MAX_CONTROL_FRAME_BYTES);
      for (let f = await frames.next(); !f.done; f = await frames.next()) {
        const decoded = decodeSessionResponse(f.value);
        if (!decoded.ok) {
          reason = `the node sent an unreadable answer: ${decoded.reason}`;
          this.stream.abort(new Error(reason));
          break;
        }
        this.open.get(decoded.value.id)?.onFrame(decoded.value.response);
      }
    } catch (e) {
      reason = `the stream failed: ${(e as Error)?.message ?? String(e)}`;
    }
    this.end(reason);
  }

  private end(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.gone();
    const open = [...this.open.values()];
    this.open.clear();
    for (const h of open) h.onEnd(reason);
    if (this.stream.status === "open") this.stream.abort(new Error(reason));
  }
}

/** Ceremony links by host and node: every coordinator over the same libp2p host shares them. */
const LINKS = new WeakMap<CoordinatorHost, Map<string, Promise<CeremonyLink | null>>>();

export class MpcCoordinator {
  constructor(
    private readonly host: CoordinatorHost,
    private readonly options: CoordinatorOptions = {},
  ) {}

  async keygen(req: CeremonyRequest): Promise<KeygenOutcome> {
    const attestations: { peerId: string; signature: string }[] = [];
    const r = await this.run("keygen", req, attestations);
    if (r.kind !== "keygen") throw new Error("unreachable");
    return { keyId: r.keyId, publicKey: r.publicKey, ...(r.chainCode ? { chainCode: r.chainCode } : {}), attestations };
  }

  /** `publicKey` (hex), if given, must be the key the nodes sign with. */
  async sign(req: CeremonyRequest & { publicKey?: string }): Promise<SignOutcome> {
    const r = await this.run("sign", req);
    if (r.kind !== "sign") throw new Error("unreachable");
    return { keyId: r.keyId, signature: r.signature, ...(r.recid !== undefined ? { recid: r.recid } : {}), publicKey: r.publicKey, ...(r.assembled ? { assembled: true } : {}) };
  }

  async refresh(req: CeremonyRequest): Promise<RefreshOutcome> {
    const r = await this.run("refresh", req);
    if (r.kind !== "refresh") throw new Error("unreachable");
    return { keyId: r.keyId, publicKey: r.publicKey };
  }

  /** ECDSA presigning: every party keeps its share of a batch of presignatures (the authorization's count) for these signers. */
  async presign(req: CeremonyRequest): Promise<PresignOutcome> {
    const r = await this.run("presign", req);
    if (r.kind !== "presign") throw new Error("unreachable");
    const a = req.authorization.authorization;
    const expected = a.kind === "presign" ? presignatureIds(a.sessionId, a.count) : [];
    if (canonicalJson(r.presignatureIds) !== canonicalJson(expected)) throw new Error(`the nodes reported presignatures other than the ${expected.length} the authorization names`);
    return { keyId: r.keyId, presignatureIds: r.presignatureIds, publicKey: r.publicKey };
  }

  /** Reshare onto a new party set (every party of the new set, the replacement included). */
  async reshare(req: CeremonyRequest): Promise<RefreshOutcome> {
    const r = await this.run("reshare", req);
    if (r.kind !== "reshare") throw new Error("unreachable");
    return { keyId: r.keyId, publicKey: r.publicKey };
  }

  /** Tells a retired node to erase its shares of the org's keys; it believes only the org's governance log. */
  async retire(node: ShareHolderAddress, orgId: string, governance: unknown[]): Promise<RetireOutcome> {
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const stream = await this.host.dialProtocol(node.multiaddrs.map((m) => withPeer(m, node.peerId)), PROTOCOL.retire, { signal });
    try {
      await writeFrame(stream, encodeJsonFrame({ type: "retire", orgId, governance }));
      const first = await readFrames(stream, MAX_CONTROL_FRAME_BYTES).next();
      if (first.done) throw new Error(`${node.peerId} closed the stream without an answer`);
      const decoded = decodeJsonFrame(first.value, retireResponseFrame);
      if (!decoded.ok) throw new Error(`${node.peerId} sent an unreadable answer: ${decoded.reason}`);
      await stream.close().catch(() => {});
      return decoded.value;
    } catch (e) {
      stream.abort(e as Error);
      throw e;
    }
  }

  private async run(kind: CeremonyKind, req: CeremonyRequest & { publicKey?: string }, attestations?: { peerId: string; signature: string }[]): Promise<CeremonyResult & { assembled?: true }> {
    const a = req.authorization.authorization;
    if (a.kind !== kind) throw new Error(`a ${a.kind} authorization cannot run a ${kind}`);
    const byPeer = new Map(req.nodes.map((n) => [n.peerId, n]));
    const missing = a.parties.filter((p) => !byPeer.has(p.peerId));
    if (missing.length) throw new Error(`no address for part${missing.length > 1 ? "ies" : "y"} ${missing.map((p) => `${p.index} (${p.peerId})`).join(", ")}`);
    const describe = (peerId: string) => {
      const region = byPeer.get(peerId)?.region;
      return region ? `${region} (${peerId})` : peerId;
    };
    const states = a.parties.map((p): NodeState => ({ node: byPeer.get(p.peerId)!, accepted: false }));
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const abort = new AbortController();
    const request = encodeJsonFrame({ type: "authorize", signed: req.authorization, ...(req.governance && req.governance.length > 0 ? { governance: req.governance } : {}) });
    // The same request on a shared ceremonies stream, with its id and kind in front (encoded once).
    const tail = new TextDecoder().decode(request).slice(1);
    const tagged = (id: number) => new TextEncoder().encode(`{"id":${id},"kind":${JSON.stringify(kind)},${tail}`);

    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    let grace: ReturnType<typeof setTimeout> | undefined;
    // A signature from a presignature with the expected key known: once every signer sent its
    // partial, the signature is assembled and verified here, one network hop before the signers'
    // own results (shared/src/mpc/presigned.ts). Anything that does not verify is ignored.
    let early: (CeremonyResult & { assembled: true }) | undefined;
    const assemble =
      this.options.assemblePresigned && a.kind === "sign" && a.presignature && a.scheme === "ecdsa-secp256k1" && req.publicKey
        ? () => {
            if (early || !states.every((s) => s.partial)) return;
            const sig = combinePartials(
              states.map((s) => s.partial!),
              hexToBytes(a.message),
              req.publicKey!,
            );
            if (!sig) return;
            early = { kind: "sign", keyId: a.keyId, signature: sig.signature, recid: sig.recid, publicKey: req.publicKey!, assembled: true };
            settle();
          }
        : undefined;
    const check = () => {
      if (states.every((s) => s.result || s.failure)) return settle();
      if (states.some((s) => s.failure) && grace === undefined) grace = setTimeout(settle, this.options.graceMs ?? 300);
    };
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      settle();
    }, timeoutMs);

    for (const s of states) void this.contact(s, kind, request, tagged, a.sessionId, abort.signal, describe, assemble).finally(check);
    await settled;
    clearTimeout(deadline);
    if (grace !== undefined) clearTimeout(grace);
    if (early) {
      // The signers go on to finish, verify and log their round; their results are not waited
      // for, and a signer that never reports is told to drop the request at the deadline.
      const left = setTimeout(() => {
        for (const s of states) if (!s.result && !s.failure) s.cancel?.();
      }, timeoutMs);
      (left as { unref?: () => void }).unref?.();
      return early;
    }

    for (const s of states) {
      if (!s.result && !s.failure) {
        s.failure = {
          peerId: s.node.peerId,
          ...(s.node.region ? { region: s.node.region } : {}),
          stage: timedOut ? "timed-out" : "silent",
          message: timedOut
            ? `no ${s.accepted ? "result" : "answer"} within ${timeoutMs} ms${s.accepted ? " (it had accepted the session)" : ""}`
            : `had not reported when the session was abandoned${s.accepted ? " (it had accepted it)" : " (it had not even accepted it)"}`,
          culprits: [],
          waitingFor: [],
        };
      }
    }
    const failed = states.filter((s) => s.failure);
    const finish = (ok: boolean) => {
      abort.abort();
      for (const s of states) {
        if (!ok) s.cancel?.();
        if (!s.stream) continue;
        if (ok) s.stream.close().catch(() => {});
        else s.stream.abort(new Error(`${kind} session abandoned`));
      }
    };
    if (failed.length) {
      finish(false);
      // Nodes that answered are listed after those that did not, so the cause reads first.
      const order: NodeFailureStage[] = ["unreachable", "hung-up", "timed-out", "silent", "failed", "refused", "inconsistent"];
      const failures = failed.map((s) => s.failure!).sort((x, y) => order.indexOf(x.stage) - order.indexOf(y.stage));
      throw new CeremonyError(kind, a.sessionId, a.keyId, failures, timedOut, describe);
    }
    finish(true);

    const results = states.map((s) => s.result!);
    const first = canonicalJson(results[0]);
    const odd = states.filter((s) => canonicalJson(s.result) !== first);
    if (odd.length) {
      throw new CeremonyError(
        kind,
        a.sessionId,
        a.keyId,
        odd.map((s) => ({ peerId: s.node.peerId, stage: "inconsistent" as const, message: `reported ${canonicalJson(s.result)}, others ${first}`, culprits: [], waitingFor: [] })),
        false,
        describe,
      );
    }
    const result = results[0]!;
    // Only a node's own attestation is kept (a node cannot sign for another; the client checks the signature).
    for (const s of states) if (s.attestation && s.attestation.peerId === s.node.peerId) attestations?.push(s.attestation);
    if (result.kind === "sign") {
      if (req.publicKey && req.publicKey !== result.publicKey) throw new Error(`the nodes signed with key ${result.publicKey}, not the expected ${req.publicKey}`);
      if (a.kind === "sign" && !verifySignature(a.scheme, result, hexToBytes(a.message))) {
        throw new Error(`the ${a.scheme} signature the nodes returned does not verify against ${result.publicKey}`);
      }
    }
    return result;
  }

  /**
   * The shared ceremonies stream to `node`, opened on first use; null if the node does not speak
   * /tessera/ceremonies/1 (then each ceremony opens its own stream, as before).
   */
  private link(node: ShareHolderAddress): Promise<CeremonyLink | null> {
    let links = LINKS.get(this.host);
    if (!links) LINKS.set(this.host, (links = new Map()));
    const existing = links.get(node.peerId);
    if (existing) return existing;
    // The deadline covers the dial only: the stream outlives every ceremony that uses it.
    const dialing = new AbortController();
    const deadline = setTimeout(() => dialing.abort(new Error(`opening ${PROTOCOL.ceremonies} took too long`)), 10_000);
    const opened: Promise<CeremonyLink | null> = this.host
      .dialProtocol(node.multiaddrs.map((m) => withPeer(m, node.peerId)), PROTOCOL.ceremonies, { signal: dialing.signal })
      .then(
        (stream) => {
          const link = new CeremonyLink(stream, () => {
            if (links.get(node.peerId) === opened) links.delete(node.peerId);
          });
          stream.addEventListener("close", () => {
            if (links.get(node.peerId) === opened) links.delete(node.peerId);
          });
          return link;
        },
        (e: unknown) => {
          if (links.get(node.peerId) === opened) links.delete(node.peerId);
          if ((e as Error)?.name === "UnsupportedProtocolError") return null;
          throw e;
        },
      )
      .finally(() => clearTimeout(deadline));
    links.set(node.peerId, opened);
    return opened;
  }

  /** One node's side of the ceremony; records the outcome on `s`, never throws. */
  private async contact(
    s: NodeState,
    kind: CeremonyKind,
    request: Uint8Array,
    tagged: (id: number) => Uint8Array,
    sessionId: string,
    signal: AbortSignal,
    describe: (p: string) => string,
    onPartial?: () => void,
  ): Promise<void> {
    const node = s.node;
    const fail = (stage: NodeFailureStage, message: string, extra: Partial<FailedNode> = {}) => {
      if (!s.failure && !s.result) s.failure = { peerId: node.peerId, ...(node.region ? { region: node.region } : {}), stage, message, culprits: [], waitingFor: [], ...extra };
    };
    // Answers are read the same way on either kind of stream; true once the node has reported.
    const answer = (frame: NodeResponseFrame): boolean => {
      if (frame.sessionId !== null && frame.sessionId !== sessionId) {
        fail("failed", `answered for session ${frame.sessionId}`);
        return true;
      }
      if (frame.type === "accepted") {
        s.accepted = true;
        return false;
      }
      if (frame.type === "partial") {
        s.partial = hexToBytes(frame.partial);
        onPartial?.();
        return false;
      }
      if (frame.type === "result") {
        if (frame.result.kind !== kind) fail("failed", `returned a ${frame.result.kind} result`);
        else {
          s.result = frame.result;
          if (frame.attestation) s.attestation = frame.attestation;
        }
        return true;
      }
      const e = frame.error;
      const blame = [...e.culprits, ...e.waitingFor.filter((p) => !e.culprits.includes(p))];
      fail(s.accepted || frame.started ? "failed" : "refused", e.message + (blame.length && !blame.every((p) => e.message.includes(p)) ? ` (blames ${blame.map(describe).join(", ")})` : ""), {
        code: e.code,
        culprits: e.culprits,
        waitingFor: e.waitingFor,
      });
      return true;
    };
    let link: CeremonyLink | null;
    try {
      link = await this.link(node);
    } catch (e) {
      if (!signal.aborted) fail("unreachable", `cannot open ${PROTOCOL.ceremonies}: ${(e as Error).message}`);
      return;
    }
    if (link) {
      const l = link;
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const id = l.request(tagged, {
          onFrame: (frame) => {
            if (!answer(frame)) return;
            l.close(id);
            resolve();
          },
          onEnd: (reason) => {
            if (!signal.aborted) fail("hung-up", reason);
            resolve();
          },
        });
        s.cancel = () => l.cancel(id);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return;
    }
    try {
      s.stream = await this.host.dialProtocol(node.multiaddrs.map((m) => withPeer(m, node.peerId)), CEREMONY_PROTOCOLS[kind], { signal });
    } catch (e) {
      if (!signal.aborted) fail("unreachable", `cannot open ${CEREMONY_PROTOCOLS[kind]}: ${(e as Error).message}`);
      return;
    }
    try {
      await writeFrame(s.stream, request);
      const frames = readFrames(s.stream, MAX_CONTROL_FRAME_BYTES);
      for (let f = await frames.next(); !f.done; f = await frames.next()) {
        const decoded = decodeJsonFrame(f.value, nodeResponseFrame);
        if (!decoded.ok) return fail("failed", `sent an unreadable answer: ${decoded.reason}`);
        if (answer(decoded.value)) return;
      }
      fail("hung-up", "closed the stream without a result");
    } catch (e) {
      if (!signal.aborted) fail("hung-up", `the stream failed: ${(e as Error).message}`);
    }
  }
}

/** The address with the peer's id at its end; a relay address ("…/p2p/<relay>/p2p-circuit") gets it after the circuit. */
function withPeer(addr: string, peerId: string): Multiaddr {
  const ma = multiaddr(addr);
  return ma.getComponents().at(-1)?.name === "p2p" ? ma : ma.encapsulate(`/p2p/${peerId}`);
}

const bytesToNumberBE = (b: Uint8Array): bigint => BigInt(`0x${bytesToHex(b)}`);

/** Independent check of the nodes' signature (and, for ECDSA, of its recovery id). */
export function verifySignature(scheme: string, r: { signature: string; recid?: 0 | 1; publicKey: string }, message: Uint8Array): boolean {
  try {
    const sig = hexToBytes(r.signature);
    const pk = hexToBytes(r.publicKey);
    if (scheme === "ecdsa-secp256k1") {
      if (r.recid === undefined) return secp256k1.verify(sig, message, pk, { prehash: false });
      return ecdsaRecoveryBit(sig, message, r.publicKey) === r.recid;
    }
    if (scheme === "frost-ed25519") return ed25519.verify(sig, message, pk);
    if (scheme === "frost-bip340") return schnorr.verify(sig, message, pk);
    return false;
  } catch {
    return false;
  }
}

/** Public keys as points with their own multiplication tables (a key signs many times; the table is built on its first use). */
const keyPoints = new Map<string, InstanceType<typeof secp256k1.Point>>();
const KEY_POINTS_KEPT = 256;

function keyPoint(publicKey: string): InstanceType<typeof secp256k1.Point> {
  let q = keyPoints.get(publicKey);
  if (q) return q;
  // Window 4: 64 × 8 points (≈ 40 KB) per key, a fixed-base walk of 64 additions and no doublings.
  q = secp256k1.Point.fromHex(publicKey).precompute(4, true);
  if (keyPoints.size >= KEY_POINTS_KEPT) keyPoints.delete(keyPoints.keys().next().value!);
  keyPoints.set(publicKey, q);
  return q;
}

/**
 * The recovery id under which the compact low-S ECDSA signature `sig` (r ‖ s) verifies against
 * `publicKey` (hex, SEC1) for the 32-byte `digest`, or null when it does not verify. The
 * verification equation gives the nonce point R = (z·G + r·Q) / s itself; the signature is valid
 * when x(R) = r, and its recovery id is R's y parity (an x(R) ≥ n, recovery id 2 or 3, is refused).
 * One multiplication with fixed-base tables for G and for the key, instead of recovering a key
 * for each candidate id and comparing.
 */
export function ecdsaRecoveryBit(sig: Uint8Array, digest: Uint8Array, publicKey: string): 0 | 1 | null {
  const Fn = secp256k1.Point.Fn;
  const parsed = secp256k1.Signature.fromBytes(sig, "compact");
  // verify() would refuse a high S; so does this.
  if (parsed.hasHighS() || digest.length !== 32) return null;
  const { r, s } = parsed;
  const z = Fn.create(bytesToNumberBE(digest));
  const sInv = Fn.inv(s);
  const R = secp256k1.Point.BASE.multiplyUnsafe(Fn.create(z * sInv)).add(keyPoint(publicKey).multiplyUnsafe(Fn.create(r * sInv)));
  if (R.is0()) return null;
  const { x, y } = R.toAffine();
  if (x !== r) return null;
  return (y & 1n) === 1n ? 1 : 0;
}
