// The MPC core's TypeScript face, used by mpc-node/ (Node), worker/ (workerd) and the
// browser alike. The heavy lifting is in Rust (wasm/src); this file only loads the module,
// turns wasm errors into typed MpcErrors, splits message batches and offers an in-process
// router (runLocally) so a whole ceremony can run in one process for tests and demos.

import init, { initSync, KeyShare as WasmKeyShare, Session, version as wasmVersion } from "./pkg/tessera_mpc.js";

export type Scheme = "ecdsa-secp256k1" | "frost-ed25519" | "frost-bip340";
export const SCHEMES: readonly Scheme[] = ["ecdsa-secp256k1", "frost-ed25519", "frost-bip340"];

/** Stable failure codes (see wasm/src/error.rs). */
export type MpcErrorCode =
  | "bad-input"
  | "malformed"
  | "wrong-session"
  | "misrouted"
  | "unknown-sender"
  | "replay"
  | "protocol-abort"
  | "ban"
  | "finished"
  | "not-done"
  | "internal";

export class MpcError extends Error {
  readonly code: MpcErrorCode;
  /** The 1-based party the failure is attributed to, when the protocol can tell. */
  readonly culprit: number | null;
  constructor(code: MpcErrorCode, message: string, culprit: number | null = null) {
    super(message);
    this.name = "MpcError";
    this.code = code;
    this.culprit = culprit;
  }
}

const PREFIX = "tessera-mpc:";

function translate(e: unknown): never {
  if (e instanceof MpcError) throw e;
  if (e instanceof Error && e.message.startsWith(PREFIX)) {
    const parsed = JSON.parse(e.message.slice(PREFIX.length)) as { code: MpcErrorCode; culprit: number | null; message: string };
    throw new MpcError(parsed.code, parsed.message, parsed.culprit);
  }
  // A wasm trap (a Rust panic) would land here. Inputs are validated before they reach
  // the protocol crates, so this is a bug, reported as such rather than as bad input.
  throw new MpcError("internal", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    translate(e);
  }
}

let ready: Promise<void> | undefined;
let loaded = false;
let memory: WebAssembly.Memory | undefined;

/**
 * Loads the wasm module once. Node reads wasm/pkg from disk; workerd passes the
 * WebAssembly.Module its bundler imported; a browser fetches it next to this file.
 */
export function initMpc(source?: WebAssembly.Module | BufferSource | URL | string): Promise<void> {
  if (loaded) return Promise.resolve();
  ready ??= (async () => {
    if (source instanceof WebAssembly.Module || (source && ArrayBuffer.isView(source)) || source instanceof ArrayBuffer) {
      memory = initSync({ module: source as WebAssembly.Module | BufferSource }).memory;
    } else if (source === undefined && typeof process !== "undefined" && process.versions?.node) {
      const { readFile } = await import("node:fs/promises");
      memory = initSync({ module: await readFile(new URL("./pkg/tessera_mpc_bg.wasm", import.meta.url)) }).memory;
    } else {
      memory = (await init({ module_or_path: source ?? new URL("./pkg/tessera_mpc_bg.wasm", import.meta.url) })).memory;
    }
    loaded = true;
  })();
  return ready;
}

/** Synchronous load for runtimes that already hold the module (workerd). */
export function initMpcSync(module: WebAssembly.Module | BufferSource): void {
  if (loaded) return;
  memory = initSync({ module }).memory;
  loaded = true;
}

/**
 * The module's linear memory, for tests that look for secrets left behind (a retired share after
 * a refresh must be nowhere in it: the core frees with a zeroing allocator).
 */
export function mpcMemoryBytes(): Uint8Array {
  if (!memory) throw new MpcError("not-done", "the MPC module is not loaded");
  return new Uint8Array(memory.buffer);
}

export function mpcVersion(): string {
  return wasmVersion();
}

// ---------------------------------------------------------------- envelopes

export const WIRE_VERSION = 2;
export const SESSION_ID_BYTES = 32;
export const HEADER_BYTES = 1 + SESSION_ID_BYTES + 3;

export interface MessageHeader {
  version: number;
  sessionId: Uint8Array;
  round: number;
  from: number;
  to: number;
}

