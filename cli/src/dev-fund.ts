// `tessera dev fund <walletId> <amount>`: coins for a wallet on a local chain, from the chain's own
// faucet — Solana's requestAirdrop, anvil's anvil_setBalance, the regtest miner's coinbases — over the RPC URL that `npm start`
// wrote to .tessera/local.json (`chains`). One funder per chain family, picked by the wallet's
// network; the amount is in whole units of the chain's native asset (SOL, ETH, …).

export class FundError extends Error {}

export interface FundResult {
  network: string;
  address: string;
  /** What was added, in minimum units. */
  amount: string;
  /** The chain's record of it (a transaction signature), when there is one. */
  txId?: string;
  /** The address's balance afterwards, in minimum units, read back from the chain. */
  balance: string;
}

interface Funder {
  decimals: number;
  fund(rpcUrl: string, address: string, amount: bigint): Promise<Omit<FundResult, "network" | "address" | "amount">>;
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new FundError(`cannot reach ${new URL(url).origin}: ${(err as Error).message} (is \`npm start\` running?)`);
  }
  const body = (await res.json().catch(() => null)) as { result?: T; error?: { message: string } } | null;
  if (!body || body.error || !("result" in body)) throw new FundError(`${method} failed: ${body?.error?.message ?? `HTTP ${res.status}`}`);
  return body.result as T;
}

const solana: Funder = {
  decimals: 9,
  async fund(url, address, lamports) {
    const signature = await rpc<string>(url, "requestAirdrop", [address, Number(lamports)]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { value } = await rpc<{ value: ({ err: unknown; confirmationStatus: string } | null)[] }>(url, "getSignatureStatuses", [[signature]]);
      const s = value[0];
      if (s?.err) throw new FundError(`airdrop ${signature} failed: ${JSON.stringify(s.err)}`);
      if (s && s.confirmationStatus !== "processed") break;
      if (Date.now() > deadline) throw new FundError(`airdrop ${signature} not confirmed within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const { value } = await rpc<{ value: number }>(url, "getBalance", [address, { commitment: "confirmed" }]);
    return { txId: signature, balance: String(value) };
  },
};

const anvil: Funder = {
  decimals: 18,
  async fund(url, address, wei) {
    const before = BigInt(await rpc<string>(url, "eth_getBalance", [address, "latest"]));
    await rpc(url, "anvil_setBalance", [address, `0x${(before + wei).toString(16)}`]);
    return { balance: BigInt(await rpc<string>(url, "eth_getBalance", [address, "latest"])).toString() };
  },
};

/** Bitcoin regtest: mature coinbases of the local miner pay the wallet, in a block mined at once. */
const bitcoinRegtest: Funder = {
  decimals: 8,
  async fund(url, address, sats) {
    const { fundFromMiner, bitcoinRpc } = await import("../../scripts/btcd/regtest-miner.js");
    let paid;
    try {
      paid = await fundFromMiner(url, address, sats);
    } catch (err) {
      throw new FundError(`funding on BitcoinRegtest failed: ${(err as Error).message} (is \`npm start\` running?)`);
    }
    const rpc = bitcoinRpc(url);
    const txs = await rpc<{ txid: string; confirmations?: number; vin: { txid?: string; vout?: number }[]; vout: { value: number; n: number; scriptPubKey: { address?: string; addresses?: string[] } }[] }[]>("searchrawtransactions", [address, 1, 0, 1000]);
    const spent = new Set(txs.flatMap((t) => t.vin.map((i) => `${i.txid}:${i.vout}`)));
    let balance = 0n;
    for (const t of txs) for (const o of t.vout) if ((o.scriptPubKey.address === address || o.scriptPubKey.addresses?.includes(address)) && !spent.has(`${t.txid}:${o.n}`)) balance += BigInt(Math.round(o.value * 1e8));
    return { txId: paid.txid, balance: balance.toString() };
  },
};

/** The funder for a network, by chain family (a local network name starts with its family's). */
function funderFor(network: string): Funder | null {
  if (/^Solana/.test(network)) return solana;
  if (network === "Anvil") return anvil;
  if (network === "BitcoinRegtest") return bitcoinRegtest;
  return null;
}

/** "1.5" whole units → minimum units; refuses more decimals than the asset has. */
export function toMinimumUnits(amount: string, decimals: number): bigint {
  const m = /^(\d{1,30})(?:\.(\d+))?$/.exec(amount);
  if (!m) throw new FundError(`amount ${JSON.stringify(amount)} is not a positive decimal number`);
  const frac = m[2] ?? "";
  if (frac.length > decimals) throw new FundError(`amount ${amount} has more than ${decimals} decimals`);
  const units = BigInt(m[1]! + frac.padEnd(decimals, "0"));
  if (units === 0n) throw new FundError("amount must be more than 0");
  return units;
}

export async function devFund(wallet: { network: string; address?: string }, amount: string, chains: Record<string, string> | undefined): Promise<FundResult> {
  const funder = funderFor(wallet.network);
  if (!funder) throw new FundError(`dev fund does not know how to fund a ${wallet.network} wallet`);
  if (!wallet.address) throw new FundError(`the wallet has no ${wallet.network} address`);
  const url = chains?.[wallet.network];
  if (!url) throw new FundError(`no RPC URL for ${wallet.network} in the config's "chains" (written by \`npm start\`)`);
  const units = toMinimumUnits(amount, funder.decimals);
  const done = await funder.fund(url, wallet.address, units);
  return { network: wallet.network, address: wallet.address, amount: units.toString(), ...done };
}
