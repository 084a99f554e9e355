// The wire between a coordinator (the edge) and the share-holder nodes, and between the nodes.
// Every frame travels length-prefixed (it-length-prefixed varints) over a libp2p stream and is
// validated with zod before anything acts on it. Runtime-neutral: used by the Node daemon and by
// the coordinator inside workerd.
//
//   /tessera/keygen/1, /tessera/sign/1, /tessera/refresh/1   coordinator → node, one stream per
//       ceremony and node: the coordinator writes one `authorize` frame (JSON); the node answers
//       `accepted` once the authorization passed its checks, then one `result` or `failure`.
//       Closing the stream before the result cancels the node's part of the session.
//   /tessera/round/1   node ↔ node, one long-lived stream per direction and peer, carrying the
//       MPC core's round messages for any number of sessions (binary frames, below).
import { z } from "zod";
import { bytesToHex } from "@noble/hashes/utils.js";
import { peerIdText, sessionIdHex, type CeremonyKind } from "./authorization.js";
import { decodeStatement, SIGNED_STATEMENT_BYTES, STATEMENT_BYTES, STATEMENT_VERSION, type Statement } from "./round-statements.js";

export const PROTOCOL = {
  keygen: "/tessera/keygen/1",
  sign: "/tessera/sign/1",
  refresh: "/tessera/refresh/1",
  presign: "/tessera/presign/1",
  reshare: "/tessera/reshare/1",
  round: "/tessera/round/1",
  retire: "/tessera/retire/1",
  /** Every kind of ceremony over one long-lived stream per coordinator connection (sessionRequestFrame). */
  ceremonies: "/tessera/ceremonies/1",
} as const;

export const CEREMONY_PROTOCOLS: Record<CeremonyKind, string> = { keygen: PROTOCOL.keygen, sign: PROTOCOL.sign, refresh: PROTOCOL.refresh, presign: PROTOCOL.presign, reshare: PROTOCOL.reshare };

/**
 * /tessera/retire/1, coordinator → a retired node: the org's newest governance entries. The node
 * replays them; if its own log (under the org's root, learned out of band) retires it, it erases
 * every share it holds of the org's keys and says how many. No edge signature: only the org's
 * signed log can make a node erase, and the edge cannot forge an entry.
 */
export const retireRequestFrame = z.strictObject({ type: z.literal("retire"), orgId: z.string().min(1).max(128), governance: z.array(z.unknown()).max(512) });
export const retireResponseFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("erased"), orgId: z.string(), keys: z.array(z.string()).max(100_000), shares: z.int().nonnegative() }),
  z.strictObject({ type: z.literal("refused"), reason: z.string().max(4096) }),
]);
export type RetireResponse = z.infer<typeof retireResponseFrame>;

/** Largest control frame (an authorization with a 256 KiB user payload fits). */
export const MAX_CONTROL_FRAME_BYTES = 1024 * 1024;
/** Largest round frame (ECDSA keygen messages are a few hundred KiB at most). */
export const MAX_ROUND_FRAME_BYTES = 4 * 1024 * 1024;

// ------------------------------------------------------------------ control frames (JSON)

const hex = z.string().regex(/^([0-9a-f]{2})*$/);

/** `governance`: the newest entries of the org's governance log, for a node that lags (shared/src/governance/log.ts). */
export const authorizeFrame = z.strictObject({ type: z.literal("authorize"), signed: z.unknown(), governance: z.array(z.unknown()).max(512).optional() });

export const ceremonyResult = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("keygen"), keyId: z.string(), publicKey: hex, chainCode: hex.optional() }),
  z.strictObject({ kind: z.literal("sign"), keyId: z.string(), signature: hex, recid: z.union([z.literal(0), z.literal(1)]).optional(), publicKey: hex }),
  z.strictObject({ kind: z.literal("refresh"), keyId: z.string(), publicKey: hex }),
  /** The presignatures every party now holds its share of, by id (presignatureIds of the authorization, in order). */
  z.strictObject({ kind: z.literal("presign"), keyId: z.string(), presignatureIds: z.array(sessionIdHex).min(1).max(64), publicKey: hex }),
  z.strictObject({ kind: z.literal("reshare"), keyId: z.string(), publicKey: hex }),
]);
export type CeremonyResult = z.infer<typeof ceremonyResult>;

