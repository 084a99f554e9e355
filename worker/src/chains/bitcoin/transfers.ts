// Bitcoin transfers behind the chain-family interface (../family.ts):
//   build      coins of the wallet's address (coins.ts), largest first, fee rate by priority,
//              change back to the wallet → a PSBT (every input with its witnessUtxo) in unsigned_tx
//   sign       one threshold signature per input; each share holder recomputes that input's
//              BIP143 / BIP341 sighash from the PSBT after checking it pays exactly the user's
//              transfer (shared/src/chains/bitcoin/rules.ts); every signature is verified here
//              against the wallet's key before the signed transaction is written
//   broadcast  sendrawtransaction
//   track      getrawtransaction (txindex) → confirmations; unknown to the node: if a coin it
//              spends is gone, it was replaced (Failed), else the same bytes are sent again
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { Transaction } from "@scure/btc-signer";
import { z } from "zod";
import { estimateVsize, parsePsbt, scriptOf, walletOutput, walletSighash, type WalletOutput } from "../../../../shared/src/chains/bitcoin/rules.js";
import type { MpcScheme } from "../../../../shared/src/mpc/scheme.js";
import type { RequestRow } from "../../broadcast/request-store.js";
import type { WalletRecord } from "../../broadcast/wallet-directory.js";
import { RpcError } from "../../networks/evm-rpc.js";
import type { SigningAuthorization } from "../../signing/authorization.js";
import { FinalFailure, type ChainContext, type TransferChain, type Tracked } from "../family.js";
import { COIN_SCHEMA, CoinReservations, discoverCoins, selectCoins } from "./coins.js";
import { isNotFound, type BitcoinRpc } from "./rpc.js";

/** An output worth less than this is not relayed (546 sat covers every standard output type). */
export const DUST = 546n;

/** sat/vB when the node has no estimate (regtest, a fresh signet): at or above the default minimum relay fee. */
const FALLBACK_FEE_RATE = { Slow: 1, Standard: 2, Fast: 5 } as const;
/** Blocks to confirm within, per priority, for the node's estimate. */
const TARGET_BLOCKS = { Slow: 12, Standard: 3, Fast: 1 } as const;

export function mpcSchemeOf(wallet: WalletRecord): MpcScheme {
  return wallet.signingKey.scheme === "Schnorr" ? "frost-bip340" : "ecdsa-secp256k1";
}

export function outputOf(wallet: WalletRecord): WalletOutput {
  return walletOutput(mpcSchemeOf(wallet), wallet.signingKey.publicKey);
}

export class BitcoinTransfers implements TransferChain {
  readonly schema = COIN_SCHEMA;
  private readonly coins: CoinReservations;

  constructor(
    private readonly ctx: ChainContext,
    private readonly rpc: BitcoinRpc,
  ) {
    this.coins = new CoinReservations(ctx.sql);
  }

  built(row: RequestRow): boolean {
    return row.unsigned_tx !== null;
  }

  // ------------------------------------------------------------ build

