// The node's libp2p protocols, wired to the ceremony engine:
//   /tessera/{keygen,sign,refresh}/1  from configured edges only: one authorize frame in,
//                                     accepted + result/failure out; closing the stream cancels.
//   /tessera/ceremonies/1             from configured edges only: the same requests on one
//                                     long-lived stream, each tagged with the coordinator's id
//                                     (no accepted frame for sign and presign: result, partial or
//                                     failure, which says whether the ceremony had started).
//   /tessera/round/1                  from configured share holders only: round frames in.
import type { Connection, Stream } from "@libp2p/interface";
import type { Libp2p } from "libp2p";
import type { CeremonyKind } from "../../../shared/src/mpc/authorization.js";
import { isFramingError, readFrames, writeFrame } from "../../../shared/src/mpc/frames.js";
import {
  authorizeFrame,
  CEREMONY_PROTOCOLS,
  decodeJsonFrame,
  encodeJsonFrame,
  MAX_CONTROL_FRAME_BYTES,
  MAX_ROUND_FRAME_BYTES,
  PROTOCOL,
  retireRequestFrame,
  sessionRequestFrame,
  type NodeResponseFrame,
} from "../../../shared/src/mpc/protocol.js";
import type { CeremonyEngine } from "../ceremony/engine.js";

export interface ServiceOptions {
  host: Libp2p;
  engine: CeremonyEngine;
  nodePeers: ReadonlySet<string>;
  edgePeers: ReadonlySet<string>;
  /** How long a coordinator has to send its authorization after opening a stream. */
  requestTimeoutMs?: number;
  log: (event: Record<string, unknown>) => void;
}

export async function registerProtocols(o: ServiceOptions): Promise<void> {
  for (const kind of ["keygen", "sign", "refresh", "presign", "reshare"] as const) {
    await o.host.handle(CEREMONY_PROTOCOLS[kind], (stream, connection) => void serveCeremony(o, kind, stream, connection), { maxInboundStreams: 1024 });
  }
  await o.host.handle(PROTOCOL.ceremonies, (stream, connection) => void serveCeremonies(o, stream, connection), { maxInboundStreams: 64 });
  await o.host.handle(PROTOCOL.retire, (stream, connection) => void serveRetire(o, stream, connection), { maxInboundStreams: 16 });
  await o.host.handle(PROTOCOL.round, (stream, connection) => void serveRounds(o, stream, connection), { maxInboundStreams: 64 });
}

async function serveCeremony(o: ServiceOptions, kind: CeremonyKind, stream: Stream, connection: Connection): Promise<void> {
  const coordinator = connection.remotePeer.toString();
  if (!o.edgePeers.has(coordinator)) {
    o.log({ event: "refused-stream", protocol: CEREMONY_PROTOCOLS[kind], peer: coordinator, reason: "not a configured edge" });
    stream.abort(new Error("not a configured edge"));
    return;
  }
  const cancel = new AbortController();
  stream.addEventListener("close", () => cancel.abort());
  const reply = (frame: NodeResponseFrame) => writeFrame(stream, encodeJsonFrame(frame));
  try {
    const frames = readFrames(stream, MAX_CONTROL_FRAME_BYTES);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const first = await Promise.race([
      frames.next(),
      new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), o.requestTimeoutMs ?? 10_000))),
    ]).finally(() => clearTimeout(timer));
    if (first === "late") return void stream.abort(new Error("no authorization received in time"));
    if (first.done) return void stream.abort(new Error("no authorization"));
    const request = decodeJsonFrame(first.value, authorizeFrame);
    if (!request.ok) {
      await reply({ type: "failure", sessionId: null, error: { code: "malformed", message: `request frame: ${request.reason}`, culprits: [], waitingFor: [] } });
      await stream.close();
      return;
    }
    const final = await o.engine.run(kind, request.value.signed, coordinator, {
      accepted: (sessionId) => void reply({ type: "accepted", sessionId }).catch(() => {}),
      signal: cancel.signal,
    }, request.value.governance);
    if (stream.status === "open") {
      await reply(final);
      await stream.close();
    }
  } catch (e) {
    o.log({ event: "stream-error", protocol: CEREMONY_PROTOCOLS[kind], peer: coordinator, error: (e as Error).message });
    stream.abort(e as Error);
  }
}

/**
 * /tessera/ceremonies/1: requests of any kind on one stream, run concurrently, each answered under
 * its id (accepted, then result or failure). `cancel` or the stream's end cancels what is open.
 */
