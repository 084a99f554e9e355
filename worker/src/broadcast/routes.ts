// Dfns /wallets/:walletId/{transfers,transactions,assets}. A transfer or broadcast transaction is
// validated here, checked by the policy engine (layer 3), then handed to the wallet's Durable
// Object, which builds, signs (layer 4), broadcasts and tracks it; the response is the request as
// it stands (usually Pending), and GET follows it to Confirmed or Failed.
import { Hono, type Context } from "hono";
import { decodeFunctionResult, encodeFunctionData, getAddress, parseTransaction, type Hex } from "viem";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { EvmRpc, hexData, hexQuantity, RpcError } from "../networks/evm-rpc.js";
import { networkFor, type NetworkConfig } from "../networks/networks.js";
import { newId } from "../orgs/ids.js";
import { permit } from "../permissions/permit.js";
import { evaluatePolicies } from "../policy/gate.js";
import type { SigningAuthorization } from "../signing/authorization.js";
import "./approval-resume.js";
import { walletDirectory } from "./collaborators.js";
import { ERC20_ABI, erc20TransferCall, nativeTransferCall, type EvmCall } from "./evm-transaction.js";
import type { PolicyVerdict } from "./policy-gate.js";
import type { Submission } from "./transfer-engine.js";
import type { WalletRecord } from "./wallet-directory.js";
import { walletTransfersName } from "./wallet-transfers.js";
import { broadcastBody, listQuery, transferBody, type BroadcastBody, type TransferBody } from "./wire.js";

export const broadcastRoutes = new Hono<AppEnv>();

type Ctx = Context<AppEnv>;

async function walletOf(c: Ctx): Promise<WalletRecord> {
  const caller = c.get("caller");
  const wallet = await walletDirectory(c.env).get(caller.orgId, c.req.param("walletId")!);
  if (!wallet) throw new ApiError(404, "Wallet not found");
  return wallet;
}

function evmNetworkOf(c: Ctx, wallet: WalletRecord): NetworkConfig {
  const network = networkFor(c.env, wallet.network);
  if (!network.ok) throw new ApiError(400, network.reason);
  if (wallet.signingKey.scheme !== "ECDSA" || wallet.signingKey.curve !== "secp256k1") throw new ApiError(400, `Wallet ${wallet.id} has no EVM key`);
  return network.config;
}

function objectOf(c: Ctx, wallet: WalletRecord) {
  return c.env.WALLET_TRANSFERS.getByName(walletTransfersName(wallet.orgId, wallet.id));
}

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

interface Prepared {
  kind: "Transfer" | "Transaction";
  call: EvmCall;
  unsignedTransaction?: Hex;
  priority: Submission["priority"];
  gasLimit?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  asset: { symbol: string; decimals: number; contract?: string; verified?: boolean };
  externalId: string | null;
  /** What moves, for the policy engine. */
  amount?: string;
  to: string;
}

async function prepareTransfer(network: NetworkConfig, body: TransferBody): Promise<Prepared> {
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
}

/**
 * A caller-built transaction is signed byte for byte as the user signed it (the share holders
 * recompute the digest from the user's own body), so only `kind: "Transaction"` with a complete
 * unsigned EIP-1559 transaction is accepted; its nonce must be the wallet's next one.
 */
function prepareTransaction(network: NetworkConfig, body: BroadcastBody): Prepared {
  if (body.kind !== "Transaction") {
    throw new ApiError(400, `Invalid request: kind: ${body.kind} is not supported here; send kind Transaction with a serialized unsigned EIP-1559 transaction`);
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
    unsignedTransaction: body.transaction as Hex,
    priority: "Standard",
    gasLimit: tx.gas,
    asset: { ...network.nativeAsset, verified: true },
    externalId: body.externalId ?? null,
    ...(value > 0n ? { amount: value.toString() } : {}),
    to: getAddress(tx.to),
  };
}

/** Layer 3 for one request; its verdict travels with the request into the wallet's object. */
async function policyVerdict(c: Ctx, wallet: WalletRecord, id: string, p: Prepared, bodyText: string): Promise<PolicyVerdict> {
  const caller = c.get("caller");
  const requester = { orgId: caller.orgId, userId: caller.userId, tokenId: caller.tokenId, identityId: caller.identityId };
  const dateRequested = new Date().toISOString();
  const summary = { id, walletId: wallet.id, network: wallet.network, requester: { userId: caller.userId, tokenId: caller.tokenId }, requestBody: JSON.parse(bodyText), status: "Pending", dateRequested };
  const gate = await evaluatePolicies(
    c.env,
    caller.orgId,
    {
      requestId: id,
      request: {
        kind: p.kind,
        walletId: wallet.id,
        walletTags: wallet.tags ?? [],
        network: wallet.network,
        asset: { symbol: p.asset.symbol, decimals: p.asset.decimals, ...(p.asset.contract ? { contract: p.asset.contract } : {}) },
        ...(p.amount !== undefined ? { amount: p.amount } : {}),
        to: p.to,
        initiatorId: caller.userId,
      },
      activity: { kind: "Wallets:Sign", ...(p.kind === "Transfer" ? { transferRequest: summary } : { transactionRequest: summary }) },
      requester,
      userAction: c.get("userAction"),
      resume: { kind: "broadcast", payload: { orgId: caller.orgId, walletId: wallet.id, requestId: id } },
      http: { method: c.req.method, path: new URL(c.req.url).pathname },
    },
    { waitUntil: c.executionCtx.waitUntil.bind(c.executionCtx) },
  );
  if (gate.status === "Allowed") return { kind: "Allowed", outcome: gate.policy, reservation: gate.reservation };
  if (gate.status === "Blocked") return { kind: "Blocked", reason: gate.reason };
  return { kind: "ApprovalRequired", approvalId: gate.approvalId };
}

