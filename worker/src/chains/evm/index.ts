// The EVM chain family at the edge: a transfer body → the call it makes, caller-built EIP-1559
// transactions, balances (native + ERC-20), and the transfer logic (transfers.ts).
import { decodeFunctionResult, encodeFunctionData, getAddress, parseTransaction, type Hex } from "viem";
import type { BroadcastBody, TransferBody } from "../../broadcast/wire.js";
import { ApiError } from "../../http/errors.js";
import { EvmRpc, hexData, hexQuantity, RpcError } from "../../networks/evm-rpc.js";
import type { NetworkConfig } from "../../networks/networks.js";
import type { ChainFamily, PreparedRequest } from "../family.js";
import { ERC20_ABI, erc20TransferCall, nativeTransferCall } from "./transaction.js";
import { evmTransfers } from "./transfers.js";

function rpcOf(network: NetworkConfig): EvmRpc {
  return new EvmRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });
}

/** Symbol and decimals of a token: from the network's configuration, else read from the chain. */
async function tokenInfo(network: NetworkConfig, contract: string): Promise<{ symbol: string; decimals: number }> {
  const known = network.tokens.find((t) => t.contract.toLowerCase() === contract.toLowerCase());
  if (known) return { symbol: known.symbol, decimals: known.decimals };
  const rpc = rpcOf(network);
  const read = async (functionName: "symbol" | "decimals") =>
    decodeFunctionResult({ abi: ERC20_ABI, functionName, data: await rpc.call("eth_call", [{ to: contract, data: encodeFunctionData({ abi: ERC20_ABI, functionName }) }, "latest"], hexData) });
  try {
    const [symbol, decimals] = await Promise.all([read("symbol"), read("decimals")]);
    return { symbol: String(symbol), decimals: Number(decimals) };
  } catch (err) {
    if (err instanceof RpcError && !err.isNodeError) throw new ApiError(503, `Cannot read token ${contract}: ${err.message}`);
    throw new ApiError(400, `${contract} is not an ERC-20 token on ${network.id}`);
  }
}

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function requireAddress(field: string, value: string, network: NetworkConfig): void {
  if (!EVM_ADDRESS.test(value)) throw new ApiError(400, `Invalid request: ${field}: not an address on ${network.id}`);
}