async function serveCeremonies(o: ServiceOptions, stream: Stream, connection: Connection): Promise<void> {
  const coordinator = connection.remotePeer.toString();
  if (!o.edgePeers.has(coordinator)) {
    o.log({ event: "refused-stream", protocol: PROTOCOL.ceremonies, peer: coordinator, reason: "not a configured edge" });
    stream.abort(new Error("not a configured edge"));
    return;
  }
  const open = new Map<number, AbortController>();
  const cancelAll = () => {
    for (const c of open.values()) c.abort();
    open.clear();
  };
  stream.addEventListener("close", cancelAll);
  const reply = (id: number, response: NodeResponseFrame) => {
    if (stream.status !== "open") return;
    writeFrame(stream, encodeJsonFrame({ id, response })).catch(() => {});
  };
  try {
    const frames = readFrames(stream, MAX_CONTROL_FRAME_BYTES);
    for (let f = await frames.next(); !f.done; f = await frames.next()) {
      const decoded = decodeJsonFrame(f.value, sessionRequestFrame);
      if (!decoded.ok) {
        // Without a readable id the answer cannot be routed: the coordinator broke the protocol.
        const id = idOf(f.value);
        if (id === null) throw new Error(`unreadable request frame: ${decoded.reason}`);
        reply(id, { type: "failure", sessionId: null, error: { code: "malformed", message: `request frame: ${decoded.reason}`, culprits: [], waitingFor: [] } });
        continue;
      }
      const request = decoded.value;
      if (request.type === "cancel") {
        open.get(request.id)?.abort();
        continue;
      }
      if (open.has(request.id)) {
        reply(request.id, { type: "failure", sessionId: null, error: { code: "malformed", message: `request ${request.id} is already open on this stream`, culprits: [], waitingFor: [] } });
        continue;
      }
      const cancel = new AbortController();
      open.set(request.id, cancel);
      const done = () => {
        if (open.get(request.id) === cancel) open.delete(request.id);
      };
      o.engine
        .run(
          request.kind,
          request.signed,
          coordinator,
          {
            // A signature's answer follows within its short timeout; a failure says whether it had started.
            accepted: request.kind === "sign" || request.kind === "presign" ? () => {} : (sessionId) => reply(request.id, { type: "accepted", sessionId }),
            partial: (sessionId, partial) => reply(request.id, { type: "partial", sessionId, partial }),
            signal: cancel.signal,
          },
          request.governance,
        )
        .then((final) => {
          done();
          reply(request.id, final);
        })
        .catch((e: unknown) => {
          done();
          reply(request.id, { type: "failure", sessionId: null, error: { code: "internal", message: (e as Error)?.message ?? String(e), culprits: [], waitingFor: [] } });
        });
    }
  } catch (e) {
    o.log({ event: "stream-error", protocol: PROTOCOL.ceremonies, peer: coordinator, error: (e as Error).message });
    stream.abort(e as Error);
  } finally {
    cancelAll();
  }
}

/** The id of a request frame that failed validation, if it has a usable one. */
function idOf(bytes: Uint8Array): number | null {
  try {
    const id = (JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown } | null)?.id;
    return typeof id === "number" && Number.isSafeInteger(id) && id >= 1 ? id : null;
  } catch {
    return null;
  }
}

/** /tessera/retire/1: the org's log entries in, the erasure (or why not) out. */
async function serveRetire(o: ServiceOptions, stream: Stream, connection: Connection): Promise<void> {
  const coordinator = connection.remotePeer.toString();
  if (!o.edgePeers.has(coordinator)) {
    stream.abort(new Error("not a configured edge"));
    return;
  }
  try {
    const first = await readFrames(stream, MAX_CONTROL_FRAME_BYTES).next();
    if (first.done) return void stream.abort(new Error("no request"));
    const request = decodeJsonFrame(first.value, retireRequestFrame);
    const answer = request.ok ? await o.engine.retire(request.value.orgId, request.value.governance, coordinator) : { type: "refused" as const, reason: `request frame: ${request.reason}` };
    await writeFrame(stream, encodeJsonFrame(answer));
    await stream.close();
  } catch (e) {
    o.log({ event: "stream-error", protocol: PROTOCOL.retire, peer: coordinator, error: (e as Error).message });
    stream.abort(e as Error);
  }
}

async function serveRounds(o: ServiceOptions, stream: Stream, connection: Connection): Promise<void> {
  const peer = connection.remotePeer.toString();
  if (!o.nodePeers.has(peer)) {
    o.log({ event: "refused-stream", protocol: PROTOCOL.round, peer, reason: "not a configured share holder" });
    stream.abort(new Error("not a configured share holder"));
    return;
  }
  const frames = readFrames(stream, MAX_ROUND_FRAME_BYTES);
  try {
    for (let f = await frames.next(); !f.done; f = await frames.next()) o.engine.receiveFrame(peer, f.value);
  } catch (e) {
    if (isFramingError(e)) {
      o.engine.peerMisbehaved(peer, `broke the round stream's framing: ${(e as Error).message}`);
    } else {
      o.engine.peerUnreachable(peer, `its round stream failed: ${(e as Error).message}`);
    }
    stream.abort(e as Error);
  }
}
