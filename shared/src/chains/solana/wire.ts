// Solana's wire format, read strictly and written canonically: a transaction is its signatures
// followed by the message they sign; a message (legacy or v0) is a header, the account keys, a
// recent blockhash and compiled instructions that point into the keys by index.
//
//   transaction  compact-u16 n · n × 64-byte signature · message
//   message      [0x80 | version]? · numRequiredSignatures · numReadonlySigned · numReadonlyUnsigned
//                · compact-u16 k · k × 32-byte key · 32-byte blockhash
//                · compact-u16 m · m × (programIdIndex · compact-u16 a · a × u8 · compact-u16 d · d bytes)
//                · (v0 only) compact-u16 l · l × (32-byte table · compact u8[] writable · compact u8[] readonly)
//
// Both the edge (which builds) and every share holder (which checks) run this code; a decoder
// that guessed at trailing bytes or lax lengths would let two parties read one message two ways.
import { base58 } from "@scure/base";

export class SolanaWireError extends Error {
  override name = "SolanaWireError";
}

export interface CompiledInstruction {
  programIdIndex: number;
  accountIndices: number[];
  data: Uint8Array;
}

export interface AddressTableLookup {
  table: string;
  writableIndices: number[];
  readonlyIndices: number[];
}

export interface SolanaMessage {
  version: "legacy" | 0;
  header: { numRequiredSignatures: number; numReadonlySigned: number; numReadonlyUnsigned: number };
  /** Base58 addresses, static keys only (v0 lookups are listed separately). */
  accountKeys: string[];
  recentBlockhash: string;
  instructions: CompiledInstruction[];
  addressTableLookups: AddressTableLookup[];
}

export interface SolanaTransaction {
  /** One per required signer, in account-key order; all-zero bytes where a signature is missing. */
  signatures: Uint8Array[];
  messageBytes: Uint8Array;
  message: SolanaMessage;
}

// ------------------------------------------------------------------ addresses

/** A 32-byte key as base58; refuses anything else. */
export function addressBytes(address: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(address);
  } catch {
    throw new SolanaWireError(`${JSON.stringify(address.slice(0, 64))} is not a base58 address`);
  }
  if (bytes.length !== 32) throw new SolanaWireError(`${address} is ${bytes.length} bytes, a Solana address is 32`);
  return bytes;
}

export const addressOf = (bytes: Uint8Array): string => base58.encode(bytes);

export function isSolanaAddress(address: string): boolean {
  if (typeof address !== "string" || address.length < 32 || address.length > 44) return false;
  try {
    addressBytes(address);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ reading

class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  u8(what: string): number {
    if (this.at >= this.bytes.length) throw new SolanaWireError(`truncated at ${what}`);
    return this.bytes[this.at++]!;
  }
  take(n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) throw new SolanaWireError(`truncated at ${what}`);
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** compact-u16 (shortvec): 1–3 bytes, 7 bits each; the shortest encoding only, as the runtime requires. */
  compactU16(what: string): number {
    let value = 0;
    for (let i = 0; i < 3; i++) {
      const b = this.u8(what);
      if (i === 2 && b > 0x03) throw new SolanaWireError(`${what}: compact-u16 overflows`);
      value |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new SolanaWireError(`${what}: compact-u16 is not in its shortest form`);
        return value;
      }
    }
    throw new SolanaWireError(`${what}: compact-u16 is longer than 3 bytes`);
  }
  get offset(): number {
    return this.at;
  }
  done(what: string): void {
    if (this.at !== this.bytes.length) throw new SolanaWireError(`${this.bytes.length - this.at} unexpected bytes after the ${what}`);
  }
}

