// The Bitcoin chain family at the edge: Native transfers in satoshis (P2WPKH and Taproot wallets),
// balances from the wallet's coins, and the transfer logic (transfers.ts). Caller-built
// transactions go through generateSignature {kind: "Psbt"} (../../wallets), not POST …/transactions.
import { isBitcoinAddress, scriptOf } from "../../../../shared/src/chains/bitcoin/rules.js";
import { ApiError } from "../../http/errors.js";
import type { NetworkConfig } from "../../networks/networks.js";
import type { ChainFamily } from "../family.js";
import { discoverCoins } from "./coins.js";
import { BitcoinRpc } from "./rpc.js";
import { bitcoinTransfers, DUST, outputOf } from "./transfers.js";

const rpcOf = (network: NetworkConfig) => new BitcoinRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });

export const bitcoinFamily: ChainFamily = {
  name: "bitcoin",

  isAddress: isBitcoinAddress,

  async prepareTransfer(network, _wallet, body) {
    if (body.kind !== "Native") throw new ApiError(400, `Invalid request: kind: ${body.kind} transfers are not possible on ${network.id}; send kind Native (satoshis)`);
    try {
      scriptOf(body.to, network.id);
    } catch {
      throw new ApiError(400, `Invalid request: to: not a ${network.id} address`);
    }
    const amount = BigInt(body.amount);
    if (amount < DUST) throw new ApiError(400, `Invalid request: amount: ${amount} sat is below the dust limit of ${DUST} sat`);
    if (amount > 2_100_000_000_000_000n) throw new ApiError(400, "Invalid request: amount: more than 21 million BTC");
    return {
      kind: "Transfer",
      call: { to: body.to, value: amount, data: "0x" },
      priority: body.priority ?? "Standard",
      asset: { ...network.nativeAsset, verified: true },
      externalId: body.externalId ?? null,
      amount: body.amount,
      to: body.to,
    };
  },

  prepareTransaction(network) {
    throw new ApiError(400, `Invalid request: ${network.id} wallets sign caller-built transactions with POST /wallets/:walletId/signatures {kind: "Psbt", psbt}`);
  },

  async balances(network, wallet) {
    const coins = await discoverCoins(rpcOf(network), wallet.address, outputOf(wallet).script);
    const balance = coins.reduce((n, c) => n + c.amount, 0n);
    return [{ kind: "Native", symbol: network.nativeAsset.symbol, decimals: network.nativeAsset.decimals, balance: balance.toString(), verified: true }];
  },

  transfers: (network) => bitcoinTransfers(rpcOf(network)),
};
