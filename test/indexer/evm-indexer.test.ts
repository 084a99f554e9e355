// The indexer on Node's SQLite against a real anvil: native value, ERC-20 and ERC-721 transfers to
// and from watched addresses, found once each (a second walk over the same blocks adds nothing,
// announces nothing), confirmations respected, and a reorg under the confirmation depth rolled back.
import { encodeFunctionData, getAddress, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvmIndexer, type DetectedEvent } from "../../worker/src/indexer/evm-indexer.js";
import { EvmRpc } from "../../worker/src/networks/evm-rpc.js";
import { loadNetworks, type NetworkConfig } from "../../worker/src/networks/networks.js";
import { ERC20_ABI } from "../../worker/src/chains/evm/transaction.js";
import { startAnvil, type Anvil } from "../chain/anvil.js";
import { deploy, mintNft } from "../chain/contracts.js";
import { deployTestToken, waitReceipt } from "../chain/erc20.js";
import { nodeSql } from "../chain/node-sql.js";
import { randomAddress } from "../broadcast/harness.js";

let anvil: Anvil;
let outside: Address;

function networkAt(url: string, confirmations: number): NetworkConfig {
  const n = loadNetworks({ ANVIL_RPC_URL: url, TESSERA_NETWORKS: JSON.stringify({ Anvil: { confirmations, pollIntervalMs: 50 } }) }).Anvil;
  if (!n.ok) throw new Error(n.reason);
  return n.config;
}

function indexerFor(confirmations = 1) {
  const network = networkAt(anvil.url, confirmations);
  return new EvmIndexer({ sql: nodeSql(), network, rpc: new EvmRpc({ urls: network.rpcUrls, timeoutMs: 2_000 }), batchBlocks: 5 });
}

async function send(tx: { to: Address; value?: bigint; data?: Hex; from?: Address }): Promise<Hex> {
  const hash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: tx.from ?? outside, to: tx.to, ...(tx.value ? { value: `0x${tx.value.toString(16)}` } : {}), ...(tx.data ? { data: tx.data } : {}) }]);
  await waitReceipt(anvil, hash);
  return hash;
}

const published = async (ix: EvmIndexer) => {
  const out: DetectedEvent[] = [];
  await ix.drainOutbox(async (_org, e) => void out.push(e));
  return out;
};

beforeAll(async () => {
  anvil = await startAnvil();
  outside = (await anvil.rpc<Address[]>("eth_accounts"))[0]!;
}, 60_000);
afterAll(async () => anvil?.stop());

describe("the EVM indexer", () => {
  it("finds native, ERC-20 and ERC-721 deposits and withdrawals of watched addresses, once each", async () => {
    const ix = indexerFor();
    const [, second] = await anvil.rpc<Address[]>("eth_accounts");
    const wallet = second!; // an unlocked account, so the test can also send from it
    await ix.watch({ address: wallet, orgId: "or-1", walletId: "wa-1" });
    const token = await deployTestToken(anvil, outside, 1_000_000n);
    const nft = await deploy(anvil, "TestNft");
    const ethIn = await send({ to: wallet, value: 12345n });
    const tokIn = await send({ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: "transfer", args: [wallet, 777n] }) });
    await mintNft(anvil, nft, wallet, 42n);
    const away = randomAddress();
    const ethOut = await send({ from: wallet, to: away, value: 5n });
    await send({ to: randomAddress(), value: 1n }); // nobody we watch

    await ix.run();
    const page = ix.history("wa-1", { limit: 10 });
    expect(page.items.map((i) => [i.kind, i.direction])).toEqual([
      ["NativeTransfer", "Out"],
      ["Erc721Transfer", "In"],
      ["Erc20Transfer", "In"],
      ["NativeTransfer", "In"],
    ]);
    const [out, nftIn, erc20, native] = page.items;
    expect(native).toMatchObject({ walletId: "wa-1", network: "Anvil", txHash: ethIn, from: getAddress(outside), to: getAddress(wallet), value: "12345", symbol: "ETH", decimals: 18 });
    expect(erc20).toMatchObject({ txHash: tokIn, contract: getAddress(token), value: "777", symbol: "TTT", decimals: 6, metadata: { asset: { symbol: "TTT", decimals: 6 } } });
    expect(nftIn).toMatchObject({ contract: getAddress(nft), tokenId: "42", symbol: "TNFT" });
    expect(out).toMatchObject({ txHash: ethOut, to: getAddress(away), value: "5" });
    expect(BigInt(out!.fee!)).toBeGreaterThan(0n);
    expect(ix.erc20Contracts("wa-1")).toEqual([getAddress(token)]);
    expect(ix.nftCandidates("wa-1")).toEqual([{ contract: getAddress(nft), tokenId: "42", symbol: "TNFT" }]);

    const events = await published(ix);
    expect(events.map((e) => e.kind)).toEqual(Array(4).fill("wallet.blockchainevent.detected"));
    expect(new Set(events.map((e) => e.id)).size).toBe(4);

    // The same blocks walked again (as after an eviction mid-batch): nothing new, nothing announced.
    ix["deps"].sql.exec("UPDATE cursor SET next_block = next_block - 6 WHERE id = 1");
    await ix.run();
    expect(ix.history("wa-1", { limit: 10 }).items).toHaveLength(4);
    expect(await published(ix)).toEqual([]);

    // Pagination, newest first, and filters.
    const first = ix.history("wa-1", { limit: 3 });
    const rest = ix.history("wa-1", { limit: 3, before: Number(first.nextPageToken) });
    expect([...first.items, ...rest.items].map((i) => i.txHash)).toEqual(page.items.map((i) => i.txHash));
    expect(rest.nextPageToken).toBeUndefined();
    expect(ix.history("wa-1", { limit: 10, direction: "In", kind: "NativeTransfer" }).items.map((i) => i.txHash)).toEqual([ethIn]);
  }, 60_000);

  it("reports a block only once it has the network's confirmations", async () => {
    const ix = indexerFor(3);
    const wallet = randomAddress();
    await ix.watch({ address: wallet, orgId: "or-1", walletId: "wa-2" });
    await send({ to: wallet, value: 1n });
    await ix.run();
    expect(ix.history("wa-2", { limit: 10 }).items).toEqual([]);
    await anvil.rpc("anvil_mine", ["0x2"]);
    await ix.run();
    expect(ix.history("wa-2", { limit: 10 }).items).toHaveLength(1);
  }, 30_000);

  it("a reorg below the confirmation depth rolls the orphaned events back and reads the new chain", async () => {
    const ix = indexerFor(1);
    const wallet = randomAddress();
    await ix.watch({ address: wallet, orgId: "or-1", walletId: "wa-3" });
    const snapshot = await anvil.rpc<Hex>("evm_snapshot");
    const orphan = await send({ to: wallet, value: 111n });
    await ix.run();
    expect(ix.history("wa-3", { limit: 10 }).items.map((i) => i.txHash)).toEqual([orphan]);
    // Another history from the same height: a different block at the number the indexer saw.
    await anvil.rpc("evm_revert", [snapshot]);
    await anvil.rpc("anvil_mine", ["0x1"]);
    const kept = await send({ to: wallet, value: 222n });
    await ix.run();
    await ix.run();
    expect(ix.history("wa-3", { limit: 10 }).items.map((i) => [i.txHash, (i as { value?: string }).value])).toEqual([[kept, "222"]]);
  }, 30_000);
});
