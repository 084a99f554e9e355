// All five layers end to end, with real processes: anvil, three share-holder nodes (eu, us, ap)
// and the edge API under wrangler dev. The unmodified @dfns/sdk 0.8.21 + keysigner creates an
// Anvil wallet (2-of-3 DKLs23 DKG among the nodes), which anvil funds; then `transferAsset` moves
// ETH and an ERC-20 and the transfers reach Confirmed with the balances changed on chain, a
// transfer that reverts ends Failed with its reason, 20 concurrent transfers confirm on
// consecutive nonces, a caller-built transaction is broadcast, the assets endpoint reads the
// balances, the edge's RPC going down and answering garbage leaves a transfer waiting with the
// reason until it confirms once, and a webhook receiver gets every status change once per event
// id, HMAC-verified.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { encodeFunctionData, getAddress, serializeTransaction, type Address, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { governLocalOrg, startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";
import { ERC20_ABI } from "../../worker/src/chains/evm/transaction.js";
import { anvilAt } from "../chain/anvil.js";
import { deployTestToken, fund } from "../chain/erc20.js";
import { startFaultProxy, type FaultProxy } from "../chain/rpc-fault-proxy.js";
import { startWebhookReceiver, type WebhookReceiver } from "../chain/webhook-receiver.js";
import { randomAddress } from "../broadcast/harness.js";

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;
let chain: ReturnType<typeof anvilAt>;
let receiver: WebhookReceiver;
let proxy: FaultProxy;

type Transfer = { id: string; status: string; reason?: string; txHash?: string; fee?: string; details?: { nonce?: number }; dateConfirmed?: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-xfer-"));
  receiver = await startWebhookReceiver();
  // The edge reaches the chain through a proxy the test can break (down, garbage); the test's own
  // reads and funding go to anvil directly.
  proxy = await startFaultProxy("http://127.0.0.1:1");
  net = await startLocalNetwork({
    stateDir: dir,
    chain: true,
    vars: { ANVIL_RPC_URL: proxy.url, TESSERA_NETWORKS: JSON.stringify({ Anvil: { pollIntervalMs: 100, rpcTimeoutMs: 2000 } }) },
  });
  proxy.upstream = net.chainUrl!;
  chain = anvilAt(net.chainUrl!);
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  // As npm start does: the nodes hold the org's root of trust and judge every request by its governance log.
  await governLocalOrg(net, cfg);
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 240_000);

afterAll(async () => {
  await proxy?.stop();
  await receiver?.stop();
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const balance = async (a: string) => BigInt(await chain.rpc<Hex>("eth_getBalance", [a, "latest"]));
const tokenBalance = async (token: Address, a: string) =>
  BigInt(await chain.rpc<Hex>("eth_call", [{ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: "balanceOf", args: [a as Address] }) }, "latest"]));