/** Reads a message's envelope without touching wasm: what a transport routes on. */
export function peekHeader(message: Uint8Array): MessageHeader {
  if (message.length < HEADER_BYTES) throw new MpcError("malformed", `message of ${message.length} bytes is shorter than its header`);
  if (message[0] !== WIRE_VERSION) throw new MpcError("malformed", `unknown message version ${message[0]}`);
  return {
    version: message[0]!,
    sessionId: message.subarray(1, 1 + SESSION_ID_BYTES),
    round: message[1 + SESSION_ID_BYTES]!,
    from: message[2 + SESSION_ID_BYTES]!,
    to: message[3 + SESSION_ID_BYTES]!,
  };
}

/**
 * A message's body split as the core defines it (wasm/src/wire.rs): the broadcast part every
 * recipient of the round must see identically, and the part meant for this recipient alone.
 * The nodes' echo broadcast compares digests of broadcast parts; it needs no protocol knowledge.
 */
export function splitBody(message: Uint8Array): { broadcast: Uint8Array; direct: Uint8Array } {
  if (message.length < HEADER_BYTES + 4) throw new MpcError("malformed", "message has no body");
  const body = message.subarray(HEADER_BYTES);
  const n = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  if (n > body.length - 4) throw new MpcError("malformed", "message claims a broadcast part longer than itself");
  return { broadcast: body.subarray(4, 4 + n), direct: body.subarray(4 + n) };
}

