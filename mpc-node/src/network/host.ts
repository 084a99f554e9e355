// The node's libp2p host: TCP between share holders, WebSockets for the edge (a Durable Object
// can only open WebSockets), noise + yamux, identify. The connection gater admits only the peers
// and edges named in the configuration: a stranger's connection is dropped right after the noise
// handshake proves who it is, before any protocol runs.
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify } from "@libp2p/identify";
import type { Ed25519PrivateKey, PeerId } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { createLibp2p, type Libp2p } from "libp2p";

export interface HostOptions {
  privateKey: Ed25519PrivateKey;
  listen: string[];
  /** Other share holders: may connect to us, and we dial them. */
  nodePeers: ReadonlySet<string>;
  /** Coordinators: may connect to us; we never dial them. */
  edgePeers: ReadonlySet<string>;
}

export async function createHost(o: HostOptions): Promise<Libp2p> {
  const inbound = (peer: PeerId) => !o.nodePeers.has(peer.toString()) && !o.edgePeers.has(peer.toString());
  const outbound = (peer: PeerId) => !o.nodePeers.has(peer.toString());
  return createLibp2p({
    privateKey: o.privateKey,
    addresses: { listen: o.listen },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
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
    },
  });
}
