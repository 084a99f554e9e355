// The share holders' Bitcoin check: a PSBT the edge built is signed only when it pays exactly the
// user's transfer (the rest back to the wallet, a bounded fee) and the sighash is the node's own.
// Each refusal below is an edge trying to get something else signed.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { p2wpkh, Transaction } from "@scure/btc-signer";
import { describe, expect, it } from "vitest";
import { recomputeSigningMessage } from "../../mpc/intent.js";
import { IntentError } from "../family.js";
import { bitcoinRules, claimBinding, parsePsbt, walletAddress, walletOutput, walletSighash } from "./rules.js";

const REGTEST = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const NET = "BitcoinRegtest";
const sk = secp256k1.utils.randomSecretKey();
const publicKey = bytesToHex(secp256k1.getPublicKey(sk, true));
const wallet = walletOutput("ecdsa-secp256k1", publicKey);
const key = { scheme: "ecdsa-secp256k1" as const, publicKey };
const recipient = p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST);
const attacker = p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST);
const transfer = { kind: "Native", to: recipient.address!, amount: "100000" };

const coin = () => ({ txid: randomBytes(32), index: 0 });

/** The PSBT an honest edge builds: two coins of the wallet, the amount to the recipient, change back. */
function honest(mutate?: (tx: Transaction) => void, amounts: [bigint, bigint] = [80_000n, 70_000n], lockTime = 0): string {
  const tx = new Transaction({ version: 2, lockTime });
  for (const amount of amounts) tx.addInput({ ...coin(), witnessUtxo: { script: wallet.script, amount } });
  tx.addOutput({ script: recipient.script, amount: 100_000n });
  tx.addOutput({ script: wallet.script, amount: 49_000n });
  mutate?.(tx);
  return `0x${bytesToHex(tx.toPSBT())}`;
}

const message = (transaction: string, index = 0, t: Record<string, unknown> = transfer) => bitcoinRules.transferMessage({ network: NET, transfer: t, transaction, index }, key, { chainIdOf: () => undefined });

