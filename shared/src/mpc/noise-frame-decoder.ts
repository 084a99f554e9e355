// Noise transport frames decoded without an exception per received chunk.
//
// @chainsafe/libp2p-noise 17 splits what it receives into noise messages (a 2-byte length, then the
// ciphertext) with @libp2p/utils' LengthPrefixedDecoder, whose loop asks the length decoder for
// the next length until it throws a RangeError for lack of bytes. A chunk that ends on a message
// boundary — nearly every one, on a connection carrying ceremony messages — therefore ends with a
// thrown and caught RangeError, whose stack trace V8 captures: in a node's profile of an online
// signature that was ≈ 0.35 ms per participation (more than the noise decryption itself), and the
// edge pays the same in workerd for every answer it receives. This stops the loop when nothing is
// left to decode, which is exactly where the library's decoders (noise's uint16, varint) would
// throw; a partly received length still goes to the decoder and its RangeError, as before.
// Installed where the hosts are made (mpc-node/src/network/host.ts, worker/src/signing/edge-peer.ts),
// like ./yamux-window.ts.
import { InvalidMessageLengthError, LengthPrefixedDecoder } from "@libp2p/utils";
import { InvalidParametersError } from "@libp2p/interface";
import { Uint8ArrayList } from "uint8arraylist";

interface DecoderState {
  buffer: Uint8ArrayList;
  maxBufferSize: number;
  maxDataLength: number;
  lengthDecoder(buf: Uint8ArrayList): number;
  encodingLength(length: number): number;
}

let installed = false;

/** Installs the no-exception end of chunk for every LengthPrefixedDecoder of this process (idempotent). */
export function installQuietNoiseFrameDecoding(): void {
  if (installed) return;
  installed = true;
  const proto = LengthPrefixedDecoder.prototype as unknown as { decode(this: DecoderState, buf: Uint8Array | Uint8ArrayList): Generator<Uint8ArrayList> };
  // Only over the decode() this was written against: another version keeps its own.
  if (!/this\.lengthDecoder\(this\.buffer\)[\s\S]*err instanceof RangeError/.test(proto.decode.toString())) return;
  // The library's decode() (@libp2p/utils 7.4.1), with the one early exit marked below.
  proto.decode = function* (
    this: DecoderState,
    buf: Uint8Array | Uint8ArrayList,
  ) {
    this.buffer.append(buf);
    if (this.buffer.byteLength > this.maxBufferSize) {
      throw new InvalidParametersError(`Buffer length limit exceeded - ${this.buffer.byteLength}/${this.maxBufferSize}`);
    }
    while (true) {
      // Nothing left: where the length decoder would throw a RangeError to end the loop.
      if (this.buffer.byteLength === 0) break;
      let dataLength: number;
      try {
        dataLength = this.lengthDecoder(this.buffer);
      } catch (err) {
        if (err instanceof RangeError) break;
        throw err;
      }
      if (dataLength < 0 || dataLength > this.maxDataLength) throw new InvalidMessageLengthError("Invalid message length");
      const lengthLength = this.encodingLength(dataLength);
      const chunkLength = lengthLength + dataLength;
      if (this.buffer.byteLength < chunkLength) break;
      const out = this.buffer.sublist(lengthLength, chunkLength);
      this.buffer.consume(chunkLength);
      if (out.byteLength > 0) yield out;
    }
  };
}
