// A wallet's coins (UTXOs) and the choice of which to spend. Discovery asks the node for every
// transaction touching the wallet's address (btcd's searchrawtransactions, --addrindex, mempool
// included) and keeps the outputs paying the wallet's script that no listed transaction spends.
// Coins held by this wallet's requests still on their way are skipped (a reservation per outpoint in
// the wallet's Durable Object), so concurrent transfers never pick the same coin.
import { z } from "zod";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Sql } from "../../broadcast/sql.js";
import type { BitcoinRpc } from "./rpc.js";
import { isNotFound } from "./rpc.js";

export interface Coin {
  txid: string;
  vout: number;
  /** Satoshis. */
  amount: bigint;
  confirmations: number;
}

const satoshis = (btc: number) => BigInt(Math.round(btc * 1e8));

const verboseTx = z.object({
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  confirmations: z.number().int().optional(),
  vin: z.array(z.object({ txid: z.string().optional(), vout: z.number().int().optional(), coinbase: z.string().optional() })),
  vout: z.array(z.object({ value: z.number(), n: z.number().int(), scriptPubKey: z.object({ hex: z.string() }) })),
});

const PAGE = 500;

/** Unspent outputs paying `script` at `address` (confirmed or in the mempool). */
export async function discoverCoins(rpc: BitcoinRpc, address: string, script: Uint8Array): Promise<Coin[]> {
  const scriptHex = bytesToHex(script);
  const txs: z.infer<typeof verboseTx>[] = [];
  for (let skip = 0; ; skip += PAGE) {
    let page: z.infer<typeof verboseTx>[];
    try {
      page = await rpc.call("searchrawtransactions", [address, 1, skip, PAGE, 0, false], z.array(verboseTx));
    } catch (err) {
      if (isNotFound(err)) break; // an address the chain has never seen
      throw err;
    }
    txs.push(...page);
    if (page.length < PAGE) break;
  }
  const spent = new Set<string>();
  for (const tx of txs) for (const i of tx.vin) if (i.txid !== undefined && i.vout !== undefined) spent.add(`${i.txid}:${i.vout}`);
  const coins = new Map<string, Coin>();
  for (const tx of txs) {
    for (const o of tx.vout) {
      const key = `${tx.txid}:${o.n}`;
      if (o.scriptPubKey.hex !== scriptHex || spent.has(key)) continue;
      coins.set(key, { txid: tx.txid, vout: o.n, amount: satoshis(o.value), confirmations: tx.confirmations ?? 0 });
    }
  }
  return [...coins.values()];
}

// ---------------------------------------------------------------- reservations

export const COIN_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS bitcoin_coins (outpoint TEXT PRIMARY KEY, request_id TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS bitcoin_coins_request ON bitcoin_coins (request_id)`,
];

export class CoinReservations {
  constructor(private readonly sql: Sql) {}

  /** Outpoints held by requests of this wallet that are still on their way. */
  held(): Set<string> {
    const rows = this.sql
      .exec<{ outpoint: string }>(
        `SELECT c.outpoint AS outpoint FROM bitcoin_coins c JOIN chain_requests r ON r.id = c.request_id
         WHERE r.status IN ('Pending', 'Executing', 'Broadcasted')`,
      )
      .toArray();
    return new Set(rows.map((r) => r.outpoint));
  }

  /** Takes the coins for a request (synchronous: no other request interleaves). False when one is held already. */
  take(requestId: string, outpoints: string[]): boolean {
    const held = this.held();
    if (outpoints.some((o) => held.has(o))) return false;
    for (const o of outpoints) this.sql.exec("INSERT INTO bitcoin_coins (outpoint, request_id) VALUES (?, ?) ON CONFLICT (outpoint) DO UPDATE SET request_id = excluded.request_id", o, requestId);
    return true;
  }

  release(requestId: string): void {
    this.sql.exec("DELETE FROM bitcoin_coins WHERE request_id = ?", requestId);
  }

  /** True while another of this wallet's transactions is in flight (its change may be what we wait for). */
  othersInFlight(requestId: string): boolean {
    const row = this.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM bitcoin_coins c JOIN chain_requests r ON r.id = c.request_id WHERE r.status IN ('Executing', 'Broadcasted') AND r.id != ?`,
        requestId,
      )
      .toArray()[0];
    return (row?.n ?? 0) > 0;
  }
}

// ---------------------------------------------------------------- selection

export interface Selection {
  coins: Coin[];
  fee: bigint;
  /** 0 when the remainder is dust and goes to the fee. */
  change: bigint;
}

/**
 * Largest coins first until they pay `amount` and the fee at `feeRate` sat/vB for the transaction
 * they make (with a change output when the remainder is worth one). Null when the coins do not suffice.
 */
export function selectCoins(
  coins: Coin[],
  amount: bigint,
  feeRate: number,
  vsize: (inputs: number, withChange: boolean) => number,
  dust: bigint,
): Selection | null {
  const sorted = [...coins].sort((a, b) => (a.amount === b.amount ? b.confirmations - a.confirmations : a.amount > b.amount ? -1 : 1));
  const chosen: Coin[] = [];
  let total = 0n;
  for (const c of sorted) {
    chosen.push(c);
    total += c.amount;
    const feeWith = BigInt(Math.ceil(vsize(chosen.length, true) * feeRate));
    if (total >= amount + feeWith && total - amount - feeWith >= dust) return { coins: chosen, fee: feeWith, change: total - amount - feeWith };
    const feeWithout = BigInt(Math.ceil(vsize(chosen.length, false) * feeRate));
    if (total >= amount + feeWithout) return { coins: chosen, fee: total - amount, change: 0n };
  }
  return null;
}
