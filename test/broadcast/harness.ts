// Component-test harness: the transfer engine and the webhook dispatcher of the broadcast layer,
// on Node's SQLite, against a real anvil (through a fault proxy the test controls), signing with
// the real MPC core in-process. `settle` plays the Durable Objects' alarms: it runs whatever is due,
// hands the outbox to the dispatcher, and sleeps until the next wake-up.
import { randomBytes } from "node:crypto";
import { getAddress, type Address, type Hex } from "viem";
import { erc20TransferCall, evmAddressOf, nativeTransferCall, parseUnsigned, type EvmCall } from "../../worker/src/chains/evm/transaction.js";
import { drainOutbox } from "../../worker/src/broadcast/outbox.js";
import type { PolicyVerdict } from "../../worker/src/broadcast/policy-gate.js";
import { TransferEngine, type EngineTiming, type Submission, type TransferEngineDeps } from "../../worker/src/broadcast/transfer-engine.js";
import type { WalletRecord } from "../../worker/src/broadcast/wallet-directory.js";
import type { TransferBody } from "../../worker/src/broadcast/wire.js";
import { EvmRpc } from "../../worker/src/networks/evm-rpc.js";
import { evmTransfers } from "../../worker/src/chains/evm/transfers.js";
import { loadNetworks, type NetworkConfig } from "../../worker/src/networks/networks.js";
import { newId } from "../../worker/src/orgs/ids.js";
import type { SigningAuthorization } from "../../worker/src/signing/authorization.js";
import { WebhookDispatcher, type WebhookEvent } from "../../worker/src/webhooks/webhook-dispatcher.js";
import type { InProcessMpcSigner } from "../chain/mpc-signer.js";
import { nodeSql } from "../chain/node-sql.js";

export const FAST_TIMING: EngineTiming = { retryBaseMs: 100, retryMaxMs: 800, nonceFillDelayMs: 400 };

export function anvilNetwork(rpcUrl: string, pollIntervalMs = 100): NetworkConfig {
  const anvil = loadNetworks({ ANVIL_RPC_URL: rpcUrl, TESSERA_NETWORKS: JSON.stringify({ Anvil: { pollIntervalMs, rpcTimeoutMs: 2_000 } }) }).Anvil;
  if (!anvil.ok) throw new Error(anvil.reason);
  return anvil.config;
}

/** The wallet on the signer's key, or on its BIP32 child `child` (another address, same shares). */
export function walletFor(signer: InProcessMpcSigner, child?: number): WalletRecord {
  return {
    id: `wa-test0-00000-${String(child ?? 0).padStart(10, "0")}`,
    orgId: "or-test0-00000-0000000000",
    network: "Anvil",
    address: evmAddressOf(signer.publicKeyHex(child)),
    status: "Active",
    signingKey: { id: child === undefined ? signer.keyId : signer.childKeyId(child), publicKey: signer.publicKeyHex(child), scheme: "ECDSA", curve: "secp256k1" },
  };
}

/** Evidence stand-in: the in-process signer does not check it (the share-holder nodes do, in the end-to-end tests). */
export function testAuthorization(wallet: WalletRecord, payload: string): SigningAuthorization {
  return {
    requester: { orgId: wallet.orgId, userId: "us-test", tokenId: "to-test", identityId: "us-test" },
    userAction: {
      actionId: "ua-test",
      orgId: wallet.orgId,
      subject: "us-test",
      tokenId: "to-test",
      method: "POST",
      path: `/wallets/${wallet.id}/transfers`,
      payload,
      nonce: "n",
      expiry: 0,
      challenge: "c",
      challengeIdentifier: "ci",
      credential: { credId: "cr", credentialUuid: "cu", kind: "Key", publicKey: "" },
      assertion: { clientData: "", signature: "", authenticatorData: null, userHandle: null },
      signedAt: new Date().toISOString(),
    },
    policy: { decision: "NoAction" },
  };
}

export interface Harness {
  engine: TransferEngine;
  dispatcher: WebhookDispatcher;
  wallet: WalletRecord;
  network: NetworkConfig;
  published: WebhookEvent[];
  transfer(body: Extract<TransferBody, { kind: "Native" | "Erc20" }>, opts?: { verdict?: PolicyVerdict }): string;
  /** A caller-built unsigned EIP-1559 transaction (POST …/transactions {kind: "Transaction"}). */
  transaction(unsigned: Hex): string;
  settle(opts?: { until?: () => boolean; timeoutMs?: number }): Promise<void>;
  status(id: string): { status: string; reason: string | null; txHash: string | null; nonce: number | null };
}

