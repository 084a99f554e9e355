// What the transfer engine (../broadcast/transfer-engine.ts) needs from a chain family. The engine
// owns the request's life — Pending → Executing → Broadcasted → Confirmed / Failed / Rejected,
// retries with backoff, webhooks, the policy reservation — and knows nothing about any chain. A
// family (evm/, bitcoin/, solana/) turns a request row into chain bytes and back:
//
//   build      everything signing needs, written to the row (the unsigned transaction; EVM also
//              its nonce, Bitcoin the coins it spends)
//   sign       ask the share holders (each node recomputes what it signs from the user's body with
//              the family's pure rules in shared/src/chains/<family>/) → the signed bytes + id
//   broadcast  hand the signed bytes to the chain
//   track      what became of them: still waiting, Confirmed (with fee), Failed (with reason)
//   release    the request ended before its transaction could reach the chain: give back what
//              build reserved (a nonce, coins)
//
// At the edge, before any of that, the family checks a request against the wallet's network and
// says what moves (for the policy engine), and reads balances — see ChainFamily at the end.
//
// Each method reads the row it is given and may write the family's own columns/tables through the
// context; the engine writes status changes. Errors: throw FinalFailure for a failure that is final
// for this request; anything else is temporary (the engine keeps the row and retries later).
import type { BroadcastBody, TransferBody } from "../broadcast/wire.js";
import type { NetworkConfig } from "../networks/networks.js";
import type { RequestRow, RequestStore } from "../broadcast/request-store.js";
import type { Sql } from "../broadcast/sql.js";
import type { WalletRecord } from "../broadcast/wallet-directory.js";
import type { SigningAuthorization, SigningCoordinator } from "../signing/authorization.js";

/** A failure that ends the request (Failed with this message); any other error is retried. */
export class FinalFailure extends Error {}

export interface ChainContext {
  sql: Sql;
  store: RequestStore;
  network: NetworkConfig;
  signer: SigningCoordinator;
  /** The wallet the Durable Object serves. */
  wallet(): WalletRecord;
  now(): number;
  newId(kind: "xfr" | "tx" | "whe"): string;
  /** Engine timing the family may use for its own housekeeping. */
  timing: { nonceFillDelayMs: number };
}

export type Tracked =
  /** Not final yet; `blockNumber` once included. The engine polls again after the network's interval. */
  | { status: "waiting"; blockNumber?: number; reason?: string }
  | { status: "Confirmed"; fee: string; blockNumber: number }
  | { status: "Failed"; reason: string; fee?: string; blockNumber?: number };

export interface TransferChain {
  /** Tables this family keeps in the wallet's object (created with the engine's). */
  readonly schema: readonly string[];
  /** True once the row holds everything `sign` needs. */
  built(row: RequestRow): boolean;
  build(row: RequestRow): Promise<void>;
  sign(row: RequestRow): Promise<{ raw: string; hash: string }>;
  /** Sends the row's signed bytes; returns once the node took them (or may have). */
  broadcast(row: RequestRow): Promise<void>;
  track(row: RequestRow): Promise<Tracked>;
  release(row: RequestRow): void;
  /**
   * The request goes back to wait for an approval, unsigned (the share holders refused it under a
   * policy that landed after the gate allowed it): give back what `build` reserved and return the
   * columns `build` wrote as they were when the request was recorded, so that it is built afresh
   * (nonce, fees, coins, blockhash) once approved.
   */
  unbuild(row: RequestRow): Partial<RequestRow>;
  /**
   * Speed-up or cancel of a request whose transaction was broadcast and has not confirmed (EVM:
   * a new transaction at the same nonce, signed under the user's speed-up / cancel action).
   * Families without replacement leave it out.
   */
  replace?(row: RequestRow, mode: "SpeedUp" | "Cancel", userAction: SigningAuthorization["userAction"]): Promise<{ hash: string }>;
  /** Work the family schedules itself, run on every wake-up (EVM: filling nonce gaps). */
  housekeeping?: {
    run(now: number): void;
    nextWakeAt(): number | null;
    busy(): boolean;
  };
}

/** One chain family's transfer logic, bound to one wallet's object. */
export type TransferChainFactory = (ctx: ChainContext) => TransferChain;

// ---------------------------------------------------------------- the edge's side of a family

export type FamilyName = "evm" | "bitcoin" | "solana";

/** A transfer or caller-built transaction, checked against the wallet's network, before it is recorded. */
export interface PreparedRequest {
  kind: "Transfer" | "Transaction";
  /** What moves: recipient (or contract), value in minimum units, call data ("0x" when none). */
  call: { to: string; value: bigint; data: string };
  /** A caller-built unsigned transaction, signed byte for byte as given. */
  unsignedTransaction?: string;
  priority: "Slow" | "Standard" | "Fast";
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  asset: { symbol: string; decimals: number; contract?: string; verified?: boolean };
  externalId: string | null;
  /** What moves, in the asset's minimum units, for the policy engine (absent: nothing of value). */
  amount?: string;
  /** The recipient, as the policy engine compares it (normalized). */
  to: string;
}

export interface AssetBalance {
  kind: string;
  symbol: string;
  decimals: number;
  balance: string;
  verified: boolean;
  contract?: string;
  mint?: string;
}

export interface ChainFamily {
  readonly name: FamilyName;
  /** Could `address` be a recipient on one of this family's networks? (the wallet-less first check of a body) */
  isAddress(address: string): boolean;
  /** The transfer body for this wallet → what moves; throws ApiError 400 when it does not fit the network. */
  prepareTransfer(network: NetworkConfig, wallet: WalletRecord, body: TransferBody): Promise<PreparedRequest>;
  /** POST …/transactions for this wallet; throws ApiError 400 when the family does not take such a body. */
  prepareTransaction(network: NetworkConfig, wallet: WalletRecord, body: BroadcastBody): PreparedRequest;
  /** GET …/assets: the native balance and the tokens the family knows of (`sent`: contracts this wallet sent). */
  balances(network: NetworkConfig, wallet: WalletRecord, sent: string[]): Promise<AssetBalance[]>;
  /** The transfer logic for one wallet's object. */
  transfers(network: NetworkConfig): TransferChainFactory;
}
