// One Solana wallet's transfers, step by step (TransferChain, ../family.ts):
//
//   build      a recent blockhash (its last valid block height kept beside the row) → the legacy
//              message of the transfer (shared/src/chains/solana/transfer.ts), wallet as fee payer
//   sign       the share holders sign the message bytes (FROST Ed25519); each node rebuilds the
//              message from the user's body and signs only if it is byte for byte the same; the
//              signature is verified against the wallet's key before it is kept
//   broadcast  sendTransaction with preflight (a refusal before anything could have landed is
//              final, with the program's own words), then without (re-sends are idempotent: the
//              signature is the transaction's id)
//   track      getSignatureStatuses → Confirmed at the network's commitment with the fee from
//              getTransaction; an error → Failed with it; unknown past the blockhash's last valid
//              block height → Failed (expired: it can never land, nothing was spent)
//
// No nonce, no coins: a Solana transaction reserves nothing, so `release` has nothing to return.
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { base58 } from "@scure/base";
import { associatedTokenAddress, TOKEN_PROGRAM_OF } from "../../../../shared/src/chains/solana/programs.js";
import { parseCallerTransaction, solanaAddressOf } from "../../../../shared/src/chains/solana/rules.js";
import { buildTransferMessage, normalizeSolanaTransfer, type SolanaTransferBody } from "../../../../shared/src/chains/solana/transfer.js";
import { decodeTransaction, encodeTransaction, withSignature } from "../../../../shared/src/chains/solana/wire.js";
import type { RequestRow } from "../../broadcast/request-store.js";
import type { SigningAuthorization } from "../../signing/authorization.js";
import { FinalFailure, type ChainContext, type TransferChain, type Tracked } from "../family.js";
import { commitmentOf, describeTxError, preflightFailure, RpcError, SolanaRpc } from "./rpc.js";

