// Bitcoin as the share-holder nodes check it (and the edge computes it), with @scure/btc-signer:
//
//   wallet kinds   ECDSA (DKLs23)  → P2WPKH  (witness v0, the default, as Dfns)
//                  Schnorr (FROST) → P2TR key path (witness v1). frost-secp256k1-tr already applies
//                  the BIP341 tweak (empty script tree) at keygen: the group key it returns IS the
//                  output key, so the address is that key as is — tweaking it again makes an
//                  address nobody can sign for.
//   transfer       the edge sends a PSBT (every input with its witnessUtxo) and the input index to
//                  sign. The node checks that every input is the wallet's own, that exactly the
//                  user's amount goes to the user's recipient, that every other output is change
//                  back to the wallet, and that the fee is bounded; then it computes the BIP143
//                  (P2WPKH, SIGHASH_ALL) or BIP341 (P2TR, SIGHASH_DEFAULT) sighash itself.
//   Psbt           generateSignature {kind:"Psbt", psbt}: the node signs the wallet's inputs of the
//                  caller's PSBT (the sighash it computes from that PSBT), nothing else.
//
// Prevout amounts are not in the unsigned transaction. BIP341 commits to all of them; BIP143 only
// to the input being signed, so an edge could claim different amounts for other inputs in each
// input's request and make a huge fee look small. The claim binding (one user action signs one
// {transaction, prevouts} set, see `claimBinding`) closes that: every signature of one user action
// is over the same claimed amounts, and each is valid only if its own amount is true.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { Address, OutScript, p2wpkh, Transaction } from "@scure/btc-signer";

type BTC_NETWORK = { bech32: string; pubKeyHash: number; scriptHash: number; wif: number };
import { z } from "zod";
import type { MpcScheme } from "../../mpc/scheme.js";
import { IntentError, type ChainRules, type JsonObject, type SigningKeyView } from "../family.js";

// ------------------------------------------------------------------ networks

