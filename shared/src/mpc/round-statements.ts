// What share holders sign when they talk to each other, and the evidence that convicts one that
// lied. Every node-to-node frame of a ceremony carries a fixed-size statement signed with the
// sender's node (libp2p peer) key:
//
//   statement (145 bytes)
//     0       version (2)
//     1..33   session id
//     33      kind: 1 core round message, 2 confirmation (keygen/refresh), 3 committed (refresh),
//             4 evidence (after a signing abort)
//     34      round (core messages: the core header's round; else 0)
//     35      from (sender's party index)   36  to (recipient's party index)
//     37..41  generation of the sender's key share (u32 BE; 0 for keygen)
//     41..49  sender's audit-log head: seq (u64 BE)   49..81  its hash
//     81..113 SHA-256 of the payload's broadcast part
//     113..145 SHA-256 of the whole payload
//   signature = Ed25519(node key, SHA-256("tessera.mpc.round.v2\n" || statement))
//
// The broadcast part is defined by the MPC core (wasm/src/wire.rs: a body is `u32 length |
// broadcast | direct`); other payloads use the same layout. Because the digest of the broadcast
// part is signed apart from the rest, parties can compare what a sender broadcast by exchanging
// statements alone (an echo broadcast), and two statements signed by one key for the same session,
// kind, round and sender but with different broadcast digests prove that sender equivocated:
// anyone holding the peer id can check it, no trust in the accuser needed.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { peerIdFromString } from "@libp2p/peer-id";

export const STATEMENT_VERSION = 2;
export const STATEMENT_BYTES = 145;
export const SIGNATURE_BYTES = 64;
export const SIGNED_STATEMENT_BYTES = STATEMENT_BYTES + SIGNATURE_BYTES;
export const STATEMENT_DOMAIN = "tessera.mpc.round.v2\n";
/** The MPC core's message header: version, session id, round, from, to. */
export const CORE_HEADER_BYTES = 36;

export const FRAME_KIND = { core: 1, confirm: 2, committed: 3, evidence: 4 } as const;
export type FrameKind = (typeof FRAME_KIND)[keyof typeof FRAME_KIND];

export interface Statement {
  sessionId: string;
  kind: FrameKind;
  round: number;
  from: number;
  to: number;
  generation: number;
  auditHead: { seq: number; hash: string };
  broadcastDigest: string;
  payloadDigest: string;
}

export const EMPTY_AUDIT_HEAD = { seq: 0, hash: "0".repeat(64) };

export function encodeStatement(s: Statement): Uint8Array {
  const out = new Uint8Array(STATEMENT_BYTES);
  const v = new DataView(out.buffer);
  out[0] = STATEMENT_VERSION;
  out.set(hexToBytes(s.sessionId), 1);
  out[33] = s.kind;
  out[34] = s.round;
  out[35] = s.from;
  out[36] = s.to;
  v.setUint32(37, s.generation);
  v.setBigUint64(41, BigInt(s.auditHead.seq));
  out.set(hexToBytes(s.auditHead.hash), 49);
  out.set(hexToBytes(s.broadcastDigest), 81);
  out.set(hexToBytes(s.payloadDigest), 113);
  return out;
}

