// Several EVM chains, deposits and contract calls end to end with the unmodified @dfns/sdk: the
// local network (three share-holder nodes, wrangler dev, anvil as "Anvil", chain 31337) plus a
// second anvil with chain id 97 configured as the Dfns network "BscTestnet" by nothing but
// BSC_TESTNET_RPC_URL. The second chain mines when the test's miner says so, so a chain with a
// minimum base fee can be played (the stuck-transaction case).
//
// Checked: one key, one address, transfers confirmed on both chains; a policy scoped to one network;
// deposits of ETH and of an ERC-20 from an outside account in history and assets within 2 s of
// being mined, each announced once by wallet.blockchainevent.detected (HMAC verified), also across
// a Worker crash; NFTs; fees; read-only contract calls; contract calls through broadcastTransaction
// kind Evm without nonce or gas; an underpriced transfer stuck, sped up, confirmed, and the next one
// after it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodeFunctionResult, encodeFunctionData, getAddress, keccak256, recoverMessageAddress, type Address, type Hex } from "viem";
import { recoverAuthorizationAddress } from "viem/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";
import { ERC20_ABI } from "../../worker/src/chains/evm/transaction.js";
import { anvilAt, startAnvil, type Anvil } from "../chain/anvil.js";
import { COUNTER_ABI, deploy, mintNft } from "../chain/contracts.js";
import { deployTestToken, fund, waitReceipt } from "../chain/erc20.js";
import { startWebhookReceiver, type WebhookReceiver } from "../chain/webhook-receiver.js";
import { randomAddress } from "../broadcast/harness.js";

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;
let anvil: ReturnType<typeof anvilAt>;
let bsc: Anvil;
let receiver: WebhookReceiver;
let miner: ReturnType<typeof setInterval> | undefined;
/** The second chain's block producer: mines every 200 ms; `baseFeeFloor` plays a minimum gas price. */
const mining = { paused: false, baseFeeFloor: 0n };

type Request = { id: string; status: string; reason?: string; txHash?: string; fee?: string; details?: { nonce?: number } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-evm-"));
  receiver = await startWebhookReceiver();
  bsc = await startAnvil(["--chain-id", "97", "--no-mining"]);
  miner = setInterval(() => {
    if (mining.paused) return;
    void (async () => {
      if (mining.baseFeeFloor > 0n) await bsc.rpc("anvil_setNextBlockBaseFeePerGas", [`0x${mining.baseFeeFloor.toString(16)}`]);
      await bsc.rpc("evm_mine");
    })().catch(() => undefined);
  }, 200);
  net = await startLocalNetwork({
    stateDir: dir,
    chain: true,
    vars: {
      BSC_TESTNET_RPC_URL: bsc.url,
      TESSERA_NETWORKS: JSON.stringify({ Anvil: { pollIntervalMs: 100, rpcTimeoutMs: 2000 }, BscTestnet: { pollIntervalMs: 100, rpcTimeoutMs: 2000, confirmations: 1 } }),
    },
  });
  anvil = anvilAt(net.chainUrl!);
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  const hook = await dfns.webhooks.createWebhook({ body: { url: `${receiver.url}/evm`, events: ["*" as never] } });
  receiver.secrets.set("/evm", hook.secret);
}, 240_000);

