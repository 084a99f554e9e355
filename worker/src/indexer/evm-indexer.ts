// What moved to and from this deployment's wallets on one EVM network, read from the chain: native
// value carried by transactions, ERC-20 and ERC-721 `Transfer` logs. One indexer per network walks
// the chain block by block, only over blocks that have the network's confirmations (so a reorg
// shallower than that is never seen), checks each block's parent hash against the block it
// recorded before (a deeper reorg rolls its events back to the fork), and writes, in one synchronous
// section per batch of blocks: the events, one webhook event per event (`wallet.blockchainevent.detected`,
// its id derived from the event, so a batch processed twice can never announce twice), the block
// hashes and the cursor. A batch cut short by an eviction is simply processed again.
//
// Written against the Sql interface and an EvmRpc, so it runs in its Durable Object and, for
// component tests, on Node's SQLite against a real anvil.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { decodeFunctionResult, encodeFunctionData, getAddress, toHex, type Hex } from "viem";
import { z } from "zod";
import type { Sql } from "../broadcast/sql.js";
import { hexData, hexQuantity, RpcError, txHash, type EvmRpc } from "../networks/evm-rpc.js";
import type { NetworkConfig } from "../networks/networks.js";

/** keccak256("Transfer(address,address,uint256)"): the same topic for ERC-20 and ERC-721. */
export const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

const METADATA_ABI = [
  { type: "function", name: "symbol", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "string" }] },
  { type: "function", name: "decimals", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "uint8" }] },
] as const;

