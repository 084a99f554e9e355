// Dfns /wallets/:walletId/{transfers,transactions,assets}. A transfer or broadcast transaction is
// validated here, checked by the policy engine (layer 3), then handed to the wallet's Durable
// Object, which builds, signs (layer 4), broadcasts and tracks it; the response is the request as
// it stands (usually Pending), and GET follows it to Confirmed or Failed.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { requestIdOf } from "../../../shared/src/mpc/intent.js";
import { familyOf } from "../chains/index.js";
import type { ChainFamily, PreparedRequest } from "../chains/family.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { RpcError } from "../networks/evm-rpc.js";
import { networkFor, type NetworkConfig } from "../networks/networks.js";
import { indexerOf } from "../indexer/network-indexer.js";
import { permit } from "../permissions/permit.js";
import { evaluatePolicies } from "../policy/gate.js";
import type { SigningAuthorization } from "../signing/authorization.js";
import "./approval-resume.js";
import { walletDirectory } from "./collaborators.js";
import { RESUME_KIND, type PolicyVerdict } from "./policy-gate.js";
import type { WalletRecord } from "./wallet-directory.js";
import { walletTransfersName } from "./wallet-transfers.js";
import { broadcastBody, listQuery, transferBody } from "./wire.js";

export const broadcastRoutes = new Hono<AppEnv>();

type Ctx = Context<AppEnv>;
type Prepared = PreparedRequest;

async function walletOf(c: Ctx): Promise<WalletRecord> {
  const caller = c.get("caller");
  const wallet = await walletDirectory(c.env).get(caller.orgId, c.req.param("walletId")!);
  if (!wallet) throw new ApiError(404, "Wallet not found");
  return wallet;
}

/** The wallet's network and the chain family that handles it (400 when this deployment cannot move funds there). */
function chainOf(c: Ctx, wallet: WalletRecord): { network: NetworkConfig; family: ChainFamily } {
  const network = networkFor(c.env, wallet.network);
  if (!network.ok) throw new ApiError(400, network.reason);
  return { network: network.config, family: familyOf(network.config) };
}

function objectOf(c: Ctx, wallet: WalletRecord) {
  return c.env.WALLET_TRANSFERS.getByName(walletTransfersName(wallet.orgId, wallet.id));
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
      resume: { kind: RESUME_KIND, payload: { orgId: caller.orgId, walletId: wallet.id, requestId: id } },
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
  // Derived from the user's action, so a node shown that action later (speed-up, cancel) can tell
  // which request it created.
  const id = requestIdOf(p.kind === "Transfer" ? "transfers" : "transactions", userAction.challenge);
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
  const { network, family } = chainOf(c, wallet);
  return c.json(await submit(c, wallet, await family.prepareTransfer(network, wallet, body)));
});

// ---------------------------------------------------------------- broadcast transactions

broadcastRoutes.post("/wallets/:walletId/transactions", permit("Wallets:Transactions:Create"), async (c) => {
  const body = await parseBody(c, broadcastBody);
  const wallet = await walletOf(c);
  const { network, family } = chainOf(c, wallet);
  return c.json(await submit(c, wallet, family.prepareTransaction(network, wallet, body)));
});

// ---------------------------------------------------------------- reading them back

const READ_ROUTES = [
  { kind: "Transfer", collection: "transfers", param: "transferId", operation: "Wallets:Transfers:Read", missing: "Transfer not found" },
  { kind: "Transaction", collection: "transactions", param: "transactionId", operation: "Wallets:Transactions:Read", missing: "Transaction not found" },
] as const;

for (const r of READ_ROUTES) {
  // Speed-up and cancel of a request still waiting on chain (body {}: the SDK's speedUpTransfer,
  // cancelTransfer, speedUpTransaction, cancelTransaction).
  for (const [segment, mode] of [["speed-up", "SpeedUp"], ["cancel", "Cancel"]] as const) {
    broadcastRoutes.post(`/wallets/:walletId/${r.collection}/:${r.param}/${segment}`, permit(r.kind === "Transfer" ? "Wallets:Transfers:Create" : "Wallets:Transactions:Create"), async (c) => {
      await parseBody(c, z.object({}).strict());
      const wallet = await walletOf(c);
      const userAction = c.get("userAction");
      if (!userAction) throw new ApiError(401, "User action signature required (X-DFNS-USERACTION)");
      return c.json(unwrap(await objectOf(c, wallet).replace(r.kind, c.req.param(r.param)!, mode, userAction)));
    });
  }

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
  const { network, family } = chainOf(c, wallet);
  const sent = await objectOf(c, wallet).erc20Contracts();
  // Token discovery: every token the network's indexer saw this wallet receive or send (EVM).
  if (network.family === "evm") {
    try {
      const indexer = indexerOf(c.env, wallet.network);
      await indexer.watch(wallet.network, { address: wallet.address, orgId: wallet.orgId, walletId: wallet.id });
      sent.push(...(await indexer.erc20Contracts(wallet.network, wallet.id)));
    } catch (err) {
      console.error(`assets of ${wallet.id}: indexer unavailable:`, (err as Error).message);
    }
  }
  try {
    const assets = await family.balances(network, wallet, [...new Set(sent.map((a) => a.toLowerCase()))]);
    return c.json({ walletId: wallet.id, network: wallet.network, assets });
  } catch (err) {
    if (err instanceof RpcError) throw new ApiError(503, `Cannot read balances: ${err.message}`);
    throw err;
  }
});
