// The node's audit trail: an append-only JSON-lines file, one line per ceremony (or refused
// request), hash-chained and signed with the node's peer key (Ed25519).
//
//   line      = canonicalJson({ seq, prev, entry, hash, signature })
//   hash      = SHA-256( "tessera.mpc-node.audit.v1\n" || canonicalJson({ seq, prev, entry }) )
//   signature = Ed25519(peer key, hash)
//   prev      = the previous line's hash (64 zeros for seq 1)
//
// Editing an entry breaks its hash (and the signature cannot be redone without the peer key);
// removing one breaks the seq/prev chain; cutting the tail is caught by the head (last seq and
// hash) the node keeps in its database. Export the log elsewhere to survive a node that rewrites
// both. Entries hold no secrets: ids, digests, public keys, signatures, outcomes and timings.
//
// Signing goes through node:crypto (OpenSSL) rather than noble: a line is written per ceremony and
// noble's Ed25519 signing cost ≈ 2 ms of each signature's node CPU; Ed25519 is deterministic, so
// both produce the same bytes (the unit test checks one against the other).
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { createHash, createPrivateKey, sign as ed25519Sign, type KeyObject } from "node:crypto";
import { closeSync, existsSync, fdatasyncSync, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { canonicalJson } from "../../../shared/src/mpc/canonical-json.js";
import { fdatasyncAsync } from "./group-commit.js";

export const AUDIT_DOMAIN = "tessera.mpc-node.audit.v1";
const GENESIS = "0".repeat(64);

export type AuditEntry = Record<string, unknown>;

export interface AuditLine {
  seq: number;
  prev: string;
  entry: AuditEntry;
  hash: string;
  signature: string;
}

export interface AuditHeadStore {
  auditHead(): { seq: number; hash: string } | null;
  setAuditHead(seq: number, hash: string): void;
}

function lineHash(seq: number, prev: string, entry: AuditEntry): Uint8Array {
  return hashOfEncoded(seq, prev, canonicalJson(entry));
}

/**
 * The same hash from the entry's canonical encoding: canonicalJson({seq, prev, entry}) is
 * `{"entry":E,"prev":…,"seq":…}` (keys in order), so appending encodes the entry once for both the
 * hash and the line. SHA-256 through node:crypto: the result is the same function's.
 */
function hashOfEncoded(seq: number, prev: string, encodedEntry: string): Uint8Array {
  const d = createHash("sha256").update(`${AUDIT_DOMAIN}\n{"entry":${encodedEntry},"prev":${JSON.stringify(prev)},"seq":${seq}}`).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export class AuditLog {
  private readonly fd: number;
  private readonly key: KeyObject;
  private seq: number;
  private last: string;
  /** Group commit: the last line known to be on disk (and recorded as the head). */
  private syncedSeq = 0;

  /**
   * @param signingSeed the 32-byte Ed25519 seed of the node's peer key
   */
  constructor(
    readonly path: string,
    signingSeed: Uint8Array,
    private readonly head: AuditHeadStore,
    /**
     * true: each line is synced as it is appended; "group": appended lines are synced by sync()
     * (a caller awaits it before anything that depends on the line leaves the node), one disk
     * sync for every line appended meanwhile; false: never synced (tests, benches).
     */
    private readonly fsync: boolean | "group" = true,
  ) {
    const tail = existsSync(path) ? lastLine(path) : null;
    const known = head.auditHead();
    if (tail) {
      const parsed = JSON.parse(tail) as AuditLine;
      if (known && (parsed.seq < known.seq || (parsed.seq === known.seq && parsed.hash !== known.hash))) {
        throw new Error(`audit log ${path} ends at entry ${parsed.seq}, but the node recorded entry ${known.seq}: the log was truncated or replaced`);
      }
      this.seq = parsed.seq;
      this.last = parsed.hash;
    } else {
      if (known) throw new Error(`audit log ${path} is missing, but the node recorded ${known.seq} entries`);
      this.seq = 0;
      this.last = GENESIS;
    }
    this.fd = openSync(path, "a", 0o600);
    this.key = ed25519PrivateKey(signingSeed);
  }

  append(entry: AuditEntry): AuditLine {
    const seq = this.seq + 1;
    const encoded = canonicalJson(entry);
    const hash = hashOfEncoded(seq, this.last, encoded);
    const line: AuditLine = { seq, prev: this.last, entry, hash: bytesToHex(hash), signature: bytesToHex(ed25519Sign(null, hash, this.key)) };
    // canonicalJson(line), with the entry's encoding reused (keys in order: entry, hash, prev, seq, signature).
    writeSync(this.fd, `{"entry":${encoded},"hash":"${line.hash}","prev":"${line.prev}","seq":${seq},"signature":"${line.signature}"}\n`);
    if (this.fsync === true) fdatasyncSync(this.fd);
    // The head may lag the log after a crash, never lead it: group-committed, it is recorded by
    // sync() once the line is on disk.
    if (this.fsync !== "group") this.head.setAuditHead(seq, line.hash);
    this.seq = seq;
    this.last = line.hash;
    return line;
  }

  /** Resolves once every line appended so far is on disk (at once unless group-committed). */
  async sync(): Promise<void> {
    if (this.fsync !== "group") return;
    const seq = this.seq;
    const hash = this.last;
    await fdatasyncAsync(this.fd);
    if (seq > this.syncedSeq) {
      this.syncedSeq = seq;
      this.head.setAuditHead(seq, hash);
    }
  }

  /** The last entry's seq and hash: what this node signs into its round messages for its peers to record. */
  currentHead(): { seq: number; hash: string } {
    return { seq: this.seq, hash: this.last };
  }

  get length(): number {
    return this.seq;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The 32-byte Ed25519 seed as an OpenSSL key (PKCS#8: the fixed RFC 8410 prefix, then the seed). */
export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
}

/** Reads the last non-empty line without loading the whole file. */
function lastLine(path: string): string | null {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let chunk = 64 * 1024;
    while (true) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const text = buf.toString("utf8").replace(/\n+$/, "");
      const nl = text.lastIndexOf("\n");
      if (nl >= 0 || start === 0) return text.length === 0 ? null : text.slice(nl + 1);
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

export type AuditVerdict = { ok: true; entries: number; head: { seq: number; hash: string } | null } | { ok: false; entries: number; line: number; reason: string };

/**
 * Checks every line: well-formed, consecutive seq, prev = previous hash, hash recomputed,
 * signature by `publicKey`; then that the log reaches the recorded head (if given).
 */
export function verifyAuditText(text: string, publicKey: Uint8Array, head: { seq: number; hash: string } | null = null): AuditVerdict {
  const lines = text.split("\n").filter((l, i, all) => l.length > 0 || i < all.length - 1);
  let prev = GENESIS;
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const fail = (reason: string): AuditVerdict => ({ ok: false, entries: n, line: i + 1, reason });
    let line: AuditLine;
    try {
      line = JSON.parse(raw) as AuditLine;
    } catch {
      return fail("not JSON");
    }
    if (typeof line !== "object" || line === null || typeof line.seq !== "number" || typeof line.prev !== "string" || typeof line.hash !== "string" || typeof line.signature !== "string" || typeof line.entry !== "object") {
      return fail("not an audit line");
    }
    if (line.seq !== n + 1) return fail(`entry ${line.seq} where ${n + 1} was expected (an entry was removed or reordered)`);
    if (line.prev !== prev) return fail(`entry ${line.seq} does not chain to the entry before it`);
    let expected: Uint8Array;
    try {
      expected = lineHash(line.seq, line.prev, line.entry);
    } catch (e) {
      return fail(`entry ${line.seq} cannot be re-encoded: ${(e as Error).message}`);
    }
    if (bytesToHex(expected) !== line.hash) return fail(`entry ${line.seq} was altered (its hash does not match its content)`);
    let signed = false;
    try {
      signed = ed25519.verify(hexToBytes(line.signature), expected, publicKey, { zip215: false });
    } catch {
      signed = false;
    }
    if (!signed) return fail(`entry ${line.seq} is not signed by this node's key`);
    if (canonicalJson(line) !== raw) return fail(`entry ${line.seq} is not in canonical form (edited?)`);
    prev = line.hash;
    n = line.seq;
  }
  if (head) {
    if (n < head.seq) return { ok: false, entries: n, line: lines.length, reason: `the log ends at entry ${n}, but the node recorded ${head.seq} entries (truncated)` };
    const at = lines[head.seq - 1];
    if (head.seq > 0 && (!at || (JSON.parse(at) as AuditLine).hash !== head.hash)) return { ok: false, entries: n, line: head.seq, reason: `entry ${head.seq} is not the one the node recorded` };
  }
  return { ok: true, entries: n, head: n === 0 ? null : { seq: n, hash: prev } };
}

export function readAuditLines(path: string): AuditLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AuditLine);
}
