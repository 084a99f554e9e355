// Noise frames decoded without a RangeError at the end of every chunk (./noise-frame-decoder.ts),
// on the library's own LengthPrefixedDecoder with noise's 2-byte length: the same messages come
// out for any split of the bytes, and a chunk that ends on a message boundary no longer makes the
// length decoder throw.
import { LengthPrefixedDecoder } from "@libp2p/utils";
import { Uint8ArrayList } from "uint8arraylist";
import { describe, expect, it } from "vitest";
import { installQuietNoiseFrameDecoding } from "./noise-frame-decoder.js";

/** @chainsafe/libp2p-noise's length decoder, counting the times it gives up for lack of bytes. */
function noiseDecoder() {
  const counts = { throws: 0 };
  const lengthDecoder = (data: Uint8ArrayList) => {
    if (data.length < 2) {
      counts.throws++;
      throw new RangeError("Could not decode int16BE");
    }
    return data.getUint16(0);
  };
  return { decoder: new LengthPrefixedDecoder({ lengthDecoder, maxBufferSize: 16 * 1024 * 1024, encodingLength: () => 2 }), counts };
}

function framed(messages: Uint8Array[]): Uint8Array {
  const out = new Uint8ArrayList();
  for (const m of messages) out.append(Uint8Array.of(m.length >> 8, m.length & 0xff), m);
  return out.subarray();
}

describe("noise frame decoding", () => {
  installQuietNoiseFrameDecoding();
  const messages = [300, 1, 65_535, 17, 2, 4_000].map((n, i) => Uint8Array.from({ length: n }, (_, j) => (i * 31 + j) & 0xff));
  const bytes = framed(messages);

  it("yields every message, for chunks split anywhere", () => {
    for (const step of [2, 3, 7, 301, 1000, bytes.length]) {
      const { decoder } = noiseDecoder();
      const out: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += step) for (const m of decoder.decode(bytes.subarray(at, at + step))) out.push(m.subarray());
      expect(out).toEqual(messages);
    }
  });

  it("a chunk ending on a message boundary does not make the length decoder throw", () => {
    const { decoder, counts } = noiseDecoder();
    let n = 0;
    for (const m of messages) for (const _ of decoder.decode(framed([m]))) n++;
    expect(n).toBe(messages.length);
    expect(counts.throws).toBe(0);
  });

  it("a length split across chunks still waits for its second byte", () => {
    const { decoder, counts } = noiseDecoder();
    const one = framed([messages[0]!]);
    expect([...decoder.decode(one.subarray(0, 1))]).toHaveLength(0);
    expect(counts.throws).toBe(1);
    expect([...decoder.decode(one.subarray(1))].map((m) => m.subarray())).toEqual([messages[0]]);
  });

  it("a message longer than allowed is still refused", () => {
    const decoder = new LengthPrefixedDecoder({ lengthDecoder: (d: Uint8ArrayList) => d.getUint16(0), maxDataLength: 10, encodingLength: () => 2 });
    expect(() => [...decoder.decode(framed([new Uint8Array(11)]))]).toThrow(/Invalid message length/);
  });
});
