// The node's libp2p host: TCP between share holders, WebSockets for the edge (a Durable Object
// can only open WebSockets), noise + yamux, identify. The connection gater admits only the peers
// and edges named in the configuration: a stranger's connection is dropped right after the noise
// handshake proves who it is, before any protocol runs.
//
// Circuit relay v2: every node can dial a peer through a relay (`/…/p2p/<relay>/p2p-circuit`); a
// node behind NAT listens through relays it can reach (`relay.listenVia`), and a node with a
// public address can serve as one (`relay.serve`) — for the configured peers and edges only.
// Noise runs end to end through the relay: the relay sees ciphertext.
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { identify } from "@libp2p/identify";
import type { Ed25519PrivateKey, PeerId } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { createLibp2p, type Libp2p } from "libp2p";
import { installQuietNoiseFrameDecoding } from "../../../shared/src/mpc/noise-frame-decoder.js";
import { installHalfWindowUpdates } from "../../../shared/src/mpc/yamux-window.js";

export interface HostOptions {
  privateKey: Ed25519PrivateKey;
  listen: string[];
  /** Other share holders: may connect to us, and we dial them. */
  nodePeers: ReadonlySet<string>;
  /** Coordinators: may connect to us; we never dial them. */
  edgePeers: ReadonlySet<string>;
  /** Certificate and key (PEM) for a "/tls/ws" listener: the edge's hop over the internet. */
  tls?: { cert: string; key: string };
  /** Relay circuits between the configured peers and edges (not for strangers). */
  relay?: { serve: boolean; listenVia: string[] };
}

export async function createHost(o: HostOptions): Promise<Libp2p> {
  installHalfWindowUpdates();
  installQuietNoiseFrameDecoding();
  const inbound = (peer: PeerId) => !o.nodePeers.has(peer.toString()) && !o.edgePeers.has(peer.toString());
  const outbound = (peer: PeerId) => !o.nodePeers.has(peer.toString());
  const known = (peer: PeerId) => o.nodePeers.has(peer.toString()) || o.edgePeers.has(peer.toString());
  const listenVia = (o.relay?.listenVia ?? []).map((a) => `${a}/p2p-circuit`);
  return createLibp2p({
    privateKey: o.privateKey,
    addresses: { listen: [...o.listen, ...listenVia] },
    transports: [tcp(), webSockets(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key, minVersion: "TLSv1.2" } } : {}), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      // Ceremonies move megabytes (ECDSA keygen) and last minutes: no data or time limit on a
      // relayed connection between admitted peers; the gater below decides who is admitted.
      ...(o.relay?.serve ? { relay: circuitRelayServer({ reservations: { applyDefaultLimit: false } }) } : {}),
    },
    // An ECDSA keygen keeps a node's event loop busy in wasm for seconds at a time, so a missed
    // keep-alive ping means "busy", not "gone": dead peers show up as closed connections and
    // silent ones through the ceremonies' own timeouts, which name them.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionGater: {
      // Share holders run on private networks too; which peers may talk is decided by peer id.
      denyDialMultiaddr: () => false,
      denyDialPeer: outbound,
      denyInboundEncryptedConnection: inbound,
      denyOutboundEncryptedConnection: outbound,
      denyInboundUpgradedConnection: inbound,
      denyOutboundUpgradedConnection: outbound,
      // As a relay: reservations for share holders only; circuits only between known parties.
      denyInboundRelayReservation: (peer: PeerId) => !o.nodePeers.has(peer.toString()),
      denyOutboundRelayedConnection: (source: PeerId, target: PeerId) => !known(source) || !o.nodePeers.has(target.toString()),
      denyInboundRelayedConnection: (_relay: PeerId, remote: PeerId) => !known(remote),
    },
  });
}
