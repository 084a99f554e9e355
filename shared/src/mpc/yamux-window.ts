// Yamux receive-window updates once half the window is used, not after every data frame.
//
// @chainsafe/libp2p-yamux 8 answers every data frame it receives with a window-update frame, so
// each ceremony message (an authorization, a round message, a result) costs a second frame back:
// its own noise encryption and socket write at the receiver, a decryption and dispatch at the
// sender — about as much per-frame work as the message itself for the small ones, and a node's
// ceremony messages are mostly sent on long-lived streams that never run short of window.
// go-yamux and rust-yamux send the update once the unacknowledged part reaches half the window;
// this does the same, at the nodes (mpc-node/src/network/host.ts) and at the edge inside workerd
// (worker/src/signing/edge-peer.ts), where each of the nodes' answers drew an update too. The
// window, its growth and the stream's opening (SYN/ACK, which always go out) are otherwise the
// library's own code, and the sender is never held up while more than half the window is still
// open to it.
import { YamuxStream } from "@chainsafe/libp2p-yamux/stream";

interface WindowState {
  state: number;
  recvWindow: number;
  recvWindowCapacity: number;
  getSendFlags(): number;
}

const ESTABLISHED = 3; // StreamState.Established

let installed = false;

/** Installs the half-window rule for every yamux stream of this process (idempotent). */
export function installHalfWindowUpdates(): void {
  if (installed) return;
  installed = true;
  const proto = YamuxStream.prototype as unknown as WindowState & { sendWindowUpdate(): void };
  const everyFrame = proto.sendWindowUpdate;
  proto.sendWindowUpdate = function (this: WindowState) {
    // Established and more than half the window still open to the remote: nothing to say yet.
    // Any other state goes to the library's code (opening flags, pause bookkeeping).
    if (this.state === ESTABLISHED && this.recvWindowCapacity * 2 > this.recvWindow) return;
    everyFrame.call(this);
  };
}
