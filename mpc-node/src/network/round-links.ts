// Outgoing round messages: one long-lived /tessera/round/1 stream per share holder, opened on
// first use and reopened after it breaks, carrying frames of every session in order. A peer that
// cannot be dialled or whose stream fails is reported, so the sessions needing it end at once
// with an error naming it instead of waiting for their timeout.
import type { Stream } from "@libp2p/interface";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import type { Libp2p } from "libp2p";
import { writeFrame } from "../../../shared/src/mpc/frames.js";
import { PROTOCOL } from "../../../shared/src/mpc/protocol.js";

interface Link {
  stream: Promise<Stream>;
  queue: Promise<void>;
  broken: boolean;
}

export class RoundLinks {
  private readonly links = new Map<string, Link>();
  private readonly addrs: Map<string, Multiaddr[]>;

  constructor(
    private readonly host: Libp2p,
    peers: { peerId: string; multiaddrs: string[] }[],
    private readonly onUnreachable: (peerId: string, reason: string) => void,
    private readonly dialTimeoutMs = 10_000,
  ) {
    this.addrs = new Map(peers.map((p) => [p.peerId, p.multiaddrs.map((a) => withPeer(a, p.peerId))]));
  }

  send(peerId: string, frame: Uint8Array): void {
    const link = this.linkTo(peerId);
    link.queue = link.queue.then(async () => {
      if (link.broken) throw new Error("stream closed");
      await writeFrame(await link.stream, frame);
    });
    link.queue.catch((e: unknown) => {
      link.broken = true;
      if (this.links.get(peerId) === link) {
        this.links.delete(peerId);
        this.onUnreachable(peerId, (e as Error)?.message ?? String(e));
      }
    });
  }

  close(): void {
    for (const link of this.links.values()) {
      link.broken = true;
      link.stream.then((s) => s.abort(new Error("node stopping"))).catch(() => {});
    }
    this.links.clear();
  }

  private linkTo(peerId: string): Link {
    const existing = this.links.get(peerId);
    if (existing && !existing.broken) return existing;
    const addrs = this.addrs.get(peerId);
    // The deadline covers the dial only (a signal left armed could end the stream later).
    const dialing = new AbortController();
    const deadline = setTimeout(() => dialing.abort(new Error(`dialling ${peerId} took over ${this.dialTimeoutMs} ms`)), this.dialTimeoutMs);
    const stream = addrs
      ? this.host.dialProtocol(addrs, PROTOCOL.round, { signal: dialing.signal }).finally(() => clearTimeout(deadline))
      : Promise.reject(new Error(`peer ${peerId} is not configured`));
    const link: Link = { stream, queue: Promise.resolve(), broken: false };
    stream.then(
      (s) =>
        s.addEventListener("close", () => {
          link.broken = true;
          if (this.links.get(peerId) === link) this.links.delete(peerId);
        }),
      () => {},
    );
    this.links.set(peerId, link);
    return link;
  }
}

/** The address with the peer's id at its end; a relay address ("…/p2p/<relay>/p2p-circuit") gets it after the circuit. */
function withPeer(addr: string, peerId: string): Multiaddr {
  const ma = multiaddr(addr);
  return ma.getComponents().at(-1)?.name === "p2p" ? ma : ma.encapsulate(`/p2p/${peerId}`);
}