function splitBatch(batch: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  for (let at = 0; at < batch.length; ) {
    const len = view.getUint32(at);
    out.push(batch.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** A batch ceremony's result (wasm/src/batch.rs): `count u32 | (len u32 | bytes)*`, from our own core. */
function splitBundle(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0);
  const out: Uint8Array[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(at);
    out.push(bytes.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== bytes.length) throw new MpcError("malformed", "the core returned a malformed bundle");
  return out;
}

// ---------------------------------------------------------------- key shares

export class KeyShare {
  private constructor(private readonly inner: WasmKeyShare) {}

  /** Parses exported bytes; corrupted or foreign bytes are refused with bad-input. */
  static import(bytes: Uint8Array): KeyShare {
    return new KeyShare(guard(() => WasmKeyShare.import(bytes)));
  }

  export(): Uint8Array {
    return guard(() => this.inner.export());
  }
  get scheme(): Scheme {
    return this.inner.scheme as Scheme;
  }
  get partyIndex(): number {
    return this.inner.partyIndex;
  }
  get threshold(): number {
    return this.inner.threshold;
  }
  get parties(): number {
    return this.inner.parties;
  }
  /** ECDSA: 33-byte compressed. Ed25519: 32 bytes. BIP340: 32-byte x-only. */
  publicKey(): Uint8Array {
    return guard(() => this.inner.publicKey());
  }
  /**
   * What every party must agree on after keygen/refresh: FROST the public key package (group key
   * and every party's verifying share), ECDSA the public key and chain code.
   */
  publicView(): Uint8Array {
    return guard(() => this.inner.publicView());
  }
  /** ECDSA: the BIP32 chain code (public; with publicKey() it is the xpub). */
  chainCode(): Uint8Array {
    return guard(() => this.inner.chainCode());
  }
  /** BIP32 non-hardened child public key (ECDSA), e.g. "m/0/1". */
  derivePublicKey(path: string): Uint8Array {
    return guard(() => this.inner.derivePublicKey(path));
  }
  /** @internal */
  get wasm(): WasmKeyShare {
    return this.inner;
  }
  free(): void {
    this.inner.free();
  }
}

// ---------------------------------------------------------------- ceremonies

export type CeremonyKind = "keygen" | "sign" | "refresh" | "presign" | "reshare";

export interface Signature {
  /** ECDSA: r || s (64 bytes, low-s). FROST: the 64-byte signature. */
  signature: Uint8Array;
  /** ECDSA only: the recovery id (0 or 1). */
  recid?: number;
}

export class Ceremony {
  private constructor(
    readonly kind: CeremonyKind,
    readonly scheme: Scheme,
    readonly me: number,
    private readonly session: Session,
  ) {}

  static keygen(opts: { scheme: Scheme; sessionId: Uint8Array; me: number; parties: number[]; threshold: number }): Ceremony {
    const s = guard(() => Session.keygen(opts.scheme, opts.sessionId, opts.me, Uint8Array.from(opts.parties), opts.threshold));
    return new Ceremony("keygen", opts.scheme, opts.me, s);
  }

  /** ECDSA signs a 32-byte digest with exactly `threshold` signers; FROST signs the message bytes. */
  static sign(opts: { share: KeyShare; sessionId: Uint8Array; signers: number[]; message: Uint8Array; path?: string }): Ceremony {
    const s = guard(() => Session.sign(opts.share.wasm, opts.sessionId, Uint8Array.from(opts.signers), opts.message, opts.path ?? null));
    return new Ceremony("sign", opts.share.scheme, opts.share.partyIndex, s);
  }

  /**
   * ECDSA presigning (wasm/vendor/dkls23-core/PRESIGN.md): the message-independent rounds with
   * exactly `threshold` signers, ahead of time, for a batch of presignatures in one ceremony (one
   * message per round and recipient carries every one of them; wasm/src/batch.rs). Each is made
   * under its own 32-byte id from `presignatureIds` (1 to 64, distinct, none the session id). The
   * result (`presignatures()`, in that order) is secret and single-use; each belongs to the
   * (master) key and this signer set.
   */
  static presign(opts: { share: KeyShare; sessionId: Uint8Array; signers: number[]; presignatureIds: Uint8Array[] }): Ceremony {
    const ids = new Uint8Array(opts.presignatureIds.length * SESSION_ID_BYTES);
    opts.presignatureIds.forEach((id, i) => {
      if (id.length !== SESSION_ID_BYTES) throw new MpcError("bad-input", `a presignature id is ${SESSION_ID_BYTES} bytes, not ${id.length}`);
      ids.set(id, i * SESSION_ID_BYTES);
    });
    const s = guard(() => Session.presign(opts.share.wasm, opts.sessionId, Uint8Array.from(opts.signers), ids));
    return new Ceremony("presign", opts.share.scheme, opts.share.partyIndex, s);
  }

  /**
   * ECDSA signing from a presignature this share made with these signers: one round. Erase the
   * presignature from storage before calling `start()`, which releases this party's partial
   * signature. `path` signs with a BIP32 child of the key.
   */
  static signPresigned(opts: { share: KeyShare; sessionId: Uint8Array; signers: number[]; message: Uint8Array; presignature: Uint8Array; path?: string }): Ceremony {
    const s = guard(() => Session.signPresigned(opts.share.wasm, opts.sessionId, Uint8Array.from(opts.signers), opts.message, opts.path ?? null, opts.presignature));
    return new Ceremony("sign", opts.share.scheme, opts.share.partyIndex, s);
  }

  static refresh(opts: { share: KeyShare; sessionId: Uint8Array; parties: number[] }): Ceremony {
    const s = guard(() => Session.refresh(opts.share.wasm, opts.sessionId, Uint8Array.from(opts.parties)));
    return new Ceremony("refresh", opts.share.scheme, opts.share.partyIndex, s);
  }

  /**
   * Reshare onto a new party set: the replacement takes index `target` (its holder retired) and
   * every share is refreshed. A current holder passes its `share`; the replacement, holding none
   * yet, the key's `scheme`, `threshold` and `publicKey`, which its new share must belong to.
   */
  static reshare(
    opts: { sessionId: Uint8Array; parties: number[]; target: number } & ({ share: KeyShare } | { scheme: Scheme; threshold: number; publicKey: Uint8Array }),
  ): Ceremony {
    if ("share" in opts) {
      const s = guard(() => Session.reshareHelper(opts.share.wasm, opts.sessionId, Uint8Array.from(opts.parties), opts.target));
      return new Ceremony("reshare", opts.share.scheme, opts.share.partyIndex, s);
    }
    const s = guard(() => Session.reshareTarget(opts.scheme, opts.sessionId, Uint8Array.from(opts.parties), opts.target, opts.threshold, opts.publicKey));
    return new Ceremony("reshare", opts.scheme, opts.target, s);
  }

  /** The first round's messages (each addressed by its header's `to`). */
  start(): Uint8Array[] {
    return splitBatch(guard(() => this.session.start()));
  }

  /**
   * Feeds one incoming message; returns what to send next (often nothing). Envelope
   * refusals (wrong-session, misrouted, unknown-sender, replay) leave the ceremony
   * untouched; any other failure ends it.
   */
  receive(message: Uint8Array): Uint8Array[] {
    return splitBatch(guard(() => this.session.receive(message)));
  }

  get done(): boolean {
    return this.session.done;
  }
  get round(): number {
    return this.session.round;
  }
  /** Parties whose message for the current round is still missing. */
  waitingFor(): number[] {
    return Array.from(this.session.waitingFor());
  }

  /** Raw result: key share bytes (keygen/refresh) or signature bytes (sign). */
  resultBytes(): Uint8Array {
    return guard(() => this.session.result());
  }
  /** A presigning ceremony's result: this party's presignatures, in the order of their ids (secret, single use). */
  presignatures(): Uint8Array[] {
    if (this.kind !== "presign") throw new MpcError("bad-input", `a ${this.kind} ceremony yields no presignature`);
    const bytes = this.resultBytes();
    try {
      return splitBundle(bytes);
    } finally {
      bytes.fill(0);
    }
  }
  keyShare(): KeyShare {
    if (this.kind === "sign" || this.kind === "presign") throw new MpcError("bad-input", `a ${this.kind} ceremony yields no key share`);
    return KeyShare.import(this.resultBytes());
  }
  /**
   * A signature from a presignature, once started: `x(R') || u_i' || w_i` (96 bytes), what this
   * party broadcasts in the online round plus the signature's public r, for a coordinator that
   * assembles the signature itself (shared/src/mpc/presigned.ts); null for any other ceremony.
   */
  partial(): Uint8Array | null {
    const bytes = this.session.partial();
    return bytes.length === 96 ? bytes : null;
  }
  signature(): Signature {
    if (this.kind !== "sign") throw new MpcError("bad-input", `a ${this.kind} ceremony yields a key share, not a signature`);
    const bytes = this.resultBytes();
    return this.scheme === "ecdsa-secp256k1" ? { signature: bytes.slice(0, 64), recid: bytes[64]! } : { signature: bytes };
  }
  free(): void {
    this.session.free();
  }
}

/**
 * Runs ceremonies of one session to completion in this process, delivering every message
 * to the party its header names. For tests, demos and benchmarks: the nodes do the same
 * over libp2p. `tamper` may rewrite (or drop, by returning null) a message in flight.
 */
export function runLocally(
  ceremonies: Ceremony[],
  opts: { tamper?: (message: Uint8Array, header: MessageHeader) => Uint8Array | null; onMessage?: (m: Uint8Array) => void } = {},
): void {
  const byParty = new Map(ceremonies.map((c) => [c.me, c]));
  const queue: Uint8Array[] = [];
  for (const c of ceremonies) queue.push(...c.start());
  while (queue.length > 0) {
    let message: Uint8Array | null = queue.shift()!;
    const header = peekHeader(message);
    if (opts.tamper) message = opts.tamper(message, header);
    if (message === null) continue;
    opts.onMessage?.(message);
    const target = byParty.get(header.to);
    if (!target) throw new MpcError("misrouted", `no party ${header.to} in this run`);
    queue.push(...target.receive(message));
  }
  const stuck = ceremonies.filter((c) => !c.done);
  if (stuck.length > 0) {
    throw new MpcError("not-done", `parties ${stuck.map((c) => c.me).join(", ")} did not finish (waiting for ${stuck.map((c) => c.waitingFor().join("+")).join(", ")})`);
  }
}

/**
 * One presigning ceremony of `count` presignatures run in this process (benches, demos): `shares`
 * are the signers' shares, in the order of `signers`; the result is, per signer in that order, its
 * presignatures in the order they were made (secret, single use).
 */
export function presignLocally(shares: KeyShare[], signers: number[], count = 1): Uint8Array[][] {
  const sessionId = randomSessionId();
  const presignatureIds = Array.from({ length: count }, () => randomSessionId());
  const ceremonies = shares.map((share) => Ceremony.presign({ share, sessionId, signers, presignatureIds }));
  try {
    runLocally(ceremonies);
    return ceremonies.map((c) => c.presignatures());
  } finally {
    for (const c of ceremonies) c.free();
  }
}

export function randomSessionId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES));
}
