// The half-window rule for yamux window updates (./yamux-window.ts), on the library's
// own YamuxStream: no update while more than half the receive window is open to the sender, one
// update (restoring the whole window) once half is used, and the stream's opening flags always sent.
import { YamuxStream } from "@chainsafe/libp2p-yamux/stream";
import { describe, expect, it } from "vitest";
import { installHalfWindowUpdates } from "./yamux-window.js";

const WINDOW = 256 * 1024;

function stream(state: number) {
  const sent: { type: number; flag: number; length: number }[] = [];
  const s = new YamuxStream({
    id: "1",
    streamId: 1,
    state,
    direction: "inbound",
    log: Object.assign(() => {}, { trace() {}, error() {}, enabled: false, newScope: () => ({}) }),
    getRTT: () => -1,
    sendFrame: (header: { type: number; flag: number; length: number }) => void sent.push(header),
    initialStreamWindowSize: WINDOW,
  } as never);
  return { s: s as unknown as { recvWindowCapacity: number; sendWindowUpdate(): void; state: number }, sent };
}

describe("yamux window updates", () => {
  installHalfWindowUpdates();

  it("one update per half window received, not one per data frame", () => {
    const { s, sent } = stream(3); // established
    for (let i = 0; i < 13; i++) {
      s.recvWindowCapacity -= 10_000; // a data frame of 10 kB
      s.sendWindowUpdate();
    }
    expect(sent).toHaveLength(0);
    s.recvWindowCapacity -= 10_000; // 140 kB received: past half the window (131 kB)
    s.sendWindowUpdate();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.length).toBe(140_000);
    expect(s.recvWindowCapacity).toBe(WINDOW);
  });

  it("the stream's opening still goes out at once (ACK of an inbound stream)", () => {
    const { s, sent } = stream(2); // SYN received
    s.recvWindowCapacity -= 100;
    s.sendWindowUpdate();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.flag).not.toBe(0);
    expect(s.state).toBe(3);
  });
});