function readMessage(r: Reader): SolanaMessage {
  let version: SolanaMessage["version"] = "legacy";
  let first = r.u8("message header");
  if (first & 0x80) {
    const v = first & 0x7f;
    if (v !== 0) throw new SolanaWireError(`message version ${v} is not supported`);
    version = 0;
    first = r.u8("message header");
  }
  const header = { numRequiredSignatures: first, numReadonlySigned: r.u8("message header"), numReadonlyUnsigned: r.u8("message header") };
  const keyCount = r.compactU16("account keys");
  const accountKeys: string[] = [];
  for (let i = 0; i < keyCount; i++) accountKeys.push(addressOf(r.take(32, "account keys")));
  if (header.numRequiredSignatures === 0) throw new SolanaWireError("a message needs at least one signer (the fee payer)");
  if (header.numRequiredSignatures > keyCount) throw new SolanaWireError("more signers than account keys");
  if (header.numReadonlySigned >= header.numRequiredSignatures) throw new SolanaWireError("the fee payer must be a writable signer");
  if (header.numReadonlyUnsigned > keyCount - header.numRequiredSignatures) throw new SolanaWireError("more read-only unsigned accounts than unsigned accounts");
  if (new Set(accountKeys).size !== accountKeys.length) throw new SolanaWireError("an account key is listed twice");
  const recentBlockhash = addressOf(r.take(32, "recent blockhash"));
  const ixCount = r.compactU16("instructions");
  const instructions: CompiledInstruction[] = [];
  for (let i = 0; i < ixCount; i++) {
    const programIdIndex = r.u8(`instruction ${i}`);
    const n = r.compactU16(`instruction ${i} accounts`);
    const accountIndices: number[] = [];
    for (let j = 0; j < n; j++) accountIndices.push(r.u8(`instruction ${i} accounts`));
    const data = r.take(r.compactU16(`instruction ${i} data`), `instruction ${i} data`);
    instructions.push({ programIdIndex, accountIndices, data });
  }
  const addressTableLookups: AddressTableLookup[] = [];
  if (version === 0) {
    const l = r.compactU16("address table lookups");
    for (let i = 0; i < l; i++) {
      const table = addressOf(r.take(32, "address table"));
      const indices = (what: string) => {
        const n = r.compactU16(what);
        return Array.from(r.take(n, what));
      };
      addressTableLookups.push({ table, writableIndices: indices("writable lookups"), readonlyIndices: indices("read-only lookups") });
    }
  }
  const total = keyCount + addressTableLookups.reduce((s, t) => s + t.writableIndices.length + t.readonlyIndices.length, 0);
  for (const [i, ix] of instructions.entries()) {
    if (ix.programIdIndex >= total || ix.accountIndices.some((a) => a >= total)) throw new SolanaWireError(`instruction ${i} points past the account list`);
  }
  return { version, header, accountKeys, recentBlockhash, instructions, addressTableLookups };
}

/** A message exactly as signed (no signatures before it). */
export function decodeMessage(bytes: Uint8Array): SolanaMessage {
  const r = new Reader(bytes);
  const m = readMessage(r);
  r.done("message");
  return m;
}

/** A full transaction: the signature slots, then the message. */
export function decodeTransaction(bytes: Uint8Array): SolanaTransaction {
  const r = new Reader(bytes);
  const n = r.compactU16("signatures");
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < n; i++) signatures.push(r.take(64, "signatures"));
  const start = r.offset;
  const message = readMessage(r);
  r.done("transaction");
  if (n !== message.header.numRequiredSignatures) throw new SolanaWireError(`${n} signature slots for ${message.header.numRequiredSignatures} required signers`);
  return { signatures, messageBytes: bytes.slice(start), message };
}

// ------------------------------------------------------------------ writing

function compactU16(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new SolanaWireError(`${n} does not fit a compact-u16`);
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if (n === 0) return (out.push(b), out);
    out.push(b | 0x80);
  }
}

function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