export const NODE_FAILURE_CODES = [
  // the authorization was refused before the node contributed anything
  "malformed",
  "unknown-edge",
  "forged",
  "expired",
  "replayed",
  "mismatch",
  "banned",
  "user-evidence",
  "intent",
  "governance",
  "policy",
  // the ceremony started and failed
  "timeout",
  "protocol-abort",
  "ban",
  "unreachable",
  "cancelled",
  "busy",
  "internal",
] as const;
export type NodeFailureCode = (typeof NODE_FAILURE_CODES)[number];

export const nodeFailure = z.strictObject({
  code: z.enum(NODE_FAILURE_CODES),
  message: z.string().max(4096),
  /** Peers the node blames. */
  culprits: z.array(peerIdText).max(64),
  /** For a timeout: the peers whose messages never came. */
  waitingFor: z.array(peerIdText).max(64),
  round: z.int().min(0).max(255).optional(),
});
export type NodeFailure = z.infer<typeof nodeFailure>;

export const nodeResponseFrame = z.discriminatedUnion("type", [
  /**
   * The node checked the authorization and started its part. Not sent for signatures and
   * presignatures on /tessera/ceremonies/1 (seconds-long keygens and refreshes keep it): a frame
   * per node and ceremony that only a failure's `started` needs to say.
   */
  z.strictObject({ type: z.literal("accepted"), sessionId: sessionIdHex }),
  z.strictObject({
    type: z.literal("result"),
    sessionId: sessionIdHex,
    result: ceremonyResult,
    /** Keygen: the node's own signature over what it generated (./keygen-attestation.ts); each node's differs, so it is not part of the result the nodes must agree on. */
    attestation: z.strictObject({ peerId: peerIdText, signature: z.string().regex(/^[0-9a-f]{128}$/) }).optional(),
  }),
  /**
   * `started`: the node had accepted the authorization and the ceremony failed (else it refused
   * it). Says what an `accepted` frame said, for the signatures that get none.
   */
  z.strictObject({ type: z.literal("failure"), sessionId: sessionIdHex.nullable(), error: nodeFailure, started: z.literal(true).optional() }),
  /**
   * A signature from a presignature, on /tessera/ceremonies/1 only: what this signer broadcasts in
   * the online round, with x(R') (./presigned.ts), sent once it spent the presignature. The
   * signer's own result still follows.
   */
  z.strictObject({ type: z.literal("partial"), sessionId: sessionIdHex, partial: z.string().regex(/^[0-9a-f]{192}$/) }),
]);
export type NodeResponseFrame = z.infer<typeof nodeResponseFrame>;

/**
 * /tessera/ceremonies/1, coordinator → node: the per-kind protocols' requests on one stream that
 * stays open, each tagged with an `id` the coordinator chooses (unique among its open requests on
 * that stream); the node tags every answer with it. No stream to open and no protocol to
 * negotiate per ceremony (one round trip less, and less work at both ends); `cancel` does what
 * closing a per-ceremony stream does, and so does closing this stream for every open request.
 */
const requestId = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
export const sessionRequestFrame = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("authorize"),
    id: requestId,
    kind: z.enum(["keygen", "sign", "refresh", "presign", "reshare"]),
    signed: z.unknown(),
    governance: z.array(z.unknown()).max(512).optional(),
  }),
  z.strictObject({ type: z.literal("cancel"), id: requestId }),
]);
export type SessionRequestFrame = z.infer<typeof sessionRequestFrame>;
export const sessionResponseFrame = z.strictObject({ id: requestId, response: nodeResponseFrame });
export type SessionResponseFrame = z.infer<typeof sessionResponseFrame>;

/** One strict decoder for every frame (a whole-buffer decode keeps no state between calls). */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function encodeJsonFrame(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function decodeJsonFrame<T>(bytes: Uint8Array, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, reason: "frame is not UTF-8 JSON" };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; ") };
  return { ok: true, value: parsed.data };
}

/**
 * A node's answer on /tessera/ceremonies/1, as decodeJsonFrame(bytes, sessionResponseFrame) would
 * decode it. The answers every signature brings (accepted, partial, a sign or presign result
 * without attestation) are checked here by hand against exactly the schema's rules for them, a
 * fraction of zod's work; any other frame, or one those checks do not pass, goes to the schema,
 * which decides (and words the reason). protocol.test.ts holds the two to the same answers.
 */