  async build(row: RequestRow): Promise<void> {
    const wallet = this.ctx.wallet();
    const own = outputOf(wallet);
    const network = this.ctx.network.id;
    const amount = BigInt(row.call_value);
    const to = scriptOf(row.call_to, network);
    const feeRate = await this.feeRate(row.priority as keyof typeof FALLBACK_FEE_RATE);
    const available = await discoverCoins(this.rpc, wallet.address, own.script);

    // From here on synchronous: coins are chosen among those not held and taken in one go.
    const fresh = this.ctx.store.get(row.id)!;
    if (fresh.status !== "Executing" || this.built(fresh)) return;
    const held = this.coins.held();
    const free = available.filter((c) => !held.has(`${c.txid}:${c.vout}`));
    const selection = selectCoins(free, amount, feeRate, (inputs, change) => estimateVsize(own.kind, inputs, change ? [to, own.script] : [to]), DUST);
    if (!selection) {
      const total = free.reduce((n, c) => n + c.amount, 0n);
      const reason = `Insufficient funds: ${total} sat spendable, ${amount} sat + fee at ${feeRate} sat/vB needed`;
      // Change of this wallet's own transactions in flight may be what is missing: wait for it.
      if (this.coins.othersInFlight(row.id)) throw new Error(`${reason} (waiting for this wallet's transactions in flight)`);
      throw new FinalFailure(reason);
    }
    const tx = new Transaction({ version: 2, lockTime: 0 });
    for (const c of selection.coins) tx.addInput({ txid: c.txid, index: c.vout, witnessUtxo: { script: own.script, amount: c.amount } });
    tx.addOutput({ script: to, amount });
    if (selection.change > 0n) tx.addOutput({ script: own.script, amount: selection.change });
    if (!this.coins.take(row.id, selection.coins.map((c) => `${c.txid}:${c.vout}`))) return; // raced: build again
    this.ctx.store.update(row.id, {
      unsigned_tx: `0x${bytesToHex(tx.toPSBT())}`,
      attempts: 0,
      reason: null,
    });
  }