export const SOLANA_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS solana_lifetimes (
    request_id TEXT PRIMARY KEY,
    blockhash TEXT NOT NULL,
    last_valid_block_height INTEGER NOT NULL
  )`,
] as const;

/** What the share holders are asked to sign (shared/src/mpc/intent.ts's vocabulary). */
type SolanaSigningIntent = { kind: "Transfer"; network: string; transfer: SolanaTransferBody; transaction: string } | { kind: "Transaction"; transaction: string };

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Errors of a send that mean the transaction can never be in a block as it is. */
const NEVER_LANDS = ["SignatureFailure", "InsufficientFundsForFee", "AccountNotFound", "InvalidAccountForFee", "SanitizeFailure", "MissingSignatureForFee"];

export class SolanaTransfers implements TransferChain {
  readonly schema = SOLANA_SCHEMA;
  private readonly rpc: SolanaRpc;

  constructor(private readonly ctx: ChainContext) {
    this.rpc = new SolanaRpc(ctx.network);
  }

  built(row: RequestRow): boolean {
    return row.unsigned_tx !== null && this.lifetime(row.id) !== null;
  }

  private lifetime(id: string): { blockhash: string; lastValid: bigint } | null {
    const r = this.ctx.sql.exec<{ blockhash: string; last_valid_block_height: number }>("SELECT blockhash, last_valid_block_height FROM solana_lifetimes WHERE request_id = ?", id).toArray()[0];
    return r ? { blockhash: r.blockhash, lastValid: BigInt(r.last_valid_block_height) } : null;
  }

  // ------------------------------------------------------------ build

  async build(row: RequestRow): Promise<void> {
    const wallet = this.ctx.wallet().address;
    const latest = await this.rpc.latestBlockhash();
    let unsigned: string;
    if (row.kind === "Transfer") {
      const body = normalizeSolanaTransfer(JSON.parse(row.request_body) as Record<string, unknown>);
      const decimals = (JSON.parse(row.asset) as { decimals?: number }).decimals;
      if (body.kind !== "Native" && !body.createDestinationAccount) {
        const destination = associatedTokenAddress(body.to, body.mint, TOKEN_PROGRAM_OF[body.kind]);
        if ((await this.rpc.account(destination)) === null) {
          throw new FinalFailure(`The recipient ${body.to} has no token account for ${body.mint}; send createDestinationAccount: true to create it (the wallet pays its rent)`);
        }
      }
      unsigned = `0x${bytesToHex(buildTransferMessage(body, wallet, latest.blockhash, decimals))}`;
    } else {
      // A caller-built transaction keeps its own blockhash: only its lifetime is looked up.
      unsigned = row.unsigned_tx!;
    }
    const fresh = this.ctx.store.get(row.id)!;
    if (fresh.status !== "Executing" || this.built(fresh)) return;
    const blockhash = row.kind === "Transfer" ? latest.blockhash : decodeTransaction(hexToBytes(unsigned.slice(2))).message.recentBlockhash;
    // A caller's blockhash is valid for at most 150 blocks from now (it may be older: tracking finds out).
    this.ctx.sql.exec("INSERT OR REPLACE INTO solana_lifetimes (request_id, blockhash, last_valid_block_height) VALUES (?, ?, ?)", row.id, blockhash, Number(latest.lastValidBlockHeight));
    this.ctx.store.update(row.id, { unsigned_tx: unsigned, attempts: 0, reason: null });
  }

  // ------------------------------------------------------------ sign

  async sign(row: RequestRow): Promise<{ raw: string; hash: string }> {
    const wallet = this.ctx.wallet();
    const authorization = JSON.parse(row.authorization!) as SigningAuthorization;
    const unsigned = row.unsigned_tx!;
    let intent: SolanaSigningIntent;
    let message: Uint8Array;
    let tx: ReturnType<typeof decodeTransaction> | null = null;
    if (row.kind === "Transfer") {
      const transfer = normalizeSolanaTransfer(JSON.parse(row.request_body) as Record<string, unknown>);
      intent = { kind: "Transfer", network: wallet.network, transfer, transaction: unsigned };
      message = hexToBytes(unsigned.slice(2));
    } else {
      intent = { kind: "Transaction", transaction: unsigned };
      try {
        tx = parseCallerTransaction(unsigned, wallet.address);
      } catch (err) {
        throw new FinalFailure(`Not signed: ${(err as Error).message}`);
      }
      message = tx.messageBytes;
      if (tx.message.accountKeys[0] !== wallet.address && tx.signatures[0]!.every((b) => b === 0)) {
        throw new FinalFailure("Not signed: the fee payer has not signed yet (make the wallet the fee payer, or sign as fee payer first)");
      }
    }
    let signature: Uint8Array;
    try {
      const out = await this.ctx.signer.sign({ keyId: wallet.signingKey.id, message: bytesToHex(message), derivation: { kind: intent.kind, requestBody: row.request_body, intent } as never, authorization });
      signature = hexToBytes(out.encoded.replace(/^0x/, ""));
    } catch (err) {
      throw new FinalFailure(`Signing failed: ${(err as Error).message}`, { cause: err });
    }
    // The nodes' signature must be the wallet's own over exactly these bytes.
    if (signature.length !== 64 || !ed25519.verify(signature, message, hexToBytes(wallet.signingKey.publicKey.replace(/^0x/, "")))) {
      throw new FinalFailure("Signing failed: the threshold signature does not verify under the wallet's key");
    }
    const raw = tx ? withSignature(tx, wallet.address, signature) : encodeTransaction([signature], message);
    // A transaction's id is its first (the fee payer's) signature.
    const first = decodeTransaction(raw).signatures[0]!;
    if (first.every((b) => b === 0)) throw new FinalFailure("The fee payer's signature is missing: the wallet must be the fee payer, or the caller must sign as fee payer first");
    return { raw: toBase64(raw), hash: base58.encode(first) };
  }

  // ------------------------------------------------------------ broadcast

  async broadcast(row: RequestRow): Promise<void> {
    const { store } = this.ctx;
    store.update(row.id, { broadcasts: row.broadcasts + 1 });
    try {
      // Preflight the first time: the node runs the transaction and says why it would fail.
      const signature = await this.rpc.send(row.raw_tx!, { skipPreflight: row.maybe_sent === 1 });
      if (signature !== row.tx_hash) {
        store.update(row.id, { maybe_sent: 1 });
        throw new Error(`the RPC acknowledged transaction ${signature}, not ${row.tx_hash}`);
      }
    } catch (err) {
      if (!(err instanceof RpcError) || !err.isNodeError) {
        store.update(row.id, { maybe_sent: 1 });
        throw err;
      }
      const refusal = preflightFailure(err);
      const what = refusal?.err ? describeTxError(refusal.err) : err.message;
      if (what === "AlreadyProcessed") return; // it is on chain: tracking reports how it went
      if (what === "BlockhashNotFound") {
        // Either it expired before it could be sent, or the node lags behind the one we built on.
        if ((await this.rpc.blockHeight()) > this.lifetime(row.id)!.lastValid && row.maybe_sent === 0) {
          throw new FinalFailure("Expired before it could be broadcast: its blockhash is no longer valid");
        }
        throw err;
      }
      if (row.maybe_sent === 0 || NEVER_LANDS.includes(what)) {
        const log = refusal?.logs.filter((l) => !/^Program \w+ (invoke|success|consumed)/.test(l)).slice(-2).join(" / ");
        throw new FinalFailure(`Broadcast refused: ${what}${log ? ` (${log})` : ""}`);
      }
      // An earlier attempt may have landed: tracking finds out.
    }
  }

  // ------------------------------------------------------------ track

  async track(row: RequestRow): Promise<Tracked> {
    const commitment = commitmentOf(this.ctx.network);
    const signature = row.tx_hash!;
    const status = await this.rpc.status(signature);
    if (status) {
      const slot = Number(status.slot);
      if (status.err !== null) {
        const fee = await this.rpc.fee(signature, "confirmed");
        return { status: "Failed", reason: `Transaction failed on chain: ${describeTxError(status.err)}`, blockNumber: slot, ...(fee !== null ? { fee: fee.toString() } : {}) };
      }
      const reached = status.confirmationStatus === "finalized" || (commitment === "confirmed" && status.confirmationStatus === "confirmed");
      if (!reached) return { status: "waiting", blockNumber: slot };
      const fee = await this.rpc.fee(signature, commitment);
      if (fee === null) return { status: "waiting", blockNumber: slot };
      return { status: "Confirmed", fee: fee.toString(), blockNumber: slot };
    }
    const lifetime = this.lifetime(row.id)!;
    if ((await this.rpc.blockHeight()) > lifetime.lastValid) {
      // Past its last valid block it can never land; ask once more in case it did meanwhile.
      if ((await this.rpc.status(signature)) === null) {
        return { status: "Failed", reason: `Expired: not in a block before its blockhash ${lifetime.blockhash} expired (last valid block height ${lifetime.lastValid}); nothing was spent` };
      }
      return { status: "waiting" };
    }
    // Not seen yet: leaders drop transactions under load, so the same bytes go out again.
    await this.rpc.send(row.raw_tx!, { skipPreflight: true }).catch((err) => {
      if (!(err instanceof RpcError) || !err.isNodeError) throw err;
    });
    this.ctx.store.update(row.id, { broadcasts: row.broadcasts + 1 });
    return { status: "waiting", reason: `Not in a block yet: re-sent the same signed transaction (${row.broadcasts + 1} sends)` };
  }

  unbuild(row: RequestRow): Partial<RequestRow> {
    this.release(row);
    // A caller-built transaction keeps its bytes (its lifetime is looked up again); a transfer gets a fresh blockhash.
    return { unsigned_tx: row.kind === "Transfer" ? null : row.unsigned_tx };
  }

  release(row: RequestRow): void {
    this.ctx.sql.exec("DELETE FROM solana_lifetimes WHERE request_id = ?", row.id);
  }
}