const mainnet: BTC_NETWORK = { bech32: "bc", pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 };
const testnet: BTC_NETWORK = { bech32: "tb", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const regtest: BTC_NETWORK = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

/** Dfns network names → address parameters. */
export const BITCOIN_NETWORKS: Readonly<Record<string, BTC_NETWORK>> = {
  Bitcoin: mainnet,
  BitcoinSignet: testnet,
  BitcoinTestnet3: testnet,
  BitcoinRegtest: regtest,
};

export function bitcoinNetwork(network: string): BTC_NETWORK {
  const n = Object.hasOwn(BITCOIN_NETWORKS, network) ? BITCOIN_NETWORKS[network] : undefined;
  if (!n) throw new IntentError(`${network} is not a Bitcoin network`);
  return n;
}

// ------------------------------------------------------------------ the wallet's output

export type WalletOutput = { kind: "p2wpkh"; publicKey: Uint8Array; script: Uint8Array } | { kind: "p2tr"; outputKey: Uint8Array; script: Uint8Array };

const strip0x = (h: string) => (h.startsWith("0x") ? h.slice(2) : h);

/** The output a wallet's key pays to: P2WPKH for an ECDSA key, P2TR (key path, key as returned) for FROST BIP340. */
export function walletOutput(scheme: MpcScheme, publicKeyHex: string): WalletOutput {
  const pk = hexToBytes(strip0x(publicKeyHex));
  if (scheme === "ecdsa-secp256k1") {
    const compressed = secp256k1.Point.fromBytes(pk).toBytes(true);
    return { kind: "p2wpkh", publicKey: compressed, script: p2wpkh(compressed).script };
  }
  if (scheme === "frost-bip340") {
    // 32-byte x-only, or 33-byte compressed (BIP340: the even-y point either way).
    const x = pk.length === 33 ? pk.slice(1) : pk;
    if (x.length !== 32) throw new IntentError(`a Taproot output key is 32 bytes, got ${x.length}`);
    secp256k1.Point.fromBytes(concatBytes(Uint8Array.of(0x02), x)); // on the curve
    return { kind: "p2tr", outputKey: x, script: OutScript.encode({ type: "tr", pubkey: x }) };
  }
  throw new IntentError(`Bitcoin wallets use ECDSA or Schnorr (BIP340) keys, not ${scheme}`);
}

/** The address a wallet shows: bech32 P2WPKH or bech32m P2TR of its own key. */
export function walletAddress(scheme: MpcScheme, publicKeyHex: string, network: string): string {
  const out = walletOutput(scheme, publicKeyHex);
  return Address(bitcoinNetwork(network)).encode(OutScript.decode(out.script));
}

/** The output script of a recipient address on `network`; IntentError when it is not one. */
export function scriptOf(address: string, network: string): Uint8Array {
  try {
    return OutScript.encode(Address(bitcoinNetwork(network)).decode(address));
  } catch (e) {
    if (e instanceof IntentError) throw e;
    throw new IntentError(`${address} is not a ${network} address`);
  }
}

export function isBitcoinAddress(address: string): boolean {
  return Object.keys(BITCOIN_NETWORKS).some((n) => {
    try {
      scriptOf(address, n);
      return true;
    } catch {
      return false;
    }
  });
}

// ------------------------------------------------------------------ transactions

/** 0x-hex of a PSBT (BIP174) → the transaction; IntentError when it is not one. */
export function parsePsbt(hex: string): Transaction {
  try {
    return Transaction.fromPSBT(hexToBytes(strip0x(hex)), { allowUnknownOutputs: true });
  } catch (e) {
    throw new IntentError(`not a PSBT: ${(e as Error).message}`);
  }
}

export const SIGHASH_ALL = 0x01;
export const SIGHASH_DEFAULT = 0x00;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

function prevout(tx: Transaction, i: number): { script: Uint8Array; amount: bigint } {
  const u = tx.getInput(i).witnessUtxo;
  if (!u) throw new IntentError(`input ${i} has no witnessUtxo (its amount and script are needed to sign)`);
  return { script: u.script, amount: u.amount };
}

/**
 * The sighash of input `index`, spent by the wallet's output: BIP143 with SIGHASH_ALL for P2WPKH,
 * BIP341 key path with SIGHASH_DEFAULT for P2TR. The input's prevout must be the wallet's own.
 */
export function walletSighash(tx: Transaction, index: number, wallet: WalletOutput): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= tx.inputsLength) throw new IntentError(`input ${index} does not exist (${tx.inputsLength} inputs)`);
  const own = prevout(tx, index);
  if (!sameBytes(own.script, wallet.script)) throw new IntentError(`input ${index} is not the wallet's (its prevout pays another script)`);
  const sighashType = tx.getInput(index).sighashType;
  if (wallet.kind === "p2wpkh") {
    if (sighashType !== undefined && sighashType !== SIGHASH_ALL) throw new IntentError("only SIGHASH_ALL is signed");
    // BIP143: the scriptCode of P2WPKH is the P2PKH script of the same key hash.
    const scriptCode = OutScript.encode({ type: "pkh", hash: (OutScript.decode(wallet.script) as { hash: Uint8Array }).hash });
    return tx.preimageWitnessV0(index, scriptCode, SIGHASH_ALL, own.amount);
  }
  if (sighashType !== undefined && sighashType !== SIGHASH_DEFAULT) throw new IntentError("only SIGHASH_DEFAULT is signed");
  const all = Array.from({ length: tx.inputsLength }, (_, i) => prevout(tx, i));
  return tx.preimageWitnessV1(index, all.map((p) => p.script), SIGHASH_DEFAULT, all.map((p) => p.amount));
}

/** The inputs of `tx` that spend the wallet's output (a caller's PSBT may also spend others' coins). */
export function walletInputs(tx: Transaction, wallet: WalletOutput): number[] {
  const out: number[] = [];
  for (let i = 0; i < tx.inputsLength; i++) if (sameBytes(tx.getInput(i).witnessUtxo?.script, wallet.script)) out.push(i);
  return out;
}

/**
 * What one user action may sign: this unsigned transaction with these claimed prevouts. Every
 * input of it may be signed under the same action; another transaction, or the same one with other
 * claimed amounts, may not.
 */
export function claimBinding(tx: Transaction): string {
  const parts: Uint8Array[] = [tx.unsignedTx];
  for (let i = 0; i < tx.inputsLength; i++) {
    const p = prevout(tx, i);
    const amount = new Uint8Array(8);
    new DataView(amount.buffer).setBigUint64(0, p.amount, true);
    parts.push(amount, Uint8Array.of(p.script.length), p.script);
  }
  return `bitcoin:${bytesToHex(sha256(concatBytes(...parts)))}`;
}

// Virtual sizes (vbytes) for the fee bound: P2WPKH input 68 (with its 107-byte witness at 1/4),
// P2TR key-path input 58 (65-byte witness), an output 9 + its script, 11 of overhead (rounded up).
const INPUT_VBYTES = { p2wpkh: 68, p2tr: 58 } as const;

