// The few on-chain programs a Solana transfer touches, and their instruction layouts:
//   System       Transfer (u32 LE 2 · u64 LE lamports), accounts [from (signer, writable), to (writable)]
//   SPL Token    TransferChecked (u8 12 · u64 LE amount · u8 decimals),
//                accounts [source, mint, destination, owner (signer)] — the same in Token-2022
//   Associated   CreateIdempotent (u8 1), accounts [payer, ata, owner, mint, System, token program]
//   Memo         the memo's UTF-8 bytes, no accounts
// and the associated-token-account address: the program-derived address of
// [owner, token program, mint] under the Associated Token program.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { addressBytes, addressOf, SolanaWireError, type Instruction } from "./wire.js";

export const SYSTEM_PROGRAM = "11111111111111111111111111111111";
export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
export const ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
export const MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

/** Dfns's token kinds and the program each one means. */
export const TOKEN_PROGRAM_OF = { Spl: TOKEN_PROGRAM, Spl2022: TOKEN_2022_PROGRAM } as const;

const U64_MAX = (1n << 64n) - 1n;

export function u64le(n: bigint): Uint8Array {
  if (n < 0n || n > U64_MAX) throw new SolanaWireError(`${n} does not fit in a u64`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

export function readU64le(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
}

// ------------------------------------------------------------------ addresses

function onCurve(bytes: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(bytes);
    return true;
  } catch {
    return false;
  }
}

const PDA_MARKER = new TextEncoder().encode("ProgramDerivedAddress");

/** The runtime's find_program_address: the highest bump whose hash is off the curve. */
export function findProgramAddress(seeds: Uint8Array[], programId: string): { address: string; bump: number } {
  const program = addressBytes(programId);
  for (let bump = 255; bump >= 0; bump--) {
    const h = sha256.create();
    for (const s of seeds) h.update(s);
    h.update(Uint8Array.of(bump)).update(program).update(PDA_MARKER);
    const candidate = h.digest();
    if (!onCurve(candidate)) return { address: addressOf(candidate), bump };
  }
  throw new SolanaWireError("no program address found");
}

/** The owner's associated token account for a mint. */
export function associatedTokenAddress(owner: string, mint: string, tokenProgram: string = TOKEN_PROGRAM): string {
  return findProgramAddress([addressBytes(owner), addressBytes(tokenProgram), addressBytes(mint)], ASSOCIATED_TOKEN_PROGRAM).address;
}

// ------------------------------------------------------------------ instructions

export function systemTransfer(from: string, to: string, lamports: bigint): Instruction {
  const data = new Uint8Array(12);
  data.set([2, 0, 0, 0]);
  data.set(u64le(lamports), 4);
  return {
    programId: SYSTEM_PROGRAM,
    accounts: [
      { address: from, signer: true, writable: true },
      { address: to, signer: false, writable: true },
    ],
    data,
  };
}

export function tokenTransferChecked(o: { source: string; mint: string; destination: string; owner: string; amount: bigint; decimals: number; tokenProgram: string }): Instruction {
  if (!Number.isInteger(o.decimals) || o.decimals < 0 || o.decimals > 255) throw new SolanaWireError("decimals must be a u8");
  return {
    programId: o.tokenProgram,
    accounts: [
      { address: o.source, signer: false, writable: true },
      { address: o.mint, signer: false, writable: false },
      { address: o.destination, signer: false, writable: true },
      { address: o.owner, signer: true, writable: false },
    ],
    data: Uint8Array.from([12, ...u64le(o.amount), o.decimals]),
  };
}

export function createAssociatedTokenAccountIdempotent(o: { payer: string; owner: string; mint: string; tokenProgram: string }): Instruction {
  return {
    programId: ASSOCIATED_TOKEN_PROGRAM,
    accounts: [
      { address: o.payer, signer: true, writable: true },
      { address: associatedTokenAddress(o.owner, o.mint, o.tokenProgram), signer: false, writable: true },
      { address: o.owner, signer: false, writable: false },
      { address: o.mint, signer: false, writable: false },
      { address: SYSTEM_PROGRAM, signer: false, writable: false },
      { address: o.tokenProgram, signer: false, writable: false },
    ],
    data: Uint8Array.of(1),
  };
}

export function memo(text: string): Instruction {
  return { programId: MEMO_PROGRAM, accounts: [], data: new TextEncoder().encode(text) };
}

// ------------------------------------------------------------------ account layouts

/** An SPL mint account (82 bytes, also the base of a Token-2022 mint): decimals and supply. */
export function parseMint(data: Uint8Array): { decimals: number; supply: bigint; initialized: boolean } | null {
  if (data.length < 82) return null;
  return { supply: readU64le(data, 36), decimals: data[44]!, initialized: data[45] === 1 };
}

/** An SPL token account (165 bytes, the base of a Token-2022 one): mint, owner, amount. */
export function parseTokenAccount(data: Uint8Array): { mint: string; owner: string; amount: bigint; state: number } | null {
  if (data.length < 165) return null;
  return { mint: addressOf(data.slice(0, 32)), owner: addressOf(data.slice(32, 64)), amount: readU64le(data, 64), state: data[108]! };
}