export const evmFamily: ChainFamily = {
  name: "evm",

  isAddress: (address) => EVM_ADDRESS.test(address),

  async prepareTransfer(network, _wallet, body: TransferBody): Promise<PreparedRequest> {
    requireAddress("to", body.to, network);
    if (body.kind === "Native") {
      return {
        kind: "Transfer",
        call: nativeTransferCall(body.to, BigInt(body.amount)),
        priority: body.priority ?? "Standard",
        asset: { ...network.nativeAsset, verified: true },
        externalId: body.externalId ?? null,
        amount: body.amount,
        to: getAddress(body.to),
      };
    }
    if (body.kind !== "Erc20") throw new ApiError(400, `Invalid request: kind: ${(body as { kind: string }).kind} transfers are not possible on ${network.id}`);
    requireAddress("contract", body.contract, network);
    const token = await tokenInfo(network, body.contract);
    return {
      kind: "Transfer",
      call: erc20TransferCall(body.contract, body.to, BigInt(body.amount)),
      priority: body.priority ?? "Standard",
      asset: { ...token, contract: getAddress(body.contract) },
      externalId: body.externalId ?? null,
      amount: body.amount,
      to: getAddress(body.to),
    };
  },

  /**
   * A caller-built transaction is signed byte for byte as the user signed it (the share holders
   * recompute the digest from the user's own body), so only `kind: "Transaction"` with a complete
   * unsigned EIP-1559 transaction is accepted; its nonce must be the wallet's next one.
   */
  prepareTransaction(network, _wallet, body: BroadcastBody): PreparedRequest {
    if (body.kind === "Evm" || body.kind === "Eip1559") {
      // A call described by the caller: the nonce, gas and fees (where not given) are filled in
      // here, and the share holders check the transaction makes exactly this call (EvmCall intent).
      requireAddress("to", body.to, network);
      const value = BigInt(body.value ?? "0");
      const fees: { maxFeePerGas?: string; maxPriorityFeePerGas?: string } = body.kind === "Eip1559" ? body : {};
      if (body.gasLimit !== undefined && BigInt(body.gasLimit) < 21_000n) throw new ApiError(400, "Invalid request: gasLimit: must be at least 21000");
      if (fees.maxFeePerGas !== undefined && fees.maxPriorityFeePerGas !== undefined && BigInt(fees.maxPriorityFeePerGas) > BigInt(fees.maxFeePerGas)) {
        throw new ApiError(400, "Invalid request: maxPriorityFeePerGas: must not exceed maxFeePerGas");
      }
      return {
        kind: "Transaction",
        call: { to: getAddress(body.to), value, data: (body.data ?? "0x").toLowerCase() },
        priority: "Standard",
        ...(body.gasLimit !== undefined ? { gasLimit: BigInt(body.gasLimit) } : {}),
        ...(fees.maxFeePerGas !== undefined ? { maxFeePerGas: BigInt(fees.maxFeePerGas) } : {}),
        ...(fees.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: BigInt(fees.maxPriorityFeePerGas) } : {}),
        asset: { ...network.nativeAsset, verified: true },
        externalId: body.externalId ?? null,
        ...(value > 0n ? { amount: value.toString() } : {}),
        to: getAddress(body.to),
      };
    }
    if (body.kind !== "Transaction") {
      throw new ApiError(400, `Invalid request: kind: ${(body as { kind: string }).kind} is not supported here`);
    }
    let tx;
    try {
      tx = parseTransaction(body.transaction as Hex);
    } catch (err) {
      throw new ApiError(400, `Invalid request: transaction: not a serialized transaction (${(err as Error).message.split("\n")[0]})`);
    }
    if (tx.type !== "eip1559") throw new ApiError(400, `Invalid request: transaction: only unsigned EIP-1559 (type 2) transactions are supported, got ${tx.type}`);
    if (tx.r !== undefined || tx.s !== undefined || tx.yParity !== undefined) throw new ApiError(400, "Invalid request: transaction: must be unsigned");
    if (tx.chainId !== network.chainId) throw new ApiError(400, `Invalid request: transaction: chainId ${tx.chainId} is not ${network.id}'s ${network.chainId}`);
    if (!tx.to) throw new ApiError(400, "Invalid request: transaction: contract creation is not supported");
    if (tx.gas === undefined || tx.gas < 21_000n) throw new ApiError(400, "Invalid request: transaction: gas must be at least 21000");
    if (!tx.maxFeePerGas) throw new ApiError(400, "Invalid request: transaction: maxFeePerGas is required");
    const value = tx.value ?? 0n;
    return {
      kind: "Transaction",
      call: { to: getAddress(tx.to), value, data: tx.data ?? "0x" },
      unsignedTransaction: body.transaction,
      priority: "Standard",
      gasLimit: tx.gas,
      asset: { ...network.nativeAsset, verified: true },
      externalId: body.externalId ?? null,
      ...(value > 0n ? { amount: value.toString() } : {}),
      to: getAddress(tx.to),
    };
  },

  async balances(network, wallet, sent) {
    const rpc = rpcOf(network);
    const contracts = new Map<string, string>();
    for (const t of network.tokens) contracts.set(t.contract.toLowerCase(), getAddress(t.contract));
    for (const t of sent) contracts.set(t.toLowerCase(), getAddress(t));
    const native = await rpc.call("eth_getBalance", [wallet.address, "latest"], hexQuantity);
    const tokens = await Promise.all(
      [...contracts.values()].map(async (contract) => {
        const data = encodeFunctionData({ abi: ERC20_ABI, functionName: "balanceOf", args: [getAddress(wallet.address)] });
        const [raw, info] = await Promise.all([rpc.call("eth_call", [{ to: contract, data }, "latest"], hexData), tokenInfo(network, contract)]);
        const balance = decodeFunctionResult({ abi: ERC20_ABI, functionName: "balanceOf", data: raw });
        return { kind: "Erc20", contract, symbol: info.symbol, decimals: info.decimals, balance: balance.toString(), verified: network.tokens.some((t) => t.contract.toLowerCase() === contract.toLowerCase()) };
      }),
    );
    return [{ kind: "Native", symbol: network.nativeAsset.symbol, decimals: network.nativeAsset.decimals, balance: native.toString(), verified: true }, ...tokens];
  },

  transfers: (network) => evmTransfers(rpcOf(network)),
};
