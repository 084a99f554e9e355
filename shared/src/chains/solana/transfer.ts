// A Solana transfer as a message, and the share holders' check that a message is exactly the
// transfer the user asked for. The check does not interpret the edge's message leniently: it
// rebuilds the one message the user's body allows (the only inputs not in the body are the
// recent blockhash, which only picks the transaction's lifetime, and a token's decimals, which
// TransferChecked makes the token program verify on chain) and requires the same bytes.
//
//   Native   [Memo?] · System Transfer(wallet → to, amount)
//   Spl      [Memo?] · [CreateIdempotent(ATA(to, mint)) if createDestinationAccount]
//            · TransferChecked(ATA(wallet, mint) → ATA(to, mint), amount, decimals)
//
// The wallet is the fee payer and the only signer, so the fee is the base fee for one signature
// and nothing else the wallet owns can move. No compute-budget instructions: a priority fee is a
// price the user did not name.
import { z } from "zod";
import { associatedTokenAddress, createAssociatedTokenAccountIdempotent, memo as memoInstruction, systemTransfer, TOKEN_PROGRAM_OF, tokenTransferChecked } from "./programs.js";
import { compileMessage, decodeMessage, encodeMessage, isSolanaAddress, SolanaWireError, type Instruction, type SolanaMessage } from "./wire.js";

export class SolanaTransferError extends Error {
  override name = "SolanaTransferError";
}

const address = z.string().refine(isSolanaAddress, "must be a base58 Solana address");
const amount = z
  .string()
  .regex(/^[0-9]{1,20}$/, "must be a decimal integer in the smallest unit")
  .refine((a) => BigInt(a) > 0n && BigInt(a) < 1n << 64n, "must be between 1 and 2^64 - 1");
// Memo program: at most 566 bytes fit a transaction; Dfns sends "" for none.
const memo = z.string().max(512).optional();

/** The fields of a Dfns transfer body that decide a Solana transaction (others are refused or ignored by the route). */
export const solanaTransferBody = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("Native"), to: address, amount, memo }),
  z.strictObject({ kind: z.enum(["Spl", "Spl2022"]), mint: address, to: address, amount, memo, createDestinationAccount: z.boolean().optional() }),
]);
export type SolanaTransferBody = z.infer<typeof solanaTransferBody>;

/** The body as signed by the user, reduced to the fields above (absent, "" and false normalised away). */
export function normalizeSolanaTransfer(body: Record<string, unknown>): SolanaTransferBody {
  const pick: Record<string, unknown> = { kind: body.kind, to: body.to, amount: body.amount };
  if (body.memo !== undefined && body.memo !== "") pick.memo = body.memo;
  if (body.kind === "Spl" || body.kind === "Spl2022") {
    pick.mint = body.mint;
    if (body.createDestinationAccount !== undefined && body.createDestinationAccount !== false) pick.createDestinationAccount = body.createDestinationAccount;
  }
  const parsed = solanaTransferBody.safeParse(pick);
  if (!parsed.success) throw new SolanaTransferError(parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  return parsed.data;
}

/** The instructions a transfer consists of. `decimals` is needed for tokens only. */
export function transferInstructions(t: SolanaTransferBody, wallet: string, decimals?: number): Instruction[] {
  const out: Instruction[] = [];
  if (t.memo !== undefined) out.push(memoInstruction(t.memo));
  if (t.kind === "Native") {
    if (t.to === wallet) throw new SolanaTransferError("a wallet cannot pay itself");
    out.push(systemTransfer(wallet, t.to, BigInt(t.amount)));
    return out;
  }
  if (decimals === undefined) throw new SolanaTransferError("a token transfer needs the mint's decimals");
  const tokenProgram = TOKEN_PROGRAM_OF[t.kind];
  if (t.createDestinationAccount) out.push(createAssociatedTokenAccountIdempotent({ payer: wallet, owner: t.to, mint: t.mint, tokenProgram }));
  out.push(
    tokenTransferChecked({
      source: associatedTokenAddress(wallet, t.mint, tokenProgram),
      mint: t.mint,
      destination: associatedTokenAddress(t.to, t.mint, tokenProgram),
      owner: wallet,
      amount: BigInt(t.amount),
      decimals,
      tokenProgram,
    }),
  );
  return out;
}

/** The edge: the unsigned message for a transfer, with the wallet as fee payer. */
export function buildTransferMessage(t: SolanaTransferBody, wallet: string, recentBlockhash: string, decimals?: number): Uint8Array {
  return encodeMessage(compileMessage({ feePayer: wallet, recentBlockhash, instructions: transferInstructions(t, wallet, decimals) }));
}

/**
 * A share holder: throws SolanaTransferError unless `messageBytes` is exactly the message
 * `buildTransferMessage` makes for this body and wallet (any blockhash; for tokens, the decimals
 * the message states, which the token program checks against the mint).
 */
export function checkTransferMessage(t: SolanaTransferBody, wallet: string, messageBytes: Uint8Array): SolanaMessage {
  let m: SolanaMessage;
  try {
    m = decodeMessage(messageBytes);
  } catch (e) {
    if (e instanceof SolanaWireError) throw new SolanaTransferError(`not a Solana message: ${e.message}`);
    throw e;
  }
  if (m.version !== "legacy") throw new SolanaTransferError("a transfer is a legacy message");
  if (m.accountKeys[0] !== wallet) throw new SolanaTransferError(`the fee payer is ${m.accountKeys[0]}, not the wallet ${wallet}`);
  if (m.header.numRequiredSignatures !== 1) throw new SolanaTransferError(`the message needs ${m.header.numRequiredSignatures} signers; a transfer is signed by the wallet alone`);
  let decimals: number | undefined;
  if (t.kind !== "Native") {
    const last = m.instructions[m.instructions.length - 1];
    if (!last || last.data.length !== 10 || last.data[0] !== 12) throw new SolanaTransferError("the message does not end in a token TransferChecked");
    decimals = last.data[9];
  }
  const expected = buildTransferMessage(t, wallet, m.recentBlockhash, decimals);
  if (!sameBytes(expected, messageBytes)) throw new SolanaTransferError(`the message is not the ${t.kind} transfer the user asked for: ${firstDifference(decodeMessage(expected), m)}`);
  return m;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A readable hint at where the edge's message departs from the expected one. */
function firstDifference(expected: SolanaMessage, got: SolanaMessage): string {
  if (expected.instructions.length !== got.instructions.length) return `${got.instructions.length} instructions, expected ${expected.instructions.length}`;
  for (let i = 0; i < expected.instructions.length; i++) {
    const e = expected.instructions[i]!;
    const g = got.instructions[i]!;
    const key = (m: SolanaMessage, n: number) => m.accountKeys[n] ?? `lookup #${n}`;
    if (key(expected, e.programIdIndex) !== key(got, g.programIdIndex)) return `instruction ${i} calls ${key(got, g.programIdIndex)}, expected ${key(expected, e.programIdIndex)}`;
    const ea = e.accountIndices.map((n) => key(expected, n)).join(",");
    const ga = g.accountIndices.map((n) => key(got, n)).join(",");
    if (ea !== ga) return `instruction ${i} uses accounts ${ga}, expected ${ea}`;
    if (!sameBytes(e.data, g.data)) return `instruction ${i} carries different data (amount or kind)`;
  }
  return "its header or account order differs";
}