async function submit(c: Ctx, wallet: WalletRecord, p: Prepared) {
  const caller = c.get("caller");
  const userAction = c.get("userAction");
  if (!userAction) throw new ApiError(401, "User action signature required (X-DFNS-USERACTION)");
  if (wallet.status !== "Active") throw new ApiError(400, `Wallet ${wallet.id} is ${wallet.status}`);
  const bodyText = userAction.payload;
  const id = newId(p.kind === "Transfer" ? "xfr" : "tx");
  const verdict = await policyVerdict(c, wallet, id, p, bodyText);
  const authorization: SigningAuthorization = {
    requester: { orgId: caller.orgId, userId: caller.userId, tokenId: caller.tokenId, identityId: caller.identityId },
    userAction,
    policy: { decision: "NoAction" },
  };
  const { contract: _contract, ...asset } = p.asset;
  return unwrap(
    await objectOf(c, wallet).submit({
      id,
      kind: p.kind,
      wallet,
      requester: { userId: caller.userId, tokenId: caller.tokenId },
      authorization,
      bodyText,
      externalId: p.externalId,
      call: p.call,
      ...(p.unsignedTransaction ? { unsignedTransaction: p.unsignedTransaction } : {}),
      priority: p.priority,
      ...(p.gasLimit !== undefined ? { gasLimit: p.gasLimit } : {}),
      ...(p.maxFeePerGas !== undefined ? { maxFeePerGas: p.maxFeePerGas } : {}),
      ...(p.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: p.maxPriorityFeePerGas } : {}),
      asset,
      verdict,
    }),
  );
}

function pageOf(c: Ctx) {
  const q = parseQuery(c, listQuery);
  const before = q.paginationToken === undefined ? undefined : Number(q.paginationToken);
  if (before !== undefined && !Number.isSafeInteger(before)) throw new ApiError(400, "Invalid request: paginationToken: unknown token");
  return { limit: q.limit ?? 50, before };
}

// ---------------------------------------------------------------- transfers

broadcastRoutes.post("/wallets/:walletId/transfers", permit("Wallets:Transfers:Create"), async (c) => {
  const body = await parseBody(c, transferBody);
  const wallet = await walletOf(c);
  const network = evmNetworkOf(c, wallet);
  return c.json(await submit(c, wallet, await prepareTransfer(network, body)));
});

// ---------------------------------------------------------------- broadcast transactions

broadcastRoutes.post("/wallets/:walletId/transactions", permit("Wallets:Transactions:Create"), async (c) => {
  const body = await parseBody(c, broadcastBody);
  const wallet = await walletOf(c);
  const network = evmNetworkOf(c, wallet);
  return c.json(await submit(c, wallet, prepareTransaction(network, body)));
});

// ---------------------------------------------------------------- reading them back

const READ_ROUTES = [
  { kind: "Transfer", collection: "transfers", param: "transferId", operation: "Wallets:Transfers:Read", missing: "Transfer not found" },
  { kind: "Transaction", collection: "transactions", param: "transactionId", operation: "Wallets:Transactions:Read", missing: "Transaction not found" },
] as const;

for (const r of READ_ROUTES) {
  broadcastRoutes.get(`/wallets/:walletId/${r.collection}`, permit(r.operation), async (c) => {
    const wallet = await walletOf(c);
    const { limit, before } = pageOf(c);
    const page = await objectOf(c, wallet).list(r.kind, limit, before);
    return c.json({ walletId: wallet.id, items: page.items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) });
  });
  broadcastRoutes.get(`/wallets/:walletId/${r.collection}/:${r.param}`, permit(r.operation), async (c) => {
    const wallet = await walletOf(c);
    const found = await objectOf(c, wallet).get(r.kind, c.req.param(r.param)!);
    if (!found) throw new ApiError(404, r.missing);
    return c.json(found);
  });
}

// ---------------------------------------------------------------- balances

broadcastRoutes.get("/wallets/:walletId/assets", permit("Wallets:Read"), async (c) => {
  const wallet = await walletOf(c);
  const network = evmNetworkOf(c, wallet);
  const rpc = rpcOf(network);
  const contracts = new Map<string, string>();
  for (const t of network.tokens) contracts.set(t.contract.toLowerCase(), getAddress(t.contract));
  for (const t of await objectOf(c, wallet).erc20Contracts()) contracts.set(t.toLowerCase(), getAddress(t));
  try {
    const native = await rpc.call("eth_getBalance", [wallet.address, "latest"], hexQuantity);
    const tokens = await Promise.all(
      [...contracts.values()].map(async (contract) => {
        const data = encodeFunctionData({ abi: ERC20_ABI, functionName: "balanceOf", args: [getAddress(wallet.address)] });
        const [raw, info] = await Promise.all([rpc.call("eth_call", [{ to: contract, data }, "latest"], hexData), tokenInfo(network, contract)]);
        const balance = decodeFunctionResult({ abi: ERC20_ABI, functionName: "balanceOf", data: raw });
        return { kind: "Erc20" as const, contract, symbol: info.symbol, decimals: info.decimals, balance: balance.toString(), verified: network.tokens.some((t) => t.contract.toLowerCase() === contract.toLowerCase()) };
      }),
    );
    return c.json({
      walletId: wallet.id,
      network: wallet.network,
      assets: [{ kind: "Native", symbol: network.nativeAsset.symbol, decimals: network.nativeAsset.decimals, balance: native.toString(), verified: true }, ...tokens],
    });
  } catch (err) {
    if (err instanceof RpcError) throw new ApiError(503, `Cannot read balances: ${err.message}`);
    throw err;
  }
});
