// The edge's libp2p peer inside workerd: websockets out (directly, or through a circuit relay v2
// to a holder behind NAT), noise (authenticated, encrypted), yamux; it only ever dials the
// configured share holders. Two gaps of workerd need shims
// (verified in ../shared/research/workers-libp2p.md):
//   - no BroadcastChannel (used by a lock in the peer store): a no-op class is enough, a
//     Durable Object is single-threaded;
//   - WebSocket has no bufferedAmount, so the transport would wait for a buffer that never
//     drains: report 0 (workerd buffers sends itself).
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { identify } from "@libp2p/identify";
import type { PeerId } from "@libp2p/interface";
import { webSockets } from "@libp2p/websockets";
import { createLibp2p, type Libp2p } from "libp2p";
import { installQuietNoiseFrameDecoding } from "../../../shared/src/mpc/noise-frame-decoder.js";
import { installHalfWindowUpdates } from "../../../shared/src/mpc/yamux-window.js";
import { workerdNoiseCrypto } from "./noise-crypto.js";

function installWorkerdShims(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.BroadcastChannel === "undefined") {
    g.BroadcastChannel = class {
      onmessage: unknown = null;
      postMessage(): void {}
      close(): void {}
      addEventListener(): void {}
      removeEventListener(): void {}
    };
  }
  // Defined unconditionally: workerd may expose the name without a working value.
  if (typeof WebSocket !== "undefined") Object.defineProperty(WebSocket.prototype, "bufferedAmount", { get: () => 0, configurable: true });
}

/**
 * A dial-only libp2p node with a stable identity derived from a 32-byte seed (the share
 * holders allow exactly this peer id as their edge) that refuses to dial anyone but `allowed`;
 * `viaRelays` adds the circuit relay v2 transport for holders reached through a relay.
 */
export async function createEdgePeer(seed: Uint8Array, allowed: ReadonlySet<string>, o: { viaRelays?: boolean } = {}): Promise<Libp2p> {
  installWorkerdShims();
  // Window updates once half the receive window is used, as the nodes send them (not one per frame).
  installHalfWindowUpdates();
  // Noise frames without a thrown RangeError at the end of every received chunk.
  installQuietNoiseFrameDecoding();
  const privateKey = await generateKeyPairFromSeed("Ed25519", seed);
  return createLibp2p({
    privateKey,
    addresses: { listen: [] },
    // A share holder behind NAT is reached through a relay it holds a reservation with
    // ("<relay's websocket address>/p2p-circuit"); noise still runs end to end with the holder.
    // Only when some holder is configured that way: the relay transport needs identify.
    transports: o.viaRelays ? [webSockets(), circuitRelayTransport()] : [webSockets()],
    ...(o.viaRelays ? { services: { identify: identify() } } : {}),
    // Frames sealed by workerd's native ChaCha20-Poly1305 (noise-crypto.ts).
    connectionEncrypters: [noise({ crypto: workerdNoiseCrypto })],
    streamMuxers: [yamux()],
    // A node busy computing a key-generation round answers pings late; a slow ping must not
    // tear down the connection a ceremony is waiting on (the ceremony has its own deadline).
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionGater: {
      // Loopback and private addresses are where local share holders live; the peer check
      // below is what keeps the edge from talking to anyone else.
      denyDialMultiaddr: async () => false,
      denyDialPeer: async (peer: PeerId) => !allowed.has(peer.toString()),
    },
  });
}