export function decodeSessionResponse(bytes: Uint8Array): { ok: true; value: SessionResponseFrame } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, reason: "frame is not UTF-8 JSON" };
  }
  if (isCommonSessionResponse(value)) return { ok: true, value };
  const parsed = sessionResponseFrame.safeParse(value);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join(".") || "frame"}: ${i.message}`).join("; ") };
  return { ok: true, value: parsed.data };
}

const SESSION_ID = /^[0-9a-f]{64}$/;
const PARTIAL = /^[0-9a-f]{192}$/;
const HEX = /^([0-9a-f]{2})*$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
/** Exactly these keys (all present) and, from `optional`, any others. */
const hasKeys = (o: Json, keys: string[], optional: string[] = []): boolean => {
  const own = Object.keys(o);
  return keys.every((k) => Object.hasOwn(o, k)) && own.every((k) => keys.includes(k) || optional.includes(k));
};
const isHex = (v: unknown): boolean => typeof v === "string" && HEX.test(v);

function isCommonSessionResponse(v: unknown): v is SessionResponseFrame {
  if (!isObject(v) || !hasKeys(v, ["id", "response"])) return false;
  if (typeof v.id !== "number" || !Number.isSafeInteger(v.id) || v.id < 1) return false;
  const r = v.response;
  if (!isObject(r) || typeof r.sessionId !== "string" || !SESSION_ID.test(r.sessionId)) return false;
  switch (r.type) {
    case "accepted":
      return hasKeys(r, ["type", "sessionId"]);
    case "partial":
      return hasKeys(r, ["type", "sessionId", "partial"]) && typeof r.partial === "string" && PARTIAL.test(r.partial);
    case "result": {
      if (!hasKeys(r, ["type", "sessionId", "result"]) || !isObject(r.result)) return false;
      const x = r.result;
      if (typeof x.keyId !== "string" || !isHex(x.publicKey)) return false;
      if (x.kind === "sign") return hasKeys(x, ["kind", "keyId", "signature", "publicKey"], ["recid"]) && isHex(x.signature) && (!Object.hasOwn(x, "recid") || x.recid === 0 || x.recid === 1);
      if (x.kind === "presign") {
        const ids = x.presignatureIds;
        return hasKeys(x, ["kind", "keyId", "presignatureIds", "publicKey"]) && Array.isArray(ids) && ids.length >= 1 && ids.length <= 64 && ids.every((id) => typeof id === "string" && SESSION_ID.test(id));
      }
      return false;
    }
    default:
      return false;
  }
}

// ------------------------------------------------------------------ round frames (binary)
//
//   bytes 0..145    statement (round-statements.ts): version 2 | session id | kind | round |
//                   from | to | generation | sender's audit head | broadcast and payload digests
//   bytes 145..209  the sender's Ed25519 signature over the statement (its node key)
//   bytes 209..     payload: a core message (kind 1) or the nodes' own `u32 | broadcast | direct`
//
// The session id leads, so a receiver can attribute a frame to its session even when the rest is
// garbage. The receiver checks the signature against the authenticated sender's peer id, the
// digests against the payload, and (for core messages) that the core header repeats the
// statement's session, round and parties; whatever passes is evidence that sender signed it.

export const ROUND_FRAME_VERSION = STATEMENT_VERSION;

export interface RoundFrame {
  sessionId: string;
  statement: Uint8Array;
  signature: Uint8Array;
  payload: Uint8Array;
  parsed: Statement;
}

export function encodeRoundFrame(statement: Uint8Array, signature: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGNED_STATEMENT_BYTES + payload.length);
  out.set(statement);
  out.set(signature, STATEMENT_BYTES);
  out.set(payload, SIGNED_STATEMENT_BYTES);
  return out;
}

/**
 * Decodes a round frame. `sessionId` is returned whenever the outer header is readable, so a
 * broken frame can still be pinned on its session.
 */
export function decodeRoundFrame(bytes: Uint8Array): { ok: true; frame: RoundFrame } | { ok: false; sessionId: string | null; reason: string } {
  if (bytes.length < 33 || bytes[0] !== ROUND_FRAME_VERSION) return { ok: false, sessionId: null, reason: `not a round frame (${bytes.length} bytes, version ${bytes[0] ?? "none"})` };
  const sessionId = bytesToHex(bytes.subarray(1, 33));
  if (bytes.length < SIGNED_STATEMENT_BYTES) return { ok: false, sessionId, reason: `a round frame of ${bytes.length} bytes is shorter than its signed statement` };
  const statement = bytes.subarray(0, STATEMENT_BYTES);
  let parsed: Statement;
  try {
    parsed = decodeStatement(statement);
  } catch (e) {
    return { ok: false, sessionId, reason: (e as Error).message };
  }
  return { ok: true, frame: { sessionId, statement, signature: bytes.subarray(STATEMENT_BYTES, SIGNED_STATEMENT_BYTES), payload: bytes.subarray(SIGNED_STATEMENT_BYTES), parsed } };
}