export function decodeStatement(b: Uint8Array): Statement {
  if (b.length !== STATEMENT_BYTES || b[0] !== STATEMENT_VERSION) throw new Error(`not a round statement (${b.length} bytes, version ${b[0]})`);
  const kind = b[33]!;
  if (kind < 1 || kind > 4) throw new Error(`unknown frame kind ${kind}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    sessionId: bytesToHex(b.subarray(1, 33)),
    kind: kind as FrameKind,
    round: b[34]!,
    from: b[35]!,
    to: b[36]!,
    generation: v.getUint32(37),
    auditHead: { seq: Number(v.getBigUint64(41)), hash: bytesToHex(b.subarray(49, 81)) },
    broadcastDigest: bytesToHex(b.subarray(81, 113)),
    payloadDigest: bytesToHex(b.subarray(113, 145)),
  };
}

/** The 32 bytes the sender signs. */
export function statementHash(statement: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode(STATEMENT_DOMAIN);
  const m = new Uint8Array(domain.length + statement.length);
  m.set(domain);
  m.set(statement, domain.length);
  return sha256(m);
}

/** `u32 BE length | broadcast | direct`, the core's body layout, reused by the nodes' own payloads. */
export function joinPayload(broadcast: Uint8Array, direct: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + broadcast.length + direct.length);
  new DataView(out.buffer).setUint32(0, broadcast.length);
  out.set(broadcast, 4);
  out.set(direct, 4 + broadcast.length);
  return out;
}

export function splitPayload(body: Uint8Array): { broadcast: Uint8Array; direct: Uint8Array } {
  if (body.length < 4) throw new Error("payload has no length prefix");
  const n = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  if (n > body.length - 4) throw new Error("payload claims a broadcast part longer than itself");
  return { broadcast: body.subarray(4, 4 + n), direct: body.subarray(4 + n) };
}

/** The broadcast part of a frame's payload: for a core message, of the body after its header. */
export function broadcastPart(kind: FrameKind, payload: Uint8Array): Uint8Array {
  if (kind === FRAME_KIND.core) {
    if (payload.length < CORE_HEADER_BYTES) throw new Error("core message shorter than its header");
    return splitPayload(payload.subarray(CORE_HEADER_BYTES)).broadcast;
  }
  return splitPayload(payload).broadcast;
}

export function digestsOf(kind: FrameKind, payload: Uint8Array, hash: (bytes: Uint8Array) => Uint8Array = sha256): { broadcastDigest: string; payloadDigest: string } {
  return { broadcastDigest: bytesToHex(hash(broadcastPart(kind, payload))), payloadDigest: bytesToHex(hash(payload)) };
}

export function publicKeyOfPeer(peerId: string): Uint8Array {
  const key = peerIdFromString(peerId).publicKey;
  if (!key || key.type !== "Ed25519") throw new Error(`peer id ${peerId} does not embed an Ed25519 key`);
  return key.raw;
}

export function verifyStatement(statement: Uint8Array, signature: Uint8Array, peerId: string): boolean {
  try {
    return ed25519.verify(signature, statementHash(statement), publicKeyOfPeer(peerId), { zip215: false });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- evidence

/** A statement with its signature, hex: what evidence carries. */
export interface SignedStatementHex {
  statement: string;
  signature: string;
}

export function signedHex(statement: Uint8Array, signature: Uint8Array): SignedStatementHex {
  return { statement: bytesToHex(statement), signature: bytesToHex(signature) };
}

/**
 * Why a share holder is named as the culprit of an abort. Each kind carries what a third party
 * needs to check it with nothing but the culprit's peer id (and, for a stale generation, the key's
 * generation as the honest nodes' audit logs record it).
 *
 * - equivocation: two statements the culprit signed for the same session, kind, round and sender
 *   index whose broadcast digests differ: it told two parties different things.
 * - stale-generation: the culprit signed a round message of a session with a share generation
 *   older than the key's current one (it missed a refresh or kept a retired share).
 * - wrong-public-view: in its keygen/refresh confirmation the culprit signed a public key package
 *   (group key, verifying shares) different from the one every other party derived from the same
 *   echo-checked transcript; `broadcast` is the preimage of each statement's broadcast digest.
 * - misbound: the culprit signed a statement whose core message belongs to another session or
 *   round or names other parties (a replayed or re-addressed message).
 */
export type Evidence =
  | { kind: "equivocation"; culprit: string; sessionId: string; round: number; statements: [SignedStatementHex, SignedStatementHex] }
  | { kind: "stale-generation"; culprit: string; sessionId: string; currentGeneration: number; statement: SignedStatementHex }
  | { kind: "wrong-public-view"; culprit: string; sessionId: string; claimed: SignedStatementHex & { broadcast: string }; agreed: (SignedStatementHex & { signer: string; broadcast: string })[] }
  | { kind: "misbound"; culprit: string; sessionId: string; statement: SignedStatementHex; message: string };

export type EvidenceVerdict = { ok: true; culprit: string } | { ok: false; reason: string };

function signedBy(s: SignedStatementHex, peerId: string): Statement | null {
  try {
    const bytes = hexToBytes(s.statement);
    if (!verifyStatement(bytes, hexToBytes(s.signature), peerId)) return null;
    return decodeStatement(bytes);
  } catch {
    return null;
  }
}

/** Checks evidence on its own: signatures against the peer ids, then the contradiction itself. */
export function checkEvidence(e: Evidence): EvidenceVerdict {
  const no = (reason: string): EvidenceVerdict => ({ ok: false, reason });
  switch (e.kind) {
    case "equivocation": {
      const [a, b] = e.statements.map((s) => signedBy(s, e.culprit));
      if (!a || !b) return no("a statement is not signed by the accused");
      if (a.sessionId !== e.sessionId || b.sessionId !== e.sessionId) return no("the statements belong to another session");
      if (a.kind !== b.kind || a.round !== b.round || a.from !== b.from) return no("the statements are about different messages");
      if (a.broadcastDigest === b.broadcastDigest) return no("the statements broadcast the same thing");
      return { ok: true, culprit: e.culprit };
    }
    case "stale-generation": {
      const s = signedBy(e.statement, e.culprit);
      if (!s) return no("the statement is not signed by the accused");
      if (s.sessionId !== e.sessionId) return no("the statement belongs to another session");
      if (s.generation >= e.currentGeneration) return no(`the statement's generation ${s.generation} is not older than ${e.currentGeneration}`);
      return { ok: true, culprit: e.culprit };
    }
    case "wrong-public-view": {
      const claimed = signedBy(e.claimed, e.culprit);
      if (!claimed || claimed.kind !== FRAME_KIND.confirm || claimed.sessionId !== e.sessionId) return no("the claimed view is not the accused's signed confirmation");
      if (bytesToHex(sha256(hexToBytes(e.claimed.broadcast))) !== claimed.broadcastDigest) return no("the claimed view does not match its statement");
      if (e.agreed.length === 0) return no("no other party's view to compare with");
      let agreedView: string | null = null;
      for (const a of e.agreed) {
        const s = signedBy(a, a.signer);
        if (!s || s.kind !== FRAME_KIND.confirm || s.sessionId !== e.sessionId || a.signer === e.culprit) return no("an agreeing view is not a signed confirmation of another party");
        if (bytesToHex(sha256(hexToBytes(a.broadcast))) !== s.broadcastDigest) return no("an agreeing view does not match its statement");
        const view = a.broadcast.slice(0, 64);
        if (agreedView !== null && view !== agreedView) return no("the other parties do not agree among themselves");
        agreedView = view;
      }
      if (e.claimed.broadcast.slice(0, 64) === agreedView) return no("the accused's view is the agreed one");
      return { ok: true, culprit: e.culprit };
    }
    case "misbound": {
      const s = signedBy(e.statement, e.culprit);
      if (!s || s.kind !== FRAME_KIND.core || s.sessionId !== e.sessionId) return no("the statement is not the accused's signed core message of this session");
      const m = hexToBytes(e.message);
      if (bytesToHex(sha256(m)) !== s.payloadDigest) return no("the message is not the one the statement signs");
      if (m.length < CORE_HEADER_BYTES) return { ok: true, culprit: e.culprit };
      const bound = bytesToHex(m.subarray(1, 33)) === s.sessionId && m[33] === s.round && m[34] === s.from && m[35] === s.to;
      if (bound) return no("the message is bound to the statement's session, round and parties");
      return { ok: true, culprit: e.culprit };
    }
  }
}