describe("Bitcoin transfer check (shared/src/chains/bitcoin)", () => {
  it("signs the BIP143 sighash of each wallet input — the digest btc-signer itself signs", () => {
    const psbt = honest();
    for (const index of [0, 1]) {
      const ours = message(psbt, index);
      const tx = parsePsbt(psbt);
      tx.signIdx(sk, index);
      const partial = tx.getInput(index).partialSig![0]![1];
      const der = partial.slice(0, -1);
      expect(secp256k1.verify(secp256k1.Signature.fromBytes(der, "der").toBytes("compact"), ours, secp256k1.getPublicKey(sk, true), { prehash: false })).toBe(true);
    }
  });

  it("wallet addresses: P2WPKH for ECDSA, the FROST key itself for Taproot", () => {
    expect(walletAddress("ecdsa-secp256k1", publicKey, NET)).toBe(p2wpkh(secp256k1.getPublicKey(sk, true), REGTEST).address);
    const x = bytesToHex(secp256k1.getPublicKey(sk, true).slice(1));
    expect(walletAddress("frost-bip340", x, "Bitcoin")).toMatch(/^bc1p/);
  });

  it.each([
    ["an extra output to someone else", (tx: Transaction) => tx.addOutput({ script: attacker.script, amount: 1_000n }), /pays someone other/],
    ["change to someone else", (tx: Transaction) => tx.updateOutput(1, { script: attacker.script }), /pays someone other/],
    ["less to the recipient", (tx: Transaction) => tx.updateOutput(0, { amount: 99_999n }), /no output pays 100000 sat|pays someone other/],
    ["another recipient", (tx: Transaction) => tx.updateOutput(0, { script: attacker.script }), /no output pays|someone other/],
    ["a coin that is not the wallet's", (tx: Transaction) => tx.updateInput(1, { witnessUtxo: { script: attacker.script, amount: 70_000n } }, true), /input 1 is not the wallet's/],
  ])("refuses %s", (_name, mutate, reason) => {
    expect(() => message(honest(mutate))).toThrow(reason);
    expect(() => message(honest(mutate))).toThrow(IntentError);
  });

  it("refuses the wallet drained into the fee, and a lock time", () => {
    expect(() => message(honest((tx) => tx.updateOutput(1, { amount: 1n }), [500_000_000n, 70_000n]))).toThrow(/the fee \d+ sat is above 1000 sat\/vB/);
    expect(message(honest((tx) => tx.updateOutput(1, { amount: 49_000n }), [80_000n, 70_000n]))).toHaveLength(32);
    expect(() => message(honest(undefined, undefined, 500))).toThrow(/lock time/);
  });

  it("refuses an input index that is not there, and a body that is not Native satoshis to an address of the network", () => {
    expect(() => message(honest(), 2)).toThrow(/input 2 does not exist/);
    expect(() => bitcoinRules.transferBody({ kind: "Native", to: "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", amount: "1" }, NET)).toThrow(/not a BitcoinRegtest address/);
    expect(() => bitcoinRules.transferBody({ kind: "Erc20", to: recipient.address, amount: "1" }, NET)).toThrow(IntentError);
    expect(() => bitcoinRules.transferBody({ kind: "Native", to: recipient.address, amount: "1.5" }, NET)).toThrow(/satoshis/);
  });

  it("BIP143 fee attack: other claimed amounts for the other inputs make another claim binding, so one user action cannot sign both", () => {
    // Same transaction (same txid), prevout amounts claimed differently in two requests.
    const inputs = [coin(), coin()];
    const build = (amounts: [bigint, bigint]) => {
      const tx = new Transaction({ version: 2, lockTime: 0 });
      inputs.forEach((c, i) => tx.addInput({ ...c, witnessUtxo: { script: wallet.script, amount: amounts[i]! } }));
      tx.addOutput({ script: recipient.script, amount: 100_000n });
      return tx;
    };
    const a = build([80_000n, 30_000n]);
    const b = build([30_000n, 80_000n]);
    expect(bytesToHex(a.unsignedTx)).toBe(bytesToHex(b.unsignedTx));
    expect(claimBinding(a)).not.toBe(claimBinding(b));
    expect(bitcoinRules.claimBinding!(`0x${bytesToHex(a.toPSBT())}`)).toBe(claimBinding(a));
    // Different inputs of the one transaction share the binding.
    expect(walletSighash(a, 0, wallet)).not.toEqual(walletSighash(a, 1, wallet));
  });
});

describe("one user action, one Bitcoin transaction", () => {
  // The node lets a user action sign any number of messages with one claim binding, nothing else
  // (mpc-node's claim store refuses a second binding). A compromised edge that got input 0 of one
  // transaction signed must not get a second transaction paying the same transfer again signed.
  const walletId = "wa-btc00-00000-0000000000";
  const userAction = { method: "POST", path: `/wallets/${walletId}/transfers`, payload: JSON.stringify(transfer) };
  const nodeKey = { keyId: "key-1", scheme: "ecdsa-secp256k1" as const, walletId, network: NET, publicKey };
  const ask = (transaction: string, index: number) => {
    const r = recomputeSigningMessage({ intent: { kind: "Transfer", network: NET, transfer, transaction, index }, userAction, key: nodeKey });
    if (!r.ok) throw new Error(r.reason);
    return r;
  };

  it("every input of the one transaction shares a binding; another transaction for the same transfer has another", () => {
    const a = honest();
    const b = honest();
    expect(ask(a, 0).binding).toBe(ask(a, 1).binding);
    expect(ask(a, 0).binding).toMatch(/^bitcoin:[0-9a-f]{64}$/);
    expect(ask(b, 0).binding).not.toBe(ask(a, 0).binding);
    expect(bytesToHex(ask(a, 0).message)).not.toBe(bytesToHex(ask(a, 1).message));
  });

  it("the node refuses a transfer body other than the user's, and a key without its public key", () => {
    const other = recomputeSigningMessage({ intent: { kind: "Transfer", network: NET, transfer: { ...transfer, amount: "100001" }, transaction: honest(), index: 0 }, userAction, key: nodeKey });
    expect(other).toMatchObject({ ok: false, reason: "the transfer in the authorization is not the one the user signed" });
    const noKey = recomputeSigningMessage({ intent: { kind: "Transfer", network: NET, transfer, transaction: honest(), index: 0 }, userAction, key: { ...nodeKey, publicKey: null } });
    expect(noKey).toMatchObject({ ok: false, reason: expect.stringMatching(/public key is not recorded/) });
  });
});
