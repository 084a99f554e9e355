// One ceremony (keygen, sign or refresh) as this node lives it: a state machine around the MPC
// core's Ceremony, in the round-based style of Lockness' `round-based` crate — it neither opens
// sockets nor reads clocks itself. Outgoing messages go to an injected `send(party, bytes)`,
// incoming ones arrive through `deliver(from, bytes)` (the sender already authenticated by the
// transport), and time comes from an injected Clock, so the same code runs in one process under a
// unit test and over libp2p in the daemon.
//
// The transport is authenticated and reliable, so anything the core refuses from a peer — a
// garbled body, a header claiming another sender, a replayed or misrouted message — is that
// peer's misbehaviour: the session ends with an error that names it, rather than waiting for a
// timeout. A silent peer is named by the timeout through `ceremony.waitingFor()`.
import { Ceremony, MpcError, peekHeader, SESSION_ID_BYTES, type MpcErrorCode } from "../../../wasm/index.js";

export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; returns a cancel function. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export type SessionFailureCode = "timeout" | "protocol-abort" | "ban" | "malformed" | "unreachable" | "cancelled" | "internal";

export interface SessionFailure {
  code: SessionFailureCode;
  message: string;
  /** Parties the failure is attributed to (1-based indices). */
  culprits: number[];
  /** For a timeout: the parties whose message for the current round never came. */
  waitingFor: number[];
  round: number;
}

export type SessionOutcome = { ok: true; ceremony: Ceremony } | { ok: false; failure: SessionFailure };

export interface SessionOptions {
  ceremony: Ceremony;
  sessionId: Uint8Array;
  /** Every party of this ceremony, this node included. */
  parties: number[];
  timeoutMs: number;
  clock: Clock;
  send(to: number, message: Uint8Array): void;
  /** How to name a party in error messages (e.g. "party 2 (12D3Koo… us)"). */
  describe?(party: number): string;
}

// Envelope refusals the core reports without ending the ceremony; on our transport they are
// still misbehaviour by the sender.
const ENVELOPE_CODES: MpcErrorCode[] = ["wrong-session", "misrouted", "unknown-sender", "replay"];

export class CeremonySession {
  readonly outcome: Promise<SessionOutcome>;
  private resolve!: (o: SessionOutcome) => void;
  private settled = false;
  private cancelTimer: (() => void) | null = null;
  private readonly describe: (party: number) => string;
  readonly startedAt: number;

  constructor(private readonly o: SessionOptions) {
    this.outcome = new Promise((r) => (this.resolve = r));
    this.describe = o.describe ?? ((p) => `party ${p}`);
    this.startedAt = o.clock.now();
  }

  get finished(): boolean {
    return this.settled;
  }

  get me(): number {
    return this.o.ceremony.me;
  }

  start(): void {
    this.cancelTimer = this.o.clock.setTimeout(() => this.onTimeout(), this.o.timeoutMs);
    this.step(null, () => this.o.ceremony.start());
  }

  /** A message from `from` (as the transport authenticated it). */
  deliver(from: number, message: Uint8Array): void {
    if (this.settled) return;
    if (!this.o.parties.includes(from) || from === this.me) {
      return this.fail({ code: "malformed", message: `a message came from ${this.describe(from)}, not a party of this session`, culprits: [from] });
    }
    let header;
    try {
      header = peekHeader(message);
    } catch (e) {
      return this.fail({ code: "malformed", message: `${this.describe(from)} sent an unreadable message: ${(e as Error).message}`, culprits: [from] });
    }
    if (header.from !== from) return this.fail({ code: "malformed", message: `${this.describe(from)} sent a message claiming to be from party ${header.from}`, culprits: [from] });
    if (header.to !== this.me) return this.fail({ code: "malformed", message: `${this.describe(from)} sent a message addressed to party ${header.to}`, culprits: [from] });
    if (!sameBytes(header.sessionId, this.o.sessionId)) return this.fail({ code: "malformed", message: `${this.describe(from)} sent a message bound to another session`, culprits: [from] });
    this.step(from, () => this.o.ceremony.receive(message));
  }

  /** Ends the session from outside (coordinator gone, peer unreachable, node stopping). */
  abort(code: SessionFailureCode, message: string, culprits: number[] = []): void {
    this.fail({ code, message, culprits });
  }

  private step(from: number | null, run: () => Uint8Array[]): void {
    if (this.settled) return;
    let out: Uint8Array[];
    try {
      out = run();
    } catch (e) {
      return this.onCoreError(from, e);
    }
    for (const m of out) this.o.send(peekHeader(m).to, m);
    if (this.o.ceremony.done) this.succeed();
  }

  private onCoreError(from: number | null, e: unknown): void {
    if (!(e instanceof MpcError)) return this.fail({ code: "internal", message: `MPC core failed: ${(e as Error)?.message ?? String(e)}`, culprits: [] });
    if (e.code === "finished") return; // a late duplicate after success; nothing to do
    // The core names a culprit when the protocol can tell; otherwise the sender of the message
    // that broke the ceremony is responsible for it.
    const culprit = e.culprit ?? from;
    const culprits = culprit === null ? [] : [culprit];
    const who = culprit === null ? "" : `${this.describe(culprit)}: `;
    if (e.code === "ban") return this.fail({ code: "ban", message: `${who}${e.message}`, culprits });
    if (ENVELOPE_CODES.includes(e.code) || e.code === "malformed") return this.fail({ code: "malformed", message: `${who}${e.code}: ${e.message}`, culprits });
    if (e.code === "protocol-abort") return this.fail({ code: "protocol-abort", message: `${who}${e.message}`, culprits });
    return this.fail({ code: "internal", message: `${e.code}: ${e.message}`, culprits });
  }

  private onTimeout(): void {
    if (this.settled) return;
    const waitingFor = this.o.ceremony.waitingFor();
    const round = this.o.ceremony.round;
    const names = waitingFor.length ? waitingFor.map((p) => this.describe(p)).join(", ") : "nobody (the core is stuck)";
    this.fail({ code: "timeout", message: `timed out after ${this.o.timeoutMs} ms in round ${round} waiting for ${names}`, culprits: waitingFor, waitingFor });
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.cancelTimer?.();
    this.resolve({ ok: true, ceremony: this.o.ceremony });
  }

  private fail(f: Omit<SessionFailure, "waitingFor" | "round"> & { waitingFor?: number[] }): void {
    if (this.settled) return;
    this.settled = true;
    this.cancelTimer?.();
    let round = 0;
    try {
      round = this.o.ceremony.round;
    } catch {
      // a freed or broken ceremony has no round to report
    }
    this.resolve({ ok: false, failure: { ...f, waitingFor: f.waitingFor ?? [], round } });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length || a.length !== SESSION_ID_BYTES) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