async function settled(walletId: string, transferId: string, timeoutMs = 90_000): Promise<Transfer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await dfns.wallets.getTransfer({ walletId, transferId })) as unknown as Transfer;
    if (["Confirmed", "Failed", "Rejected"].includes(t.status)) return t;
    if (Date.now() > deadline) throw new Error(`transfer ${transferId} still ${t.status} (${t.reason ?? ""})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe("transfers through the official SDK, signed by the share holders, confirmed on anvil", () => {
  let walletId: string;
  let address: Address;
  let token: Address;
  let webhookId: string;

  it("an Anvil wallet is created, funded, and subscribed to webhooks", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "hot" } });
    expect(w.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    walletId = w.id;
    address = w.address as Address;
    await fund(chain, address, 50n * 10n ** 18n);
    token = await deployTestToken(chain, address, 1_000_000n);
    const hook = await dfns.webhooks.createWebhook({ body: { url: `${receiver.url}/sdk`, events: ["*" as never] } });
    receiver.secrets.set("/sdk", hook.secret);
    webhookId = hook.id;
  }, 180_000);

  it("transferAsset Native: Confirmed, the ETH moved", async () => {
    const to = randomAddress();
    const before = await balance(address);
    const created = (await dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to, amount: "1500000000000000" } })) as unknown as Transfer;
    expect(["Pending", "Executing", "Broadcasted"]).toContain(created.status);
    const done = await settled(walletId, created.id);
    expect(done).toMatchObject({ status: "Confirmed" });
    expect(await balance(to)).toBe(1_500_000_000_000_000n);
    expect(before - (await balance(address))).toBe(1_500_000_000_000_000n + BigInt(done.fee!));
  }, 120_000);

  it("transferAsset Erc20: Confirmed, the tokens moved", async () => {
    const to = randomAddress();
    const created = (await dfns.wallets.transferAsset({ walletId, body: { kind: "Erc20", contract: token, to, amount: "4200" } })) as unknown as Transfer & { metadata: unknown };
    expect(created.metadata).toEqual({ asset: { symbol: "TTT", decimals: 6 } });
    expect(await settled(walletId, created.id)).toMatchObject({ status: "Confirmed" });
    expect(await tokenBalance(token, to)).toBe(4200n);
  }, 120_000);

  it("a transfer that reverts ends Failed with the reason", async () => {
    const created = (await dfns.wallets.transferAsset({ walletId, body: { kind: "Erc20", contract: token, to: randomAddress(), amount: "999999999" } })) as unknown as Transfer;
    expect(await settled(walletId, created.id)).toMatchObject({ status: "Failed", reason: "execution reverted: ERC20: transfer amount exceeds balance" });
  }, 120_000);

  it("20 concurrent transfers all confirm, on consecutive nonces", async () => {
    const first = Number(BigInt(await chain.rpc<Hex>("eth_getTransactionCount", [address, "latest"])));
    const to = randomAddress();
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to, amount: String(100 + i) } }) as unknown as Promise<Transfer>),
    );
    const done = await Promise.all(created.map((t) => settled(walletId, t.id, 180_000)));
    expect(done.map((t) => t.status)).toEqual(Array(20).fill("Confirmed"));
    expect(done.map((t) => t.details!.nonce!).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => first + i));
    expect(await balance(to)).toBe(Array.from({ length: 20 }, (_, i) => BigInt(100 + i)).reduce((a, b) => a + b));
    const listed = await dfns.wallets.listTransfers({ walletId, query: { limit: 100 } });
    expect(listed.items.length).toBe(23);
  }, 240_000);

  it("broadcastTransaction: a caller-built transaction is signed as given and confirmed", async () => {
    const nonce = Number(BigInt(await chain.rpc<Hex>("eth_getTransactionCount", [address, "pending"])));
    const base = BigInt((await chain.rpc<{ baseFeePerGas: Hex }>("eth_getBlockByNumber", ["latest", false])).baseFeePerGas);
    const to = randomAddress();
    const transaction = serializeTransaction({ type: "eip1559", chainId: 31337, nonce, to, value: 777n, gas: 21_000n, maxFeePerGas: base * 2n + 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n });
    const created = (await dfns.wallets.broadcastTransaction({ walletId, body: { kind: "Transaction", transaction } })) as unknown as Transfer;
    const deadline = Date.now() + 90_000;
    let tx = created;
    while (!["Confirmed", "Failed"].includes(tx.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 150));
      tx = (await dfns.wallets.getTransaction({ walletId, transactionId: created.id })) as unknown as Transfer;
    }
    expect(tx).toMatchObject({ status: "Confirmed", details: { nonce } });
    expect(await balance(to)).toBe(777n);
  }, 120_000);

  it("the edge's RPC down, then answering garbage: the transfer waits with the reason, then confirms once, when it recovers", async () => {
    const nonceBefore = Number(BigInt(await chain.rpc<Hex>("eth_getTransactionCount", [address, "latest"])));
    const to = randomAddress();
    proxy.mode = "down";
    const created = (await dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to, amount: "31337" } })) as unknown as Transfer;
    const waitFor = async (re: RegExp) => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
        const t = (await dfns.wallets.getTransfer({ walletId, transferId: created.id })) as unknown as Transfer;
        if (re.test(t.reason ?? "")) return t;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no reason matching ${re}`);
    };
    expect(await waitFor(/^Retrying \(attempt \d+, next in \d+ ms\): Building the transaction: RPC http:\/\/127\.0\.0\.1:\d+ unreachable/)).toMatchObject({ status: "Executing" });
    proxy.mode = "html";
    expect(await waitFor(/answered malformed JSON-RPC: not JSON/)).toMatchObject({ status: "Executing" });
    expect(Number(BigInt(await chain.rpc<Hex>("eth_getTransactionCount", [address, "latest"])))).toBe(nonceBefore);
    proxy.mode = "pass";
    expect(await settled(walletId, created.id)).toMatchObject({ status: "Confirmed" });
    expect(Number(BigInt(await chain.rpc<Hex>("eth_getTransactionCount", [address, "latest"])))).toBe(nonceBefore + 1);
    expect(await balance(to)).toBe(31337n);
  }, 150_000);

  it("getWalletAssets reads native and ERC-20 balances from the chain", async () => {
    const assets = await dfns.wallets.getWalletAssets({ walletId });
    expect(assets.walletId).toBe(walletId);
    const native = assets.assets.find((a) => a.kind === "Native")!;
    expect(BigInt(native.balance)).toBe(await balance(address));
    const erc20 = assets.assets.find((a) => a.kind === "Erc20") as unknown as { contract: string; symbol: string; decimals: number; balance: string };
    expect(erc20).toMatchObject({ contract: getAddress(token), symbol: "TTT", decimals: 6, balance: String(1_000_000n - 4200n) });
  });

  it("the webhook receiver got every status change once per event id, each signature verified", async () => {
    const transfers = (await dfns.wallets.listTransfers({ walletId, query: { limit: 100 } })).items as unknown as Transfer[];
    const expected = new Map<string, string[]>();
    for (const t of transfers) expected.set(t.id, t.status === "Confirmed" ? ["requested", "executing", "broadcasted", "confirmed"] : ["requested", "executing", "failed"]);
    const total = [...expected.values()].reduce((n, v) => n + v.length, 0);
    const deadline = Date.now() + 60_000;
    const mine = () => receiver.events.filter((e) => e.path === "/sdk" && e.kind.startsWith("wallet.transfer."));
    while (mine().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests.filter((r) => r.path === "/sdk").every((r) => r.signatureValid)).toBe(true);
    const got = new Map<string, string[]>();
    for (const e of mine()) {
      const id = (e.data.transferRequest as { id: string }).id;
      got.set(id, [...(got.get(id) ?? []), e.kind.slice("wallet.transfer.".length)]);
    }
    for (const [id, kinds] of expected) expect([id, [...(got.get(id) ?? [])].sort()]).toEqual([id, [...kinds].sort()]);
    expect(new Set(mine().map((e) => e.id)).size).toBe(total);
    const recorded = await dfns.webhooks.listWebhookEvents({ webhookId, query: { limit: 200 } } as never);
    expect((recorded as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(total);
  }, 90_000);
});