export const INDEXER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS watched (address TEXT PRIMARY KEY, org_id TEXT NOT NULL, wallet_id TEXT NOT NULL UNIQUE, since_block INTEGER)`,
  `CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), next_block INTEGER NOT NULL, last_run_at INTEGER)`,
  `CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS chain_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL, wallet_id TEXT NOT NULL,
     direction TEXT NOT NULL, kind TEXT NOT NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL, idx TEXT NOT NULL,
     timestamp TEXT NOT NULL, from_address TEXT, to_address TEXT, contract TEXT, value TEXT, token_id TEXT, fee TEXT, asset TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS chain_events_wallet ON chain_events (wallet_id, seq)`,
  `CREATE INDEX IF NOT EXISTS chain_events_block ON chain_events (block_number)`,
  `CREATE TABLE IF NOT EXISTS tokens (contract TEXT PRIMARY KEY, symbol TEXT, decimals INTEGER)`,
  `CREATE TABLE IF NOT EXISTS event_outbox (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, event TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL)`,
];

/** A Dfns BlockchainEvent (GET /wallets/:id/history item). */
export type BlockchainEvent = {
  walletId: string;
  direction: "In" | "Out";
  network: string;
  blockNumber: number;
  txHash: string;
  index: string;
  timestamp: string;
  metadata: { asset: { symbol?: string; decimals?: number; verified?: boolean }; fee?: { symbol: string; decimals: number; verified: true } };
  from: string;
  to: string;
  fee?: string;
} & (
  | { kind: "NativeTransfer"; value: string; symbol: string; decimals: number; verified: true }
  | { kind: "Erc20Transfer"; contract: string; value: string; symbol?: string; decimals: number; verified?: boolean }
  | { kind: "Erc721Transfer"; contract: string; tokenId: string; symbol?: string }
);

export type EventKind = BlockchainEvent["kind"];

/** The webhook event the indexer hands to the org's Webhooks object. */
export interface DetectedEvent {
  id: string;
  kind: "wallet.blockchainevent.detected";
  date: string;
  data: { walletId: string; blockchainEvent: BlockchainEvent };
}

type EventRow = {
  seq: number;
  id: string;
  org_id: string;
  wallet_id: string;
  direction: string;
  kind: string;
  block_number: number;
  tx_hash: string;
  idx: string;
  timestamp: string;
  from_address: string | null;
  to_address: string | null;
  contract: string | null;
  value: string | null;
  token_id: string | null;
  fee: string | null;
  asset: string;
};

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const blockSchema = z.object({
  number: hexQuantity,
  hash: txHash,
  parentHash: txHash,
  timestamp: hexQuantity,
  transactions: z.array(z.object({ hash: txHash, from: address, to: address.nullable().optional(), value: hexQuantity, transactionIndex: hexQuantity })),
});
type Block = z.infer<typeof blockSchema>;
const logSchema = z.object({
  address,
  topics: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/)),
  data: hexData,
  blockNumber: hexQuantity,
  transactionHash: txHash,
  logIndex: hexQuantity,
  removed: z.boolean().optional(),
});
type Log = z.infer<typeof logSchema>;
const receiptFee = z.object({ gasUsed: hexQuantity, effectiveGasPrice: hexQuantity }).nullable();

export interface IndexerDeps {
  sql: Sql;
  network: NetworkConfig;
  rpc: EvmRpc;
  now?: () => number;
  /** Blocks fetched per batch (one synchronous write per batch). */
  batchBlocks?: number;
}

export interface Watch {
  address: string;
  orgId: string;
  walletId: string;
}

const topicOf = (a: string) => `0x${a.slice(2).toLowerCase().padStart(64, "0")}`;
const addressOfTopic = (t: string) => getAddress(`0x${t.slice(26)}`);

export class EvmIndexer {
  private readonly now: () => number;
  private readonly batch: number;

  constructor(private readonly deps: IndexerDeps) {
    for (const stmt of INDEXER_SCHEMA) deps.sql.exec(stmt);
    this.now = deps.now ?? Date.now;
    this.batch = deps.batchBlocks ?? 20;
  }

  // ------------------------------------------------------------ addresses

  /**
   * Starts following an address (idempotent). The first address fixes where the walk starts: the
   * chain's current block — a wallet's address did not exist before it was created.
   */
  async watch(w: Watch): Promise<boolean> {
    const key = w.address.toLowerCase();
    const known = this.deps.sql.exec<{ wallet_id: string }>("SELECT wallet_id FROM watched WHERE address = ?", key).toArray()[0];
    if (known) return false;
    const latest = this.cursor() === null ? Number(await this.deps.rpc.call("eth_blockNumber", [], hexQuantity)) : null;
    this.deps.sql.exec("INSERT OR IGNORE INTO watched (address, org_id, wallet_id, since_block) VALUES (?, ?, ?, ?)", key, w.orgId, w.walletId, latest);
    if (latest !== null && this.cursor() === null) this.deps.sql.exec("INSERT OR IGNORE INTO cursor (id, next_block, last_run_at) VALUES (1, ?, NULL)", latest);
    return true;
  }

  watchedCount(): number {
    return this.deps.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM watched").toArray()[0]!.n;
  }

  private watched(): Map<string, { orgId: string; walletId: string }> {
    const out = new Map<string, { orgId: string; walletId: string }>();
    for (const r of this.deps.sql.exec<{ address: string; org_id: string; wallet_id: string }>("SELECT address, org_id, wallet_id FROM watched").toArray()) {
      out.set(r.address, { orgId: r.org_id, walletId: r.wallet_id });
    }
    return out;
  }

  private cursor(): { nextBlock: number; lastRunAt: number | null } | null {
    const r = this.deps.sql.exec<{ next_block: number; last_run_at: number | null }>("SELECT next_block, last_run_at FROM cursor WHERE id = 1").toArray()[0];
    return r ? { nextBlock: r.next_block, lastRunAt: r.last_run_at } : null;
  }

  /** When the walk last reached the chain's confirmed head (null: never). */
  lastRunAt(): number | null {
    return this.cursor()?.lastRunAt ?? null;
  }

  // ------------------------------------------------------------ the walk

  /** Processes every confirmed block not yet seen (bounded per call); returns how many were processed. */
  async run(maxBlocks = 200): Promise<number> {
    const start = this.cursor();
    if (!start) return 0;
    const latest = Number(await this.deps.rpc.call("eth_blockNumber", [], hexQuantity));
    const safe = latest - (this.deps.network.confirmations - 1);
    let processed = 0;
    while (processed < maxBlocks) {
      const from = this.cursor()!.nextBlock;
      if (from > safe) break;
      const to = Math.min(safe, from + this.batch - 1, from + (maxBlocks - processed) - 1);
      const done = await this.processRange(from, to);
      processed += done;
      if (done === 0) break; // rolled back after a reorg: the next call resumes from the fork
    }
    this.deps.sql.exec("UPDATE cursor SET last_run_at = ? WHERE id = 1", this.now());
    return processed;
  }

  private async processRange(from: number, to: number): Promise<number> {
    const rpc = this.deps.rpc;
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const blocks = await Promise.all(numbers.map((n) => rpc.call("eth_getBlockByNumber", [toHex(n), true], blockSchema.nullable())));
    if (blocks.some((b) => b === null)) return 0; // the node is behind its own eth_blockNumber: try later

    // Continuity: each block must sit on the one recorded (or fetched) before it.
    const prevHash = this.deps.sql.exec<{ hash: string }>("SELECT hash FROM blocks WHERE number = ?", from - 1).toArray()[0]?.hash;
    for (let i = 0; i < blocks.length; i++) {
      const parent = i === 0 ? prevHash : blocks[i - 1]!.hash;
      if (parent !== undefined && blocks[i]!.parentHash !== parent) {
        if (i === 0) {
          await this.rollBack(from - 1);
          return 0;
        }
        return 0; // the chain moved while we read it: read the range again
      }
    }

    const watched = this.watched();
    const watchedTopics = [...watched.keys()].map(topicOf);
    const range = { fromBlock: toHex(from), toBlock: toHex(to) };
    const [incoming, outgoing] = watchedTopics.length
      ? await Promise.all([
          rpc.call("eth_getLogs", [{ ...range, topics: [TRANSFER_TOPIC, null, watchedTopics] }], z.array(logSchema)),
          rpc.call("eth_getLogs", [{ ...range, topics: [TRANSFER_TOPIC, watchedTopics] }], z.array(logSchema)),
        ])
      : [[], []];

    const byNumber = new Map(blocks.map((b) => [Number(b!.number), b!]));
    const found: { row: Omit<EventRow, "seq">; order: [number, number] }[] = [];
    const fees = new Map<string, string>();
    const feeOf = async (hash: string) => {
      if (!fees.has(hash)) {
        const r = await rpc.call("eth_getTransactionReceipt", [hash], receiptFee);
        fees.set(hash, r ? (r.gasUsed * r.effectiveGasPrice).toString() : "");
      }
      return fees.get(hash) || null;
    };
    const native = this.deps.network.nativeAsset;

    for (const b of blocks as Block[]) {
      const timestamp = new Date(Number(b.timestamp) * 1000).toISOString();
      for (const tx of b.transactions) {
        if (tx.value === 0n) continue;
        const fromW = watched.get(tx.from.toLowerCase());
        const toW = tx.to ? watched.get(tx.to.toLowerCase()) : undefined;
        for (const [direction, w] of [["Out", fromW], ["In", toW]] as const) {
          if (!w) continue;
          found.push({
            order: [Number(b.number), Number(tx.transactionIndex) * 100_000],
            row: {
              ...this.base(w, direction, "NativeTransfer", Number(b.number), tx.hash, `tx${Number(tx.transactionIndex)}`, timestamp),
              from_address: getAddress(tx.from),
              to_address: tx.to ? getAddress(tx.to) : null,
              contract: null,
              value: tx.value.toString(),
              token_id: null,
              fee: direction === "Out" ? await feeOf(tx.hash) : null,
              asset: JSON.stringify({ symbol: native.symbol, decimals: native.decimals, verified: true }),
            },
          });
        }
      }
    }

    const logs = new Map<string, Log>();
    for (const l of [...incoming, ...outgoing]) if (!l.removed) logs.set(`${l.transactionHash}:${l.logIndex}`, l);
    for (const l of logs.values()) {
      const block = byNumber.get(Number(l.blockNumber));
      if (!block || l.topics.length < 3) continue;
      const erc721 = l.topics.length === 4;
      if (!erc721 && l.data.length !== 66) continue; // not an ERC-20 Transfer(uint256)
      const fromA = addressOfTopic(l.topics[1]!);
      const toA = addressOfTopic(l.topics[2]!);
      const contract = getAddress(l.address);
      const meta = await this.tokenMetadata(contract, erc721);
      const timestamp = new Date(Number(block.timestamp) * 1000).toISOString();
      for (const [direction, w] of [["Out", watched.get(fromA.toLowerCase())], ["In", watched.get(toA.toLowerCase())]] as const) {
        if (!w) continue;
        found.push({
          order: [Number(l.blockNumber), 50_000 + Number(l.logIndex)],
          row: {
            ...this.base(w, direction, erc721 ? "Erc721Transfer" : "Erc20Transfer", Number(l.blockNumber), l.transactionHash, String(Number(l.logIndex)), timestamp),
            from_address: fromA,
            to_address: toA,
            contract,
            value: erc721 ? null : BigInt(l.data).toString(),
            token_id: erc721 ? BigInt(l.topics[3]!).toString() : null,
            fee: direction === "Out" ? await feeOf(l.transactionHash) : null,
            asset: JSON.stringify({ ...(meta.symbol !== null ? { symbol: meta.symbol } : {}), ...(erc721 ? {} : { decimals: meta.decimals ?? 0 }), verified: this.verified(contract) }),
          },
        });
      }
    }
    found.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);

    // One synchronous section: events, their webhook events, the block hashes and the cursor.
    const now = this.now();
    for (const { row } of found) {
      const inserted = this.deps.sql
        .exec<{ seq: number }>(
          `INSERT INTO chain_events (id, org_id, wallet_id, direction, kind, block_number, tx_hash, idx, timestamp, from_address, to_address, contract, value, token_id, fee, asset)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING seq`,
          row.id, row.org_id, row.wallet_id, row.direction, row.kind, row.block_number, row.tx_hash, row.idx, row.timestamp,
          row.from_address, row.to_address, row.contract, row.value, row.token_id, row.fee, row.asset,
        )
        .toArray()[0];
      if (!inserted) continue;
      const event: DetectedEvent = {
        id: `whe-${row.id.slice(4)}`,
        kind: "wallet.blockchainevent.detected",
        date: new Date(now).toISOString(),
        data: { walletId: row.wallet_id, blockchainEvent: this.wire({ ...row, seq: inserted.seq }) },
      };
      this.deps.sql.exec("INSERT OR IGNORE INTO event_outbox (id, org_id, event, next_attempt_at) VALUES (?, ?, ?, ?)", event.id, row.org_id, JSON.stringify(event), now);
    }
    for (const b of blocks as Block[]) this.deps.sql.exec("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)", Number(b.number), b.hash);
    this.deps.sql.exec("DELETE FROM blocks WHERE number < ?", to - 256);
    this.deps.sql.exec("UPDATE cursor SET next_block = ? WHERE id = 1", to + 1);
    return blocks.length;
  }

  /**
   * A block we recorded is no longer on the chain (a reorg deeper than the confirmations): walk
   * back to the last block both agree on and forget what was read after it. Webhooks already sent
   * for the forgotten events are not recalled; the events found again on the new chain keep their
   * ids when they are the same transfer in the same position.
   */
  private async rollBack(number: number): Promise<void> {
    let n = number;
    for (; n >= 0; n--) {
      const recorded = this.deps.sql.exec<{ hash: string }>("SELECT hash FROM blocks WHERE number = ?", n).toArray()[0];
      if (!recorded) break;
      const onChain = await this.deps.rpc.call("eth_getBlockByNumber", [toHex(n), false], z.object({ hash: txHash }).nullable());
      if (onChain?.hash === recorded.hash) break;
    }
    console.error(`indexer ${this.deps.network.id}: reorg below the confirmation depth, re-reading from block ${n + 1}`);
    this.deps.sql.exec("DELETE FROM chain_events WHERE block_number > ?", n);
    this.deps.sql.exec("DELETE FROM blocks WHERE number > ?", n);
    this.deps.sql.exec("UPDATE cursor SET next_block = ? WHERE id = 1", n + 1);
  }

  private base(w: { orgId: string; walletId: string }, direction: "In" | "Out", kind: EventKind, block: number, hash: string, idx: string, timestamp: string) {
    // Derived from what the event is, so the same transfer read twice is the same row and webhook.
    const digest = bytesToHex(sha256(utf8ToBytes(`${this.deps.network.id}:${hash}:${idx}:${w.walletId}:${direction}`))).slice(0, 32);
    return { id: `bce-${digest}`, org_id: w.orgId, wallet_id: w.walletId, direction, kind, block_number: block, tx_hash: hash, idx, timestamp };
  }

  private verified(contract: string): boolean {
    return this.deps.network.tokens.some((t) => t.contract.toLowerCase() === contract.toLowerCase());
  }

  /** Symbol and decimals of a token contract, read once and kept (absent when it does not say). */
  private async tokenMetadata(contract: string, erc721: boolean): Promise<{ symbol: string | null; decimals: number | null }> {
    const known = this.deps.network.tokens.find((t) => t.contract.toLowerCase() === contract.toLowerCase());
    if (known) return { symbol: known.symbol, decimals: known.decimals };
    const row = this.deps.sql.exec<{ symbol: string | null; decimals: number | null }>("SELECT symbol, decimals FROM tokens WHERE contract = ?", contract).toArray()[0];
    if (row) return row;
    const read = async (functionName: "symbol" | "decimals"): Promise<unknown> => {
      try {
        const out = await this.deps.rpc.call("eth_call", [{ to: contract, data: encodeFunctionData({ abi: METADATA_ABI, functionName }) }, "latest"], hexData);
        return decodeFunctionResult({ abi: METADATA_ABI, functionName, data: out as Hex }) as unknown;
      } catch (err) {
        if (err instanceof RpcError && !err.isNodeError) throw err; // unreachable: retry the batch
        return null; // the contract does not implement it
      }
    };
    const [symbol, decimals] = await Promise.all([read("symbol"), erc721 ? Promise.resolve(null) : read("decimals")]);
    const out = { symbol: symbol === null ? null : String(symbol), decimals: decimals === null ? null : Number(decimals) };
    this.deps.sql.exec("INSERT OR REPLACE INTO tokens (contract, symbol, decimals) VALUES (?, ?, ?)", contract, out.symbol, out.decimals);
    return out;
  }

  // ------------------------------------------------------------ reading back

  /** A wallet's history, newest first (Dfns GET /wallets/:id/history). */
  history(walletId: string, q: { limit: number; before?: number; direction?: "In" | "Out"; kind?: string; contract?: string }): { items: BlockchainEvent[]; nextPageToken?: string } {
    const where = ["wallet_id = ?"];
    const args: (string | number)[] = [walletId];
    if (q.before !== undefined) (where.push("seq < ?"), args.push(q.before));
    if (q.direction) (where.push("direction = ?"), args.push(q.direction));
    if (q.kind) (where.push("kind = ?"), args.push(q.kind));
    if (q.contract) (where.push("lower(contract) = ?"), args.push(q.contract.toLowerCase()));
    const rows = this.deps.sql.exec<EventRow>(`SELECT * FROM chain_events WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`, ...args, q.limit + 1).toArray();
    const page = rows.slice(0, q.limit);
    return { items: page.map((r) => this.wire(r)), ...(rows.length > q.limit ? { nextPageToken: String(page[page.length - 1]!.seq) } : {}) };
  }

  /** ERC-20 contracts this wallet received or sent, for token discovery in the assets endpoint. */
  erc20Contracts(walletId: string): string[] {
    return this.deps.sql.exec<{ contract: string }>("SELECT DISTINCT contract FROM chain_events WHERE wallet_id = ? AND kind = 'Erc20Transfer'", walletId).toArray().map((r) => r.contract);
  }

  /** ERC-721 tokens whose last recorded transfer for this wallet brought them in. */
  nftCandidates(walletId: string): { contract: string; tokenId: string; symbol?: string }[] {
    const rows = this.deps.sql
      .exec<{ contract: string; token_id: string; direction: string; asset: string }>(
        `SELECT contract, token_id, direction, asset FROM chain_events e WHERE wallet_id = ? AND kind = 'Erc721Transfer'
           AND seq = (SELECT MAX(seq) FROM chain_events f WHERE f.wallet_id = e.wallet_id AND f.kind = 'Erc721Transfer' AND f.contract = e.contract AND f.token_id = e.token_id)`,
        walletId,
      )
      .toArray();
    return rows
      .filter((r) => r.direction === "In")
      .map((r) => {
        const symbol = (JSON.parse(r.asset) as { symbol?: string }).symbol;
        return { contract: r.contract, tokenId: r.token_id, ...(symbol ? { symbol } : {}) };
      });
  }

  private wire(r: EventRow): BlockchainEvent {
    const asset = JSON.parse(r.asset) as { symbol?: string; decimals?: number; verified?: boolean };
    const native = this.deps.network.nativeAsset;
    const common = {
      walletId: r.wallet_id,
      direction: r.direction as "In" | "Out",
      network: this.deps.network.id,
      blockNumber: r.block_number,
      txHash: r.tx_hash,
      index: r.idx,
      timestamp: r.timestamp,
      metadata: { asset, ...(r.fee !== null ? { fee: { symbol: native.symbol, decimals: native.decimals, verified: true as const } } : {}) },
      from: r.from_address ?? "",
      to: r.to_address ?? "",
      ...(r.fee !== null ? { fee: r.fee } : {}),
    };
    if (r.kind === "NativeTransfer") return { ...common, kind: "NativeTransfer", value: r.value!, symbol: native.symbol, decimals: native.decimals, verified: true };
    if (r.kind === "Erc20Transfer") {
      return { ...common, kind: "Erc20Transfer", contract: r.contract!, value: r.value!, ...(asset.symbol ? { symbol: asset.symbol } : {}), decimals: asset.decimals ?? 0, verified: asset.verified ?? false };
    }
    return { ...common, kind: "Erc721Transfer", contract: r.contract!, tokenId: r.token_id!, ...(asset.symbol ? { symbol: asset.symbol } : {}) };
  }

  // ------------------------------------------------------------ webhook outbox

  /** Hands due webhook events to `publish` (the org's Webhooks object); a failure is retried with backoff. */
  async drainOutbox(publish: (orgId: string, event: DetectedEvent) => Promise<void>): Promise<void> {
    const now = this.now();
    const due = this.deps.sql.exec<{ id: string; org_id: string; event: string; attempts: number }>("SELECT id, org_id, event, attempts FROM event_outbox WHERE next_attempt_at <= ? ORDER BY rowid LIMIT 100", now).toArray();
    for (const row of due) {
      try {
        await publish(row.org_id, JSON.parse(row.event) as DetectedEvent);
        this.deps.sql.exec("DELETE FROM event_outbox WHERE id = ?", row.id);
      } catch (err) {
        const attempts = row.attempts + 1;
        console.error(`indexer ${this.deps.network.id}: webhook hand-off failed (${attempts}):`, (err as Error).message);
        this.deps.sql.exec("UPDATE event_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?", attempts, now + Math.min(500 * 2 ** attempts, 60_000), row.id);
      }
    }
  }

  nextOutboxAt(): number | null {
    return this.deps.sql.exec<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM event_outbox").toArray()[0]?.t ?? null;
  }
}
