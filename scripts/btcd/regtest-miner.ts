// The local regtest chain's miner: a well-known key (like anvil's dev accounts — public, regtest
// coins are worthless) that every block's coinbase pays, and a faucet that pays a wallet from
// those coinbases in a transaction mined into the next block. Used by the regtest runner
// (--miningaddr), `npx tessera dev fund` and the tests.
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { p2wpkh, Transaction } from "@scure/btc-signer";
import { secp256k1 } from "@noble/curves/secp256k1.js";

export const REGTEST = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const MINER_SECRET = sha256(utf8ToBytes("tessera bitcoin regtest miner (a public dev key; regtest coins are worthless)"));
const minerOutput = p2wpkh(secp256k1.getPublicKey(MINER_SECRET, true), REGTEST);
export const MINER_ADDRESS = minerOutput.address!;

/** Coinbase outputs mature after 100 blocks. */
const COINBASE_MATURITY = 100;
const FAUCET_FEE = 2_000n;

/** JSON-RPC 1.0 to btcd, credentials taken from the URL (http://user:pass@host:port). */
export function bitcoinRpc(url: string) {
  const u = new URL(url);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`;
  const endpoint = `${u.protocol}//${u.host}${u.pathname}`;
  let id = 1;
  return async function call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "1.0", id: id++, method, params }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let body: { result?: T; error?: { code: number; message: string } | null };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`${method}: HTTP ${res.status} ${text.slice(0, 120)}`);
    }
    if (body.error) throw new Error(`${method}: ${body.error.message} (code ${body.error.code})`);
    return body.result as T;
  };
}

interface Coin {
  txid: string;
  amount: bigint;
}

/** A random mature, unspent coinbase of the miner (probing a few heights). */
async function matureCoinbases(rpc: ReturnType<typeof bitcoinRpc>, wanted: bigint): Promise<Coin[]> {
  const height = await rpc<number>("getblockcount");
  const top = height - COINBASE_MATURITY;
  if (top < 1) throw new Error(`the chain has ${height} blocks; coinbases mature after ${COINBASE_MATURITY}`);
  const coins: Coin[] = [];
  let total = 0n;
  const tried = new Set<number>();
  while (total < wanted) {
    if (tried.size >= top) throw new Error(`the miner has less than ${wanted} sat in mature coinbases`);
    const h = 1 + Math.floor(Math.random() * top);
    if (tried.has(h)) continue;
    tried.add(h);
    const block = await rpc<{ tx: string[] }>("getblock", [await rpc<string>("getblockhash", [h])]);
    const txid = block.tx[0]!;
    const out = await rpc<{ value: number; scriptPubKey: { hex: string } } | null>("gettxout", [txid, 0, true]);
    if (!out || out.scriptPubKey.hex !== Buffer.from(minerOutput.script).toString("hex")) continue;
    const amount = BigInt(Math.round(out.value * 1e8));
    coins.push({ txid, amount });
    total += amount;
  }
  return coins;
}

/**
 * Pays `sats` to `address` from mature coinbases and mines the block that confirms it. Parallel
 * faucets may pick the same coinbase; the loser retries with others.
 */
export async function fundFromMiner(rpcUrl: string, address: string, sats: bigint): Promise<{ txid: string; blockHash: string }> {
  const rpc = bitcoinRpc(rpcUrl);
  for (let attempt = 1; ; attempt++) {
    const coins = await matureCoinbases(rpc, sats + FAUCET_FEE);
    const tx = new Transaction();
    let total = 0n;
    for (const c of coins) {
      tx.addInput({ txid: c.txid, index: 0, witnessUtxo: { script: minerOutput.script, amount: c.amount } });
      total += c.amount;
    }
    tx.addOutputAddress(address, sats, REGTEST);
    const change = total - sats - FAUCET_FEE;
    if (change > 1_000n) tx.addOutputAddress(MINER_ADDRESS, change, REGTEST);
    tx.sign(MINER_SECRET);
    tx.finalize();
    try {
      const txid = await rpc<string>("sendrawtransaction", [tx.hex]);
      const [blockHash] = await rpc<string[]>("generate", [1]);
      return { txid, blockHash: blockHash! };
    } catch (e) {
      if (attempt >= 5 || !/spent|orphan|double|already/i.test((e as Error).message)) throw e;
    }
  }
}