export function estimateVsize(inputKind: WalletOutput["kind"], inputs: number, outputScripts: Uint8Array[]): number {
  return 11 + inputs * INPUT_VBYTES[inputKind] + outputScripts.reduce((n, s) => n + 9 + s.length, 0);
}

/** The highest fee rate a node signs for (sat/vB): far above any real market, far below draining a wallet. */
export const MAX_FEE_RATE = 1_000;

/** The transfer in a PSBT must be exactly the user's: checks, else IntentError. Returns the fee. */
export function checkTransferPsbt(tx: Transaction, transfer: { to: string; amount: string }, network: string, wallet: WalletOutput): bigint {
  if (tx.inputsLength === 0) throw new IntentError("the transaction spends nothing");
  if (tx.lockTime !== 0) throw new IntentError("a transfer has no lock time");
  let totalIn = 0n;
  for (let i = 0; i < tx.inputsLength; i++) {
    const p = prevout(tx, i);
    if (!sameBytes(p.script, wallet.script)) throw new IntentError(`input ${i} is not the wallet's`);
    totalIn += p.amount;
  }
  const to = scriptOf(transfer.to, network);
  const amount = BigInt(transfer.amount);
  let paid = false;
  let totalOut = 0n;
  const scripts: Uint8Array[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const o = tx.getOutput(i);
    if (!o.script || o.amount === undefined) throw new IntentError(`output ${i} is incomplete`);
    scripts.push(o.script);
    totalOut += o.amount;
    if (!paid && sameBytes(o.script, to) && o.amount === amount) {
      paid = true;
      continue;
    }
    if (!sameBytes(o.script, wallet.script)) throw new IntentError(`output ${i} pays someone other than the recipient or the wallet`);
  }
  if (!paid) throw new IntentError(`no output pays ${transfer.amount} sat to ${transfer.to}`);
  const fee = totalIn - totalOut;
  if (fee < 0n) throw new IntentError("the outputs spend more than the inputs");
  const vsize = estimateVsize(wallet.kind, tx.inputsLength, scripts);
  if (fee > BigInt(vsize * MAX_FEE_RATE)) throw new IntentError(`the fee ${fee} sat is above ${MAX_FEE_RATE} sat/vB for ${vsize} vB`);
  return fee;
}

// ------------------------------------------------------------------ rules

const transferBody = z.object({
  kind: z.literal("Native", { error: "Bitcoin wallets send kind Native (satoshis)" }),
  to: z.string().min(1).max(100),
  amount: z
    .string()
    .regex(/^[0-9]{1,16}$/, "must be a decimal integer of satoshis")
    // zod runs every check even after one failed: only parse what the pattern accepted.
    .refine((a) => !/^[0-9]{1,16}$/.test(a) || (BigInt(a) > 0n && BigInt(a) <= 2_100_000_000_000_000n), "must be between 1 sat and 21 million BTC"),
});

function keyOutput(key: SigningKeyView): WalletOutput {
  if (!key.publicKey) throw new IntentError("the key's public key is not recorded on this node (needed to recognise the wallet's own outputs)");
  return walletOutput(key.scheme, key.publicKey);
}

export const bitcoinRules: ChainRules & { claimBinding(transaction: string): string } = {
  owns: (network) => Object.hasOwn(BITCOIN_NETWORKS, network),
  schemes: () => ["ecdsa-secp256k1", "frost-bip340"],
  transferBody(body, network): JsonObject {
    const parsed = transferBody.safeParse(body);
    if (!parsed.success) throw new IntentError(`user's transfer request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
    scriptOf(parsed.data.to, network);
    return { kind: "Native", to: parsed.data.to, amount: parsed.data.amount };
  },
  transferMessage(intent, key) {
    const wallet = keyOutput(key);
    const tx = parsePsbt(intent.transaction);
    const transfer = intent.transfer as { to: string; amount: string };
    checkTransferPsbt(tx, transfer, intent.network, wallet);
    if (intent.index === undefined) throw new IntentError("a Bitcoin transfer names the input to sign");
    return walletSighash(tx, intent.index, wallet);
  },
  signatureMessage(body, _network, key, index) {
    if (body.kind !== "Psbt") return null;
    if (typeof body.psbt !== "string") throw new IntentError("psbt: must be 0x-prefixed hex");
    if (index === undefined) throw new IntentError("a PSBT signature names the input to sign");
    return walletSighash(parsePsbt(body.psbt), index, keyOutput(key));
  },
  claimBinding: (transaction) => claimBinding(parsePsbt(transaction)),
};