export function encodeMessage(m: SolanaMessage): Uint8Array {
  const parts: (Uint8Array | number[])[] = [];
  if (m.version === 0) parts.push([0x80]);
  parts.push([m.header.numRequiredSignatures, m.header.numReadonlySigned, m.header.numReadonlyUnsigned]);
  parts.push(compactU16(m.accountKeys.length), ...m.accountKeys.map(addressBytes));
  parts.push(addressBytes(m.recentBlockhash));
  parts.push(compactU16(m.instructions.length));
  for (const ix of m.instructions) parts.push([ix.programIdIndex], compactU16(ix.accountIndices.length), ix.accountIndices, compactU16(ix.data.length), ix.data);
  if (m.version === 0) {
    parts.push(compactU16(m.addressTableLookups.length));
    for (const t of m.addressTableLookups) parts.push(addressBytes(t.table), compactU16(t.writableIndices.length), t.writableIndices, compactU16(t.readonlyIndices.length), t.readonlyIndices);
  } else if (m.addressTableLookups.length) throw new SolanaWireError("a legacy message has no address table lookups");
  return concat(parts);
}

/** Signatures (missing ones as 64 zero bytes) followed by the message bytes. */
export function encodeTransaction(signatures: Uint8Array[], messageBytes: Uint8Array): Uint8Array {
  for (const s of signatures) if (s.length !== 64) throw new SolanaWireError("a signature is 64 bytes");
  return concat([compactU16(signatures.length), ...signatures, messageBytes]);
}

/** The transaction with `signer`'s slot filled (the signer must be one of its required signers). */
export function withSignature(tx: SolanaTransaction, signer: string, signature: Uint8Array): Uint8Array {
  const slot = tx.message.accountKeys.slice(0, tx.message.header.numRequiredSignatures).indexOf(signer);
  if (slot < 0) throw new SolanaWireError(`${signer} is not a signer of this transaction`);
  const signatures = tx.signatures.map((s, i) => (i === slot ? signature : s));
  return encodeTransaction(signatures, tx.messageBytes);
}

// ------------------------------------------------------------------ building

export interface AccountMeta {
  address: string;
  signer: boolean;
  writable: boolean;
}

export interface Instruction {
  programId: string;
  accounts: AccountMeta[];
  data: Uint8Array;
}

/**
 * Compiles instructions into a legacy message the way the reference clients do: the fee payer
 * first, then writable signers, read-only signers, writable and read-only non-signers (each
 * group in first-seen order); every program id is a read-only non-signer.
 */
export function compileMessage(input: { feePayer: string; recentBlockhash: string; instructions: Instruction[] }): SolanaMessage {
  const metas = new Map<string, { signer: boolean; writable: boolean }>();
  const note = (address: string, signer: boolean, writable: boolean) => {
    addressBytes(address);
    const m = metas.get(address);
    if (m) (m.signer ||= signer), (m.writable ||= writable);
    else metas.set(address, { signer, writable });
  };
  note(input.feePayer, true, true);
  for (const ix of input.instructions) {
    for (const a of ix.accounts) note(a.address, a.signer, a.writable);
    note(ix.programId, false, false);
  }
  const entries = [...metas.entries()];
  const group = (signer: boolean, writable: boolean) => entries.filter(([, m]) => m.signer === signer && m.writable === writable).map(([a]) => a);
  const keys = [input.feePayer, ...group(true, true).filter((a) => a !== input.feePayer), ...group(true, false), ...group(false, true), ...group(false, false)];
  const index = new Map(keys.map((k, i) => [k, i]));
  return {
    version: "legacy",
    header: {
      numRequiredSignatures: group(true, true).length + group(true, false).length,
      numReadonlySigned: group(true, false).length,
      numReadonlyUnsigned: group(false, false).length,
    },
    accountKeys: keys,
    recentBlockhash: input.recentBlockhash,
    instructions: input.instructions.map((ix) => ({ programIdIndex: index.get(ix.programId)!, accountIndices: ix.accounts.map((a) => index.get(a.address)!), data: ix.data })),
    addressTableLookups: [],
  };
}

/** Whether the account at `index` of a message is a signer / writable (static keys only). */
export function accountRole(m: SolanaMessage, index: number): { signer: boolean; writable: boolean } {
  const { numRequiredSignatures: s, numReadonlySigned: rs, numReadonlyUnsigned: ru } = m.header;
  const n = m.accountKeys.length;
  if (index < s) return { signer: true, writable: index < s - rs };
  return { signer: false, writable: index < n - ru };
}
