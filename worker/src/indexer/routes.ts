// Dfns GET /wallets/:walletId/history and /nfts: what the network's indexer found for the wallet
// (incoming and outgoing native value, ERC-20 and ERC-721 transfers, from confirmed blocks).
import { Hono, type Context } from "hono";
import { decodeFunctionResult, encodeFunctionData, getAddress } from "viem";
import { z } from "zod";
import type { AppEnv } from "../http/app-env.js";
import { parseQuery } from "../http/body.js";
import { ApiError } from "../http/errors.js";
import { EvmRpc, hexData, RpcError } from "../networks/evm-rpc.js";
import { networkFor, type NetworkConfig } from "../networks/networks.js";
import { permit } from "../permissions/permit.js";
import { requireWallet } from "../wallets/routes.js";
import type { WalletRecord } from "../wallets/wallet-registry.js";
import { indexerOf } from "./network-indexer.js";

export const indexerRoutes = new Hono<AppEnv>();

const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  paginationToken: z.string().regex(/^\d{1,15}$/, "unknown token").optional(),
  direction: z.enum(["In", "Out"]).optional(),
  kind: z.enum(["NativeTransfer", "Erc20Transfer", "Erc721Transfer"]).optional(),
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address").optional(),
});

const ERC721_ABI = [
  { type: "function", name: "ownerOf", stateMutability: "view", inputs: [{ name: "tokenId", type: "uint256" }], outputs: [{ name: "", type: "address" }] },
  { type: "function", name: "tokenURI", stateMutability: "view", inputs: [{ name: "tokenId", type: "uint256" }], outputs: [{ name: "", type: "string" }] },
] as const;

/** The wallet's EVM network and its indexer (following the wallet's address, idempotently). */
export async function watchedWallet(c: Context<AppEnv>): Promise<{ wallet: WalletRecord; network: NetworkConfig; indexer: ReturnType<typeof indexerOf> }> {
  const wallet = await requireWallet(c);
  const network = networkFor(c.env, wallet.network);
  if (!network.ok) throw new ApiError(400, network.reason);
  if (network.config.family !== "evm") throw new ApiError(400, `History and NFTs are indexed for EVM networks; ${wallet.network} is not one`);
  if (!wallet.address) throw new ApiError(400, `Wallet ${wallet.id} has no address`);
  const indexer = indexerOf(c.env, wallet.network);
  try {
    await indexer.watch(wallet.network, { address: wallet.address, orgId: wallet.orgId, walletId: wallet.id });
  } catch (err) {
    throw new ApiError(503, `Cannot follow ${wallet.network}: ${(err as Error).message}`);
  }
  return { wallet, network: network.config, indexer };
}

indexerRoutes.get("/wallets/:walletId/history", permit("Wallets:Read"), async (c) => {
  const q = parseQuery(c, historyQuery);
  const { wallet, indexer } = await watchedWallet(c);
  const page = await indexer.history(wallet.network, wallet.id, {
    limit: q.limit,
    ...(q.paginationToken ? { before: Number(q.paginationToken) } : {}),
    ...(q.direction ? { direction: q.direction } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.contract ? { contract: q.contract } : {}),
  });
  return c.json({ walletId: wallet.id, network: wallet.network, items: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) });
});

indexerRoutes.get("/wallets/:walletId/nfts", permit("Wallets:Read"), async (c) => {
  const { wallet, network, indexer } = await watchedWallet(c);
  const rpc = new EvmRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });
  const candidates = await indexer.nftCandidates(wallet.network, wallet.id);
  try {
    // The indexer says what came in and did not leave; the contract has the last word on ownership.
    const owned = await Promise.all(
      candidates.map(async (n) => {
        const call = async (functionName: "ownerOf" | "tokenURI") => {
          const data = encodeFunctionData({ abi: ERC721_ABI, functionName, args: [BigInt(n.tokenId)] });
          try {
            return decodeFunctionResult({ abi: ERC721_ABI, functionName, data: await rpc.call("eth_call", [{ to: n.contract, data }, "latest"], hexData) });
          } catch (err) {
            if (err instanceof RpcError && !err.isNodeError) throw err;
            return null;
          }
        };
        const owner = await call("ownerOf");
        if (typeof owner !== "string" || getAddress(owner) !== getAddress(wallet.address!)) return null;
        const uri = await call("tokenURI");
        return { kind: "Erc721" as const, contract: n.contract, tokenId: n.tokenId, ...(n.symbol ? { symbol: n.symbol } : {}), ...(typeof uri === "string" && uri ? { tokenUri: uri } : {}) };
      }),
    );
    return c.json({ walletId: wallet.id, network: wallet.network, nfts: owned.filter((n) => n !== null) });
  } catch (err) {
    if (err instanceof RpcError) throw new ApiError(503, `Cannot read NFTs: ${err.message}`);
    throw err;
  }
});