afterAll(async () => {
  if (miner) clearInterval(miner);
  await receiver?.stop();
  await net?.stop();
  await bsc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function settled(walletId: string, id: string, kind: "transfer" | "transaction" = "transfer", timeoutMs = 60_000): Promise<Request> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (kind === "transfer" ? await dfns.wallets.getTransfer({ walletId, transferId: id }) : await dfns.wallets.getTransaction({ walletId, transactionId: id })) as unknown as Request;
    if (["Confirmed", "Failed", "Rejected"].includes(t.status)) return t;
    if (Date.now() > deadline) throw new Error(`${kind} ${id} still ${t.status} (${t.reason ?? ""})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const balanceOn = async (chain: Pick<Anvil, "rpc">, a: string) => BigInt(await chain.rpc<Hex>("eth_getBalance", [a, "latest"]));
type HistoryItem = { kind: string; direction: string; txHash: string; value?: string; contract?: string; tokenId?: string; from?: string };
const historyOf = async (walletId: string) => (await dfns.wallets.getWalletHistory({ walletId, query: { limit: 100 } })).items as unknown as HistoryItem[];
const detected = (txHash: string) => receiver.requests.filter((r) => r.path === "/evm" && r.signatureValid && JSON.parse(r.body).kind === "wallet.blockchainevent.detected" && JSON.parse(r.body).data.blockchainEvent.txHash === txHash);

describe("EVM chains through the official SDK", () => {
  let walletId: string;
  let bscWalletId: string;
  let address: Address;
  let outside: Address;
  /** The one recipient BscTestnet's policy lets through. */
  const allowed = randomAddress();

  it("one key on two chains: the same address on Anvil (31337) and BscTestnet (97), transfers confirmed on both", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "treasury" } });
    const b = await dfns.wallets.createWallet({ body: { network: "BscTestnet", name: "treasury on BSC", signingKey: { id: w.signingKey.id } } as never });
    expect(b.address).toBe(w.address);
    expect(b.signingKey.id).toBe(w.signingKey.id);
    expect(b.network).toBe("BscTestnet");
    walletId = w.id;
    bscWalletId = b.id;
    address = w.address as Address;
    outside = (await anvil.rpc<Address[]>("eth_accounts"))[0]!;
    await fund(anvil, address, 10n ** 19n);
    await fund(bsc, address, 10n ** 19n);

    const to = randomAddress();
    const [onAnvil, onBsc] = (await Promise.all([
      dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to, amount: "1000" } }),
      dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to, amount: "2000" } }),
    ])) as unknown as Request[];
    expect(await settled(walletId, onAnvil!.id)).toMatchObject({ status: "Confirmed" });
    expect(await settled(bscWalletId, onBsc!.id)).toMatchObject({ status: "Confirmed" });
    expect(await balanceOn(anvil, to)).toBe(1000n);
    expect(await balanceOn(bsc, to)).toBe(2000n);
  }, 120_000);

  it("wallets derived from the treasury key (signingKey.deriveFrom) are instant, have their own address, spend on Anvil, and sign for their own key (noble)", async () => {
    const status = async (p: Promise<unknown>) => p.then(() => 200, (e: { httpStatus?: number; message?: string }) => ({ status: e.httpStatus, message: e.message }));
    const master = await dfns.wallets.getWallet({ walletId });
    const t0 = performance.now();
    const d = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "customer 7", signingKey: { deriveFrom: { keyId: master.signingKey.id, path: "m/0/7" } } } as never });
    const createMs = performance.now() - t0;
    const auto = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: master.signingKey.id } } } as never });
    expect(d.signingKey.id).not.toBe(master.signingKey.id);
    expect(new Set([master.address, d.address, auto.address]).size).toBe(3);
    expect(d.signingKey).toMatchObject({ scheme: "ECDSA", curve: "secp256k1" });
    // The address is the child key's own.
    expect(getAddress(d.address!)).toBe(getAddress(`0x${keccak256(`0x${bytesToHex(secp256k1.Point.fromHex(d.signingKey.publicKey).toBytes(false).subarray(1))}`).slice(-40)}`));
    console.log(`derived wallet created through the SDK in ${Math.round(createMs)} ms`);

    await fund(anvil, d.address as Address, 10n ** 18n);
    const to = randomAddress();
    const transfer = (await dfns.wallets.transferAsset({ walletId: d.id, body: { kind: "Native", to, amount: "4242" } })) as unknown as Request;
    expect(await settled(d.id, transfer.id)).toMatchObject({ status: "Confirmed" });
    expect(await balanceOn(anvil, to)).toBe(4242n);

    const hash = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const sig = (await dfns.wallets.generateSignature({ walletId: auto.id, body: { kind: "Hash", hash: `0x${hash}` } })) as unknown as { status: string; signature: { r: string; s: string } };
    expect(sig.status).toBe("Signed");
    const compact = hexToBytes(sig.signature.r.slice(2) + sig.signature.s.slice(2));
    expect(secp256k1.verify(compact, hexToBytes(hash), hexToBytes(auto.signingKey.publicKey), { prehash: false })).toBe(true);
    expect(secp256k1.verify(compact, hexToBytes(hash), hexToBytes(master.signingKey.publicKey), { prehash: false })).toBe(false);

    // One path, one wallet; bad derivations are a clear 4xx.
    const again = await status(dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: master.signingKey.id, path: "m/0/7" } } } as never }));
    expect(again).toMatchObject({ status: 409 });
    expect(await status(dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: master.signingKey.id, path: "m/0'/7" } } } as never }))).toMatchObject({ status: 400 });
    expect(await status(dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: master.signingKey.id, path: "m/2147483648" } } } as never }))).toMatchObject({ status: 400 });
    expect(await status(dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: d.signingKey.id } } } as never }))).toMatchObject({ status: 400 });
    expect(await status(dfns.wallets.createWallet({ body: { network: "Anvil" as never, signingKey: { deriveFrom: { keyId: "key-nope0-nope0-nope0nope0" } } } as never }))).toMatchObject({ status: 404 });
  }, 120_000);

  it("a policy filtered to one network applies there only", async () => {
    await dfns.policies.createPolicy({
      body: {
        name: "BSC payouts only to the exchange",
        activityKind: "Wallets:Sign",
        rule: { kind: "TransactionRecipientWhitelist", configuration: { addresses: [allowed] } },
        action: { kind: "Block" },
        filters: { network: { in: ["BscTestnet"] } },
      } as never,
    });
    const stranger = randomAddress();
    const blocked = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: stranger, amount: "5" } })) as unknown as Request;
    expect(blocked).toMatchObject({ status: "Rejected" });
    const fine = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: allowed, amount: "6" } })) as unknown as Request;
    const elsewhere = (await dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to: stranger, amount: "7" } })) as unknown as Request;
    expect(await settled(bscWalletId, fine.id)).toMatchObject({ status: "Confirmed" });
    expect(await settled(walletId, elsewhere.id)).toMatchObject({ status: "Confirmed" });
  }, 90_000);

  it("deposits of ETH and of an ERC-20 from an outside account: in history and assets within 2 s of being mined, announced once each", async () => {
    const token = await deployTestToken(anvil, outside, 1_000_000n);
    const ethHash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: outside, to: address, value: "0x3039" }]);
    await waitReceipt(anvil, ethHash);
    const minedEth = Date.now();
    const tokHash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: outside, to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: "transfer", args: [address, 4242n] }) }]);
    await waitReceipt(anvil, tokHash);
    const minedTok = Date.now();

    const seenEth = await until("the ETH deposit in history", async () => (await historyOf(walletId)).find((i) => i.txHash === ethHash), 2_000);
    expect(Date.now() - minedEth).toBeLessThan(2_000);
    expect(seenEth).toMatchObject({ kind: "NativeTransfer", direction: "In", value: "12345", from: getAddress(outside) });
    const seenTok = await until("the ERC-20 deposit in history", async () => (await historyOf(walletId)).find((i) => i.txHash === tokHash), 2_000);
    expect(Date.now() - minedTok).toBeLessThan(2_000);
    expect(seenTok).toMatchObject({ kind: "Erc20Transfer", direction: "In", value: "4242", contract: getAddress(token) });
    // Token discovery: the wallet never sent this token and the network does not list it.
    const assets = await dfns.wallets.getWalletAssets({ walletId });
    expect(assets.assets.find((a) => (a as { contract?: string }).contract === getAddress(token))).toMatchObject({ kind: "Erc20", symbol: "TTT", decimals: 6, balance: "4242" });
    expect(Date.now() - minedTok).toBeLessThan(2_000);

    await until("both webhooks", async () => detected(ethHash).length && detected(tokHash).length, 5_000);
    // The outgoing transfers of the earlier tests are in the history too, each once.
    const history = await historyOf(walletId);
    expect(history.filter((i) => i.direction === "Out" && i.kind === "NativeTransfer").length).toBe(2);
    expect(new Set(history.map((i) => `${i.txHash}:${i.direction}`)).size).toBe(history.length);

    // A crash of the Worker: a deposit mined while it is down is found when it is back, and
    // nothing found before is announced again.
    await net.restartApi({ crash: true });
    const downHash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: outside, to: address, value: "0x7" }]);
    await waitReceipt(anvil, downHash);
    const minedDown = Date.now();
    await until("the deposit made across the restart", async () => (await historyOf(walletId)).find((i) => i.txHash === downHash), 2_000);
    expect(Date.now() - minedDown).toBeLessThan(2_000);
    await until("its webhook", async () => detected(downHash).length, 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const h of [ethHash, tokHash, downHash]) {
      expect(detected(h)).toHaveLength(1);
      expect(receiver.events.filter((e) => e.kind === "wallet.blockchainevent.detected" && (e.data.blockchainEvent as { txHash: string }).txHash === h)).toHaveLength(1);
    }
    expect(receiver.requests.filter((r) => r.path === "/evm").every((r) => r.signatureValid)).toBe(true);
    expect(receiver.events.some((e) => e.kind === "wallet.created" && (e.data.wallet as { id: string }).id === walletId)).toBe(true);
  }, 120_000);

  it("NFTs received are listed; fees and read-only calls answer from the chain", async () => {
    const nft = await deploy(anvil, "TestNft");
    await mintNft(anvil, nft, address, 7n);
    const listed = await until("the NFT", async () => {
      const r = await dfns.wallets.getWalletNfts({ walletId });
      return r.nfts.length ? r : null;
    });
    expect(listed.nfts).toEqual([{ kind: "Erc721", contract: getAddress(nft), tokenId: "7", symbol: "TNFT", tokenUri: "ipfs://tessera-test" }]);

    const fees = (await dfns.networks.getFees({ query: { network: "BscTestnet" } })) as { kind: string; network: string; standard: { maxFeePerGas: string }; baseFeePerGas: string };
    expect(fees).toMatchObject({ kind: "Eip1559", network: "BscTestnet" });
    expect(BigInt(fees.standard.maxFeePerGas)).toBeGreaterThan(BigInt(fees.baseFeePerGas));

    const token = (await historyOf(walletId)).find((i) => i.kind === "Erc20Transfer")!.contract!;
    const call = await dfns.networks.callFunction({
      network: "anvil",
      body: { contract: token, abi: { type: "function", name: "balanceOf", stateMutability: "view", inputs: [{ name: "owner", type: "address" }], outputs: [{ name: "", type: "uint256" }] }, calldata: { owner: address } },
    });
    expect(call).toMatchObject({ result: "4242" });
  }, 60_000);

  it("broadcastTransaction kind Evm calls a contract; the server fills nonce, gas and fees", async () => {
    const counter = await deploy(anvil, "Counter");
    const created = (await dfns.wallets.broadcastTransaction({
      walletId,
      body: { kind: "Evm", to: counter, data: encodeFunctionData({ abi: COUNTER_ABI, functionName: "increment", args: [5n] }) },
    })) as unknown as Request;
    const done = await settled(walletId, created.id, "transaction");
    expect(done).toMatchObject({ status: "Confirmed" });
    const read = async (functionName: "count" | "lastCaller") =>
      decodeFunctionResult({ abi: COUNTER_ABI, functionName, data: await anvil.rpc<Hex>("eth_call", [{ to: counter, data: encodeFunctionData({ abi: COUNTER_ABI, functionName }) }, "latest"]) });
    expect(await read("count")).toBe(5n);
    expect(await read("lastCaller")).toBe(getAddress(address));
  }, 60_000);

  it("an underpriced transfer on a chain with a minimum base fee is stuck, sped up through the API, and confirms; the next transfer confirms after it", async () => {
    mining.paused = true;
    const first = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: allowed, amount: "1234" } })) as unknown as Request;
    const broadcasted = await until("the transfer broadcast", async () => {
      const t = (await dfns.wallets.getTransfer({ walletId: bscWalletId, transferId: first.id })) as unknown as Request;
      return t.status === "Broadcasted" ? t : null;
    }, 30_000, 100);
    const before = await balanceOn(bsc, allowed);
    // The chain now wants 100 gwei a gas: the transaction's fee cap (a couple of gwei) never gets in.
    mining.baseFeeFloor = 100n * 10n ** 9n;
    mining.paused = false;
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await dfns.wallets.getTransfer({ walletId: bscWalletId, transferId: first.id })) as unknown as Request).toMatchObject({ status: "Broadcasted", txHash: broadcasted.txHash });
    expect(await balanceOn(bsc, allowed)).toBe(before);

    const sped = (await dfns.wallets.speedUpTransfer({ walletId: bscWalletId, transferId: first.id })) as unknown as Request;
    expect(sped).toMatchObject({ id: first.id, status: "Broadcasted" });
    const done = await settled(bscWalletId, first.id);
    expect(done.status).toBe("Confirmed");
    expect(done.txHash).not.toBe(broadcasted.txHash);
    expect(done.details!.nonce).toBe(broadcasted.details!.nonce);
    expect(await balanceOn(bsc, allowed)).toBe(before + 1234n);

    const next = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: allowed, amount: "4321" } })) as unknown as Request;
    const nextDone = await settled(bscWalletId, next.id);
    expect(nextDone).toMatchObject({ status: "Confirmed" });
    expect(nextDone.details!.nonce).toBe(broadcasted.details!.nonce! + 1);

    // The same again, cancelled instead: nothing reaches the recipient, the nonce is spent on a
    // zero-value transfer to the wallet itself, and the wallet's queue moves on.
    mining.paused = true;
    const doomed = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: allowed, amount: "999" } })) as unknown as Request;
    const pending = await until("the transfer broadcast", async () => {
      const t = (await dfns.wallets.getTransfer({ walletId: bscWalletId, transferId: doomed.id })) as unknown as Request;
      return t.status === "Broadcasted" ? t : null;
    }, 30_000, 100);
    const floor = BigInt(await bsc.rpc<Hex>("eth_gasPrice"));
    mining.baseFeeFloor = floor * 3n;
    mining.paused = false;
    await new Promise((r) => setTimeout(r, 1_000));
    const balanceBefore = await balanceOn(bsc, allowed);
    expect((await dfns.wallets.cancelTransfer({ walletId: bscWalletId, transferId: doomed.id })) as unknown as Request).toMatchObject({ status: "Broadcasted" });
    const cancelled = await settled(bscWalletId, doomed.id);
    expect(cancelled).toMatchObject({ status: "Failed", reason: expect.stringMatching(/^Cancelled: nonce \d+ was spent on a zero-value transaction to the wallet itself/) });
    expect(cancelled.details!.nonce).toBe(pending.details!.nonce);
    expect(await balanceOn(bsc, allowed)).toBe(balanceBefore);
    const after = (await dfns.wallets.transferAsset({ walletId: bscWalletId, body: { kind: "Native", to: allowed, amount: "1" } })) as unknown as Request;
    expect(await settled(bscWalletId, after.id)).toMatchObject({ status: "Confirmed" });
    mining.baseFeeFloor = 0n;
  }, 120_000);

  it("generateSignature Eip191 and Eip7702: signed by the share holders, recovering to the wallet; each announced by wallet.signature.* once", async () => {
    const message = `0x${Buffer.from("hello from tessera").toString("hex")}` as Hex;
    const personal = (await dfns.wallets.generateSignature({ walletId, body: { kind: "Eip191", message } })) as unknown as { id: string; status: string; signature: { encoded: Hex } };
    expect(personal.status).toBe("Signed");
    expect(await recoverMessageAddress({ message: { raw: message }, signature: personal.signature.encoded })).toBe(getAddress(address));
    const delegate = randomAddress();
    const authorization = { address: delegate, chainId: 31337, nonce: 3 };
    const delegation = (await dfns.wallets.generateSignature({ walletId, body: { kind: "Eip7702", ...authorization } })) as unknown as { id: string; status: string; signature: { encoded: Hex } };
    expect(delegation.status).toBe("Signed");
    expect(await (recoverAuthorizationAddress as (a: unknown) => Promise<string>)({ authorization, signature: delegation.signature.encoded })).toBe(getAddress(address));
    const announced = (kind: string, id: string) => receiver.events.filter((e) => e.kind === kind && (e.data.signatureRequest as { id: string }).id === id);
    await until("the signature webhooks", async () => [personal.id, delegation.id].every((id) => announced("wallet.signature.signed", id).length === 1), 5_000);
    for (const id of [personal.id, delegation.id]) expect(announced("wallet.signature.requested", id)).toHaveLength(1);
  }, 60_000);

  it("bad input is a clear 4xx: unconfigured networks name the setting, wrong states and bodies are refused", async () => {
    const status = async (p: Promise<unknown>) => p.then(() => 200, (e: { httpStatus?: number; message?: string }) => ({ status: e.httpStatus, message: e.message }));
    // A Dfns network the deployment has no RPC for: wallets can exist, transfers say what to set.
    const bsc = await dfns.wallets.createWallet({ body: { network: "Bsc" } });
    expect(await status(dfns.wallets.transferAsset({ walletId: bsc.id, body: { kind: "Native", to: allowed, amount: "1" } }))).toEqual({ status: 400, message: expect.stringMatching(/BSC_RPC_URL/) });
    expect(await status(dfns.networks.getFees({ query: { network: "Bsc" } }))).toEqual({ status: 400, message: expect.stringMatching(/BSC_RPC_URL/) });
    expect(await status(dfns.wallets.createWallet({ body: { network: "BscTestnet", signingKey: { id: "key-nope0-nope0-nope0nope0" } } as never }))).toMatchObject({ status: 404 });
    expect(await status(dfns.wallets.getWalletHistory({ walletId, query: { limit: "lots" } as never }))).toMatchObject({ status: 400 });
    expect(await status(dfns.wallets.getWalletHistory({ walletId, query: { kind: "Bogus" } as never }))).toMatchObject({ status: 400 });
    const abi = { type: "function", name: "increment", stateMutability: "nonpayable", inputs: [{ name: "by", type: "uint256" }], outputs: [] };
    expect(await status(dfns.networks.callFunction({ network: "anvil", body: { contract: allowed, abi } as never }))).toMatchObject({ status: 400 });
    expect(await status(dfns.networks.callFunction({ network: "not-a-chain", body: { contract: allowed, abi: { ...abi, stateMutability: "view" } } as never }))).toMatchObject({ status: 400 });
    // Speed-up and cancel: only a request still waiting on chain.
    const confirmed = (await dfns.wallets.listTransfers({ walletId })).items.find((t) => t.status === "Confirmed")!;
    expect(await status(dfns.wallets.speedUpTransfer({ walletId, transferId: confirmed.id }))).toMatchObject({ status: 409 });
    expect(await status(dfns.wallets.cancelTransfer({ walletId, transferId: "xfr-00000000000000000000000000" }))).toMatchObject({ status: 404 });
    expect(await status(dfns.wallets.broadcastTransaction({ walletId, body: { kind: "Evm", to: allowed, nonce: 3 } as never }))).toMatchObject({ status: 400 });
  }, 120_000);
});