export function newHarness(opts: {
  signer: InProcessMpcSigner;
  rpcUrl: string;
  timing?: Partial<EngineTiming>;
  child?: number;
  pollIntervalMs?: number;
  /** The policy gate's second decision after the share holders' policy refusal (absent: such a refusal fails the request). */
  reconsider?: TransferEngineDeps["reconsider"];
}): Harness {
  const network = anvilNetwork(opts.rpcUrl, opts.pollIntervalMs);
  const wallet = walletFor(opts.signer, opts.child);
  const rpc = new EvmRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });
  const engine = new TransferEngine({
    sql: nodeSql(),
    network,
    chain: evmTransfers(rpc),
    signer: opts.signer,
    newId,
    timing: { ...FAST_TIMING, ...opts.timing },
    ...(opts.reconsider ? { reconsider: opts.reconsider } : {}),
  });
  const dispatcher = new WebhookDispatcher({
    sql: nodeSql(),
    newId,
    newSecret: () => randomBytes(32).toString("hex"),
    timing: { retryBaseMs: 100, retryMaxMs: 500, maxAttempts: 6, timeoutMs: 2_000 },
  });
  const published: WebhookEvent[] = [];
  const allowed: PolicyVerdict = { kind: "Allowed", outcome: { decision: "NoAction" } };

  const submit = (s: Omit<Submission, "wallet" | "requester" | "authorization" | "verdict"> & { verdict?: PolicyVerdict }) => {
    const result = engine.submit({
      ...s,
      wallet,
      requester: { userId: "us-test", tokenId: "to-test" },
      authorization: testAuthorization(wallet, s.bodyText),
      verdict: s.verdict ?? allowed,
    });
    if (!result.ok) throw new Error(result.message);
    return result.row.id;
  };

  const settled = () => engine.nextWakeAt() === null && dispatcher.nextWakeAt() === null;

  return {
    engine,
    dispatcher,
    wallet,
    network,
    published,
    transfer(body, o = {}) {
      const call = body.kind === "Native" ? nativeTransferCall(body.to, BigInt(body.amount)) : erc20TransferCall(body.contract, body.to, BigInt(body.amount));
      return submit({
        kind: "Transfer",
        bodyText: JSON.stringify(body),
        externalId: body.externalId ?? null,
        call,
        priority: body.priority ?? "Standard",
        asset: body.kind === "Native" ? { symbol: "ETH", decimals: 18, verified: true } : {},
        ...(o.verdict ? { verdict: o.verdict } : {}),
      });
    },
    transaction(unsigned) {
      const tx = parseUnsigned(unsigned);
      const call: EvmCall = { to: getAddress(tx.to!), value: tx.value ?? 0n, data: tx.data ?? "0x" };
      return submit({
        kind: "Transaction",
        bodyText: JSON.stringify({ kind: "Transaction", transaction: unsigned }),
        externalId: null,
        call,
        unsignedTransaction: unsigned,
        priority: "Standard",
        asset: {},
        ...(tx.gas !== undefined ? { gasLimit: tx.gas } : {}),
      });
    },
    async settle(o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 60_000);
      for (;;) {
        await engine.runDue();
        await drainOutbox(
          engine.outbox,
          {
            webhook: async (e) => {
              published.push(e as WebhookEvent);
              dispatcher.publish(e as WebhookEvent);
            },
            policyCommit: async () => undefined,
            policyRelease: async () => undefined,
          },
          Date.now(),
        );
        await dispatcher.runDue();
        if (o.until ? o.until() : settled()) return;
        if (Date.now() > deadline) throw new Error("harness did not settle in time");
        const next = Math.min(engine.nextWakeAt() ?? Infinity, dispatcher.nextWakeAt() ?? Infinity);
        await new Promise((r) => setTimeout(r, Math.max(5, Math.min(next - Date.now(), 50))));
      }
    },
    status(id) {
      const row = engine.store.get(id)!;
      return { status: row.status, reason: row.reason, txHash: row.tx_hash, nonce: row.nonce };
    },
  };
}

export function randomAddress(): Address {
  return getAddress(`0x${randomBytes(20).toString("hex")}`);
}