/**
 * Looks for equivocation among signed core statements (received directly or echoed by others):
 * two valid ones from one sender for the same round with different broadcast digests.
 * `peerOf` maps party indices of the session to peer ids.
 */
export function findEquivocation(sessionId: string, signed: { statement: Uint8Array; signature: Uint8Array }[], peerOf: ReadonlyMap<number, string>): Evidence | null {
  // Grouped by (sender, round) first; signatures are checked only where digests disagree, so the
  // common case (everyone saw the same) costs no signature check at all.
  const slots = new Map<string, { s: Statement; x: { statement: Uint8Array; signature: Uint8Array } }[]>();
  for (const x of signed) {
    let s: Statement;
    try {
      s = decodeStatement(x.statement);
    } catch {
      continue;
    }
    if (s.sessionId !== sessionId || s.kind !== FRAME_KIND.core || !peerOf.has(s.from)) continue;
    const slot = `${s.from}/${s.round}`;
    const list = slots.get(slot) ?? [];
    list.push({ s, x });
    slots.set(slot, list);
  }
  for (const list of slots.values()) {
    if (new Set(list.map((e) => e.s.broadcastDigest)).size < 2) continue;
    const peer = peerOf.get(list[0]!.s.from)!;
    const valid = list.filter((e) => verifyStatement(e.x.statement, e.x.signature, peer));
    const first = valid[0];
    const other = first && valid.find((e) => e.s.broadcastDigest !== first.s.broadcastDigest);
    if (first && other) {
      return { kind: "equivocation", culprit: peer, sessionId, round: first.s.round, statements: [signedHex(first.x.statement, first.x.signature), signedHex(other.x.statement, other.x.signature)] };
    }
  }
  return null;
}
