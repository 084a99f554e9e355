// The Solana wire codec and the share holders' transfer check, against an independent
// implementation (@solana/kit and the @solana-program clients), and the ways a lying edge could
// try to bend a transfer.
import { getTransferSolInstruction } from "@solana-program/system";
import { findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstruction, getTransferCheckedInstruction, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import {
  appendTransactionMessageInstructions,
  address as kitAddress,
  type Blockhash,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getBase58Decoder,
  getCompiledTransactionMessageDecoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from "@solana/kit";
import { ed25519 } from "@noble/curves/ed25519.js";
import { base58 } from "@scure/base";
import { describe, expect, it } from "vitest";
import { associatedTokenAddress, memo, systemTransfer, TOKEN_PROGRAM } from "./programs.js";
import { buildTransferMessage, checkTransferMessage, normalizeSolanaTransfer, SolanaTransferError, type SolanaTransferBody } from "./transfer.js";
import { accountRole, compileMessage, decodeMessage, decodeTransaction, encodeMessage, encodeTransaction, SolanaWireError, withSignature } from "./wire.js";

const key = () => base58.encode(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const wallet = key();
const to = key();
const mint = key();
const blockhash = key();

/** A message with its indices resolved: what the runtime sees (account order within a role group is free). */
function resolved(bytes: Uint8Array) {
  const m = decodeMessage(bytes);
  return {
    header: m.header,
    feePayer: m.accountKeys[0],
    blockhash: m.recentBlockhash,
    instructions: m.instructions.map((ix) => ({
      program: m.accountKeys[ix.programIdIndex],
      accounts: ix.accountIndices.map((i) => ({ address: m.accountKeys[i], ...accountRole(m, i) })),
      data: Array.from(ix.data),
    })),
  };
}

function kitMessage(instructions: Parameters<typeof appendTransactionMessageInstructions>[0]) {
  const msg = pipe(
    createTransactionMessage({ version: "legacy" }),
    (m) => setTransactionMessageFeePayer(kitAddress(wallet), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: blockhash as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return new Uint8Array(compileTransaction(msg).messageBytes);
}

describe("Solana wire format", () => {
  it("a native transfer is what @solana/kit compiles", () => {
    const ours = buildTransferMessage({ kind: "Native", to, amount: "1500000000" }, wallet, blockhash);
    const theirs = kitMessage([getTransferSolInstruction({ source: createNoopSigner(kitAddress(wallet)), destination: kitAddress(to), amount: 1_500_000_000n })]);
    // Two accounts and a program: only one order is possible, so the bytes agree exactly.
    expect(ours).toEqual(theirs);
  });

  it("an SPL transfer (with the recipient's account created) is what @solana/kit and @solana-program/token compile", async () => {
    const owner = createNoopSigner(kitAddress(wallet));
    const [source] = await findAssociatedTokenPda({ owner: kitAddress(wallet), mint: kitAddress(mint), tokenProgram: TOKEN_PROGRAM_ADDRESS });
    const [destination] = await findAssociatedTokenPda({ owner: kitAddress(to), mint: kitAddress(mint), tokenProgram: TOKEN_PROGRAM_ADDRESS });
    expect(associatedTokenAddress(wallet, mint)).toBe(source);
    expect(associatedTokenAddress(to, mint, TOKEN_PROGRAM)).toBe(destination);
    const theirs = kitMessage([
      getCreateAssociatedTokenIdempotentInstruction({ payer: owner, ata: destination, owner: kitAddress(to), mint: kitAddress(mint) }),
      getTransferCheckedInstruction({ source, mint: kitAddress(mint), destination, authority: owner, amount: 42n, decimals: 6 }),
    ]);
    const ours = buildTransferMessage({ kind: "Spl", mint, to, amount: "42", createDestinationAccount: true }, wallet, blockhash, 6);
    // kit sorts accounts within a role group by address; we keep first-seen order (no locale
    // collation in a consensus rule). Resolved, the messages are the same.
    expect(resolved(ours)).toEqual(resolved(theirs));
  });

  it("decodes what kit encodes, and re-encodes it to the same bytes", () => {
    const bytes = buildTransferMessage({ kind: "Native", to, amount: "7", memo: "invoice 12" }, wallet, blockhash);
    const m = decodeMessage(bytes);
    expect(encodeMessage(m)).toEqual(bytes);
    const kit = getCompiledTransactionMessageDecoder().decode(bytes);
    expect(kit.staticAccounts).toEqual(m.accountKeys);
    expect(kit.header.numSignerAccounts).toBe(m.header.numRequiredSignatures);
    expect(kit.lifetimeToken).toBe(m.recentBlockhash);
  });

  it("a transaction: signature slots then the message; the wallet's slot filled, as kit serialises it", () => {
    const bytes = buildTransferMessage({ kind: "Native", to, amount: "7" }, wallet, blockhash);
    const unsigned = encodeTransaction([new Uint8Array(64)], bytes);
    const tx = decodeTransaction(unsigned);
    expect(tx.messageBytes).toEqual(bytes);
    const sig = new Uint8Array(64).fill(9);
    const signed = withSignature(tx, wallet, sig);
    const kit = getTransactionEncoder().encode({ messageBytes: bytes as never, signatures: { [wallet]: sig } as never });
    expect(signed).toEqual(new Uint8Array(kit));
    expect(() => withSignature(tx, to, sig)).toThrow(/not a signer/);
  });

  it("refuses trailing bytes, truncation, non-minimal lengths and bad slot counts", () => {
    const bytes = buildTransferMessage({ kind: "Native", to, amount: "7" }, wallet, blockhash);
    expect(() => decodeMessage(Uint8Array.from([...bytes, 0]))).toThrow(SolanaWireError);
    expect(() => decodeMessage(bytes.slice(0, -1))).toThrow(SolanaWireError);
    // the key count (3) written as 0x83 0x00 instead of 0x03
    const padded = Uint8Array.from([...bytes.slice(0, 3), 0x83, 0x00, ...bytes.slice(4)]);
    expect(() => decodeMessage(padded)).toThrow(/shortest form/);
    expect(() => decodeTransaction(encodeTransaction([new Uint8Array(64), new Uint8Array(64)], bytes))).toThrow(/signature slots/);
    expect(() => decodeMessage(Uint8Array.from([0x81, ...bytes]))).toThrow(/version 1/);
  });
});

describe("the share holders' transfer check", () => {
  const native: SolanaTransferBody = { kind: "Native", to, amount: "1000" };
  const spl: SolanaTransferBody = { kind: "Spl", mint, to, amount: "1000", createDestinationAccount: true };

  it("accepts exactly the built message, with any blockhash and (for tokens) the stated decimals", () => {
    expect(() => checkTransferMessage(native, wallet, buildTransferMessage(native, wallet, key()))).not.toThrow();
    expect(() => checkTransferMessage(spl, wallet, buildTransferMessage(spl, wallet, key(), 9))).not.toThrow();
  });

  const attacks: [string, SolanaTransferBody, Uint8Array, RegExp][] = [
    ["another recipient", native, buildTransferMessage({ ...native, to: key() }, wallet, blockhash), /uses accounts/],
    ["another amount", native, buildTransferMessage({ ...native, amount: "1001" }, wallet, blockhash), /different data/],
    ["another fee payer", native, encodeMessage(compileMessage({ feePayer: to, recentBlockhash: blockhash, instructions: [systemTransfer(wallet, to, 1000n)] })), /fee payer/],
    [
      "a second transfer appended",
      native,
      encodeMessage(compileMessage({ feePayer: wallet, recentBlockhash: blockhash, instructions: [systemTransfer(wallet, to, 1000n), systemTransfer(wallet, key(), 5n)] })),
      /instructions/,
    ],
    ["a memo the user did not write", native, buildTransferMessage({ ...native, memo: "x" }, wallet, blockhash), /instructions/],
    ["a token transfer for a native body", native, buildTransferMessage(spl, wallet, blockhash, 6), /instructions/],
    ["another mint", spl, buildTransferMessage({ ...spl, mint: key() }, wallet, blockhash, 6), /uses accounts/],
    ["the recipient's account not created", spl, buildTransferMessage({ ...spl, createDestinationAccount: undefined }, wallet, blockhash, 6), /instructions/],
    ["Token-2022 for an Spl body", spl, buildTransferMessage({ ...spl, kind: "Spl2022" }, wallet, blockhash, 6), /calls|uses accounts/],
    ["garbage", native, Uint8Array.of(1, 2, 3), /not a Solana message/],
  ];
  for (const [name, body, message, reason] of attacks) {
    it(`refuses ${name}`, () => {
      expect(() => checkTransferMessage(body, wallet, message)).toThrow(SolanaTransferError);
      expect(() => checkTransferMessage(body, wallet, message)).toThrow(reason);
    });
  }

  it("a second signer is refused (the wallet signs alone)", () => {
    const other = key();
    const m = encodeMessage(compileMessage({ feePayer: wallet, recentBlockhash: blockhash, instructions: [systemTransfer(wallet, to, 1000n), { ...memo("hi"), accounts: [{ address: other, signer: true, writable: false }] }] }));
    expect(() => checkTransferMessage(native, wallet, m)).toThrow(/2 signers/);
  });

  it("normalises the user's body: empty memo and false createDestinationAccount are absent, unknown kinds and bad addresses refused", () => {
    expect(normalizeSolanaTransfer({ kind: "Native", to, amount: "5", memo: "", priority: "Fast" } as Record<string, unknown>)).toEqual({ kind: "Native", to, amount: "5" });
    expect(normalizeSolanaTransfer({ kind: "Spl", to, mint, amount: "5", createDestinationAccount: false })).toEqual({ kind: "Spl", to, mint, amount: "5" });
    expect(() => normalizeSolanaTransfer({ kind: "Erc20", to, amount: "5" })).toThrow(SolanaTransferError);
    expect(() => normalizeSolanaTransfer({ kind: "Native", to: "0x1111111111111111111111111111111111111111", amount: "5" })).toThrow(/base58/);
    expect(() => normalizeSolanaTransfer({ kind: "Native", to, amount: "0" })).toThrow(/between/);
    expect(() => normalizeSolanaTransfer({ kind: "Native", to, amount: (1n << 64n).toString() })).toThrow(/between/);
  });
  it("base58 of kit and scure agree", () => {
    expect(getBase58Decoder().decode(base58.decode(wallet))).toBe(wallet);
  });
});
