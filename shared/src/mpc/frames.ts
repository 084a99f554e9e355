// Length-prefixed frames on a libp2p 3 stream (it-length-prefixed varints), with backpressure:
// a write waits for the stream to drain when its buffer is full. Runtime-neutral (Node, workerd).
import type { Stream } from "@libp2p/interface";
import * as lp from "it-length-prefixed";

export async function writeFrame(stream: Stream, bytes: Uint8Array): Promise<void> {
  if (!stream.send(lp.encode.single(bytes))) await stream.onDrain();
}

/** Frames as they arrive; throws if a length prefix is invalid or exceeds `maxBytes`. */
export function readFrames(stream: Stream, maxBytes: number): AsyncIterator<Uint8Array> {
  const frames = lp.decode(stream, { maxDataLength: maxBytes })[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await frames.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value.subarray() };
    },
  };
}

/** Errors it-length-prefixed raises for a malformed prefix: the peer, not the network, is at fault. */
export function isFramingError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? "";
  return name === "InvalidMessageLengthError" || name === "InvalidDataLengthError" || name === "InvalidDataLengthLengthError";
}