  private async feeRate(priority: keyof typeof FALLBACK_FEE_RATE): Promise<number> {
    try {
      // bitcoind: estimatesmartfee → {feerate: BTC/kvB}; btcd: estimatefee → BTC/kB (0 or an error without data).
      const smart = await this.rpc.call("estimatesmartfee", [TARGET_BLOCKS[priority]], z.object({ feerate: z.number().optional() }));
      if (smart.feerate && smart.feerate > 0) return Math.max(1, Math.ceil((smart.feerate * 1e8) / 1000));
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) throw err;
    }
    try {
      const perKb = await this.rpc.call("estimatefee", [TARGET_BLOCKS[priority]], z.number());
      if (perKb > 0) return Math.max(1, Math.ceil((perKb * 1e8) / 1000));
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) throw err;
    }
    return FALLBACK_FEE_RATE[priority];
  }

  // ------------------------------------------------------------ sign

  async sign(row: RequestRow): Promise<{ raw: string; hash: string }> {
    const wallet = this.ctx.wallet();
    const own = outputOf(wallet);
    const psbt = row.unsigned_tx!;
    const tx = parsePsbt(psbt);
    const authorization = JSON.parse(row.authorization!) as SigningAuthorization;
    const body = JSON.parse(row.request_body) as { to: string; amount: string };
    const transfer = { kind: "Native", to: body.to, amount: body.amount };
    try {
      for (let index = 0; index < tx.inputsLength; index++) {
        const sighash = walletSighash(tx, index, own);
        const intent = { kind: "Transfer" as const, network: wallet.network, transfer, transaction: psbt, index };
        const sig = await this.ctx.signer.sign({
          keyId: wallet.signingKey.id,
          message: bytesToHex(sighash),
          derivation: { kind: "Transfer", requestBody: row.request_body, intent },
          authorization,
        });
        tx.updateInput(index, { finalScriptWitness: witnessFor(own, sighash, sig) }, true);
      }
    } catch (err) {
      throw new FinalFailure(`Signing failed: ${(err as Error).message}`, { cause: err });
    }
    return { raw: tx.hex, hash: tx.id };
  }

  // ------------------------------------------------------------ broadcast

  async broadcast(row: RequestRow): Promise<void> {
    const { store } = this.ctx;
    store.update(row.id, { broadcasts: row.broadcasts + 1 });
    try {
      await this.rpc.call("sendrawtransaction", [row.raw_tx], z.string());
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) {
        store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      const message = (err.failure as { message: string }).message;
      if (ALREADY_KNOWN.test(message)) return;
      if (row.maybe_sent === 0) throw new FinalFailure(`Broadcast refused: ${message}`);
      // Refused after an attempt that may have gone through: tracking finds out what became of it.
    }
  }

  // ------------------------------------------------------------ track

  async track(row: RequestRow): Promise<Tracked> {
    const txid = row.tx_hash!;
    let found: { confirmations?: number | undefined } | null = null;
    try {
      found = await this.rpc.call("getrawtransaction", [txid, 1], z.object({ confirmations: z.number().int().optional() }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const fee = feeOf(row.unsigned_tx!);
    if (found) {
      const confirmations = found.confirmations ?? 0;
      if (confirmations === 0) return { status: "waiting" };
      const height = await this.rpc.call("getblockcount", [], z.number().int());
      const blockNumber = height - confirmations + 1;
      if (confirmations < this.ctx.network.confirmations) return { status: "waiting", blockNumber };
      return { status: "Confirmed", fee: fee.toString(), blockNumber };
    }
    // Unknown to the node: replaced (a coin it spends is gone), or dropped (send it again).
    const tx = parsePsbt(row.unsigned_tx!);
    for (let i = 0; i < tx.inputsLength; i++) {
      const input = tx.getInput(i);
      const prev = bytesToHex(input.txid!);
      const out = await this.rpc.call("gettxout", [prev, input.index, true], z.unknown());
      if (out === null) return { status: "Failed", reason: `Replaced: coin ${prev}:${input.index} was spent by another transaction` };
    }
    try {
      await this.rpc.call("sendrawtransaction", [row.raw_tx], z.string());
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError || !ALREADY_KNOWN.test((err.failure as { message: string }).message)) throw err;
    }
    this.ctx.store.update(row.id, { broadcasts: row.broadcasts + 1 });
    return { status: "waiting", reason: `Not known to the node: re-broadcast the same signed transaction (${row.broadcasts + 1} sends)` };
  }

  unbuild(row: RequestRow): Partial<RequestRow> {
    this.release(row);
    return { unsigned_tx: null };
  }

  release(row: RequestRow): void {
    this.coins.release(row.id);
  }
}

const ALREADY_KNOWN = /already have transaction|already in block chain|already exists|txn-already-known|txn-already-in-mempool/i;

/** Inputs minus outputs of the PSBT. */
function feeOf(psbt: string): bigint {
  const tx = parsePsbt(psbt);
  let fee = 0n;
  for (let i = 0; i < tx.inputsLength; i++) fee += tx.getInput(i).witnessUtxo!.amount;
  for (let i = 0; i < tx.outputsLength; i++) fee -= tx.getOutput(i).amount!;
  return fee;
}

/**
 * The witness spending the wallet's output, from the share holders' signature — checked against
 * the wallet's key first (a signature for anything else is refused, never broadcast).
 */
export function witnessFor(own: WalletOutput, sighash: Uint8Array, sig: { r: string; s: string; encoded?: string }): Uint8Array[] {
  const pad = (h: string) => (h.startsWith("0x") ? h.slice(2) : h).padStart(64, "0");
  const compact = hexToBytes(pad(sig.r) + pad(sig.s));
  if (own.kind === "p2tr") {
    if (!schnorr.verify(compact, sighash, own.outputKey)) throw new Error("the threshold signature does not verify under the wallet's Taproot key");
    return [compact]; // SIGHASH_DEFAULT: no sighash byte
  }
  // Low S (BIP62/146): nodes relay only the canonical half of an ECDSA signature.
  const signature = secp256k1.Signature.fromBytes(compact, "compact");
  const low = signature.hasHighS() ? new secp256k1.Signature(signature.r, secp256k1.Point.Fn.neg(signature.s)) : signature;
  if (!secp256k1.verify(low.toBytes("compact"), sighash, own.publicKey, { prehash: false })) {
    throw new Error("the threshold signature does not verify under the wallet's key");
  }
  return [Uint8Array.from([...low.toBytes("der"), 0x01]), own.publicKey];
}

export const bitcoinTransfers = (rpc: BitcoinRpc) => (ctx: ChainContext) => new BitcoinTransfers(ctx, rpc);
