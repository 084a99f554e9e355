// The node's path for Solana (recomputeSigningMessage → solanaRules): what a compromised edge can
// and cannot get signed for a SolanaLocal wallet, from the user's own signed body.
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { base58 } from "@scure/base";
import { describe, expect, it } from "vitest";
import { recomputeSigningMessage, type SigningIntent } from "../../mpc/intent.js";
import { systemTransfer } from "./programs.js";
import { buildTransferMessage } from "./transfer.js";
import { compileMessage, encodeMessage, encodeTransaction } from "./wire.js";

const publicKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
const wallet = base58.encode(publicKey);
const other = () => base58.encode(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const to = other();
const blockhash = other();
const key = { keyId: "key-1", scheme: "frost-ed25519" as const, walletId: "wa-1", network: "SolanaLocal", publicKey: bytesToHex(publicKey) };
const transferAction = (body: object) => ({ method: "POST", path: "/wallets/wa-1/transfers", payload: JSON.stringify(body) });
const hex = (b: Uint8Array) => `0x${bytesToHex(b)}`;

function check(intent: SigningIntent, body: object, k: Partial<typeof key> = {}) {
  return recomputeSigningMessage({ intent, userAction: transferAction(body), key: { ...key, ...k } });
}

describe("a node asked to sign a Solana transfer", () => {
  const body = { kind: "Native", to, amount: "1000", externalId: "x-1" };
  const transfer = { kind: "Native", to, amount: "1000" };
  const message = buildTransferMessage({ kind: "Native", to, amount: "1000" }, wallet, blockhash);

  it("signs the message bytes when the edge's message is exactly the user's transfer from this wallet", () => {
    const r = check({ kind: "Transfer", network: "SolanaLocal", transfer, transaction: hex(message) }, body);
    expect(r).toEqual({ ok: true, message });
  });

  it("refuses a message paying someone else, a transfer body the user did not sign, another network, or an unknown wallet key", () => {
    const diverted = buildTransferMessage({ kind: "Native", to: other(), amount: "1000" }, wallet, blockhash);
    expect(check({ kind: "Transfer", network: "SolanaLocal", transfer, transaction: hex(diverted) }, body)).toMatchObject({ ok: false, reason: expect.stringMatching(/not the Native transfer/) });
    expect(check({ kind: "Transfer", network: "SolanaLocal", transfer: { ...transfer, amount: "999999" }, transaction: hex(message) }, body)).toMatchObject({ ok: false, reason: expect.stringMatching(/not the one the user signed/) });
    expect(check({ kind: "Transfer", network: "Solana", transfer, transaction: hex(message) }, body)).toMatchObject({ ok: false, reason: expect.stringMatching(/created on SolanaLocal/) });
    expect(check({ kind: "Transfer", network: "SolanaLocal", transfer, transaction: hex(message) }, body, { publicKey: bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey())) })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/fee payer/),
    });
    expect(check({ kind: "Transfer", network: "SolanaLocal", transfer, transaction: hex(message) }, body, { publicKey: null as never })).toMatchObject({ ok: false, reason: expect.stringMatching(/no public key/) });
  });

  it("refuses durable-nonce bodies it cannot check", () => {
    expect(check({ kind: "Transfer", network: "SolanaLocal", transfer, transaction: hex(message) }, { ...body, useDurableNonce: true })).toMatchObject({ ok: false, reason: expect.stringMatching(/durable-nonce/) });
  });
});

describe("a node asked to sign a caller's Solana transaction (generateSignature kind Transaction)", () => {
  const sigAction = (transaction: string) => ({ method: "POST", path: "/wallets/wa-1/signatures", payload: JSON.stringify({ kind: "Transaction", transaction }) });
  const messageOf = (feePayer: string) => encodeMessage(compileMessage({ feePayer, recentBlockhash: blockhash, instructions: [systemTransfer(feePayer, to, 5n)] }));

  it("signs the message inside the transaction when the wallet is one of its signers", () => {
    const m = messageOf(wallet);
    const tx = hex(encodeTransaction([new Uint8Array(64)], m));
    expect(recomputeSigningMessage({ intent: { kind: "Transaction", transaction: tx }, userAction: sigAction(tx), key })).toEqual({ ok: true, message: m });
  });

  it("refuses one the wallet does not sign, and garbage", () => {
    const tx = hex(encodeTransaction([new Uint8Array(64)], messageOf(other())));
    expect(recomputeSigningMessage({ intent: { kind: "Transaction", transaction: tx }, userAction: sigAction(tx), key })).toMatchObject({ ok: false, reason: expect.stringMatching(/not a signer/) });
    expect(recomputeSigningMessage({ intent: { kind: "Transaction", transaction: "0x0102" }, userAction: sigAction("0x0102"), key })).toMatchObject({ ok: false, reason: expect.stringMatching(/not a serialized Solana transaction/) });
  });
});
