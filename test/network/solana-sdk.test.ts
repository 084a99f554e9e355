// Solana end to end, with real processes: the local validator (litesvm behind standard JSON-RPC),
// three share-holder nodes and the edge API under wrangler dev. The unmodified @dfns/sdk 0.8.21
// creates a SolanaLocal wallet (a 2-of-3 FROST Ed25519 key among the nodes); `tessera dev fund`
// airdrops to it; `transferAsset` sends SOL (Native) and an SPL token (Spl, creating the
// recipient's token account) that reach Confirmed; a caller's transaction is signed with
// `generateSignature` kind Transaction and lands; amount-limit and velocity policies block SOL
// transfers over their limits. Every balance is read from the validator's RPC with @solana/kit,
// never from our API.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { getTransferSolInstruction } from "@solana-program/system";
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getBase58Encoder,
  getTransactionDecoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
} from "@solana/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg, recordLocalChains } from "../../worker/src/admin/local-bootstrap.mjs";
import { startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";
import { airdrop, balance, createMint, mintTo, newKeypair, solanaRpc, tokenBalance, waitForSignature, type SolanaRpc } from "../chain/solana.js";

const run = promisify(execFile);
const cli = new URL("../../cli/bin/tessera.mjs", import.meta.url).pathname;
const SOL = 1_000_000_000n;
const FEE = 5000n; // one signature, no priority fee

let net: LocalNetwork;
let dir: string;
let configFile: string;
let dfns: DfnsApiClient;
let rpc: SolanaRpc;

type Transfer = { id: string; status: string; reason?: string; txHash?: string; fee?: string; metadata?: { asset: { symbol?: string; decimals?: number } } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-solana-"));
  net = await startLocalNetwork({
    stateDir: dir,
    chain: false,
    solanaSlotMs: 100,
    // 1 SOL = 100 USD for the policy engine.
    vars: { POLICY_USD_PRICES: JSON.stringify({ SolanaLocal: "100" }), TESSERA_NETWORKS: JSON.stringify({ SolanaLocal: { pollIntervalMs: 100 } }) },
  });
  rpc = solanaRpc(net.solanaUrl!);
  configFile = join(dir, "local.json");
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: configFile });
  recordLocalChains(configFile, { SolanaLocal: net.solanaUrl });
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 240_000);

afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function settled(walletId: string, transferId: string, timeoutMs = 60_000): Promise<Transfer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await dfns.wallets.getTransfer({ walletId, transferId })) as unknown as Transfer;
    if (["Confirmed", "Failed", "Rejected"].includes(t.status)) return t;
    if (Date.now() > deadline) throw new Error(`transfer ${transferId} still ${t.status} (${t.reason ?? ""})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tessera = async (...args: string[]) => JSON.parse((await run(process.execPath, [cli, "--config", configFile, ...args])).stdout) as Record<string, string>;

async function newWallet(tags: string[] = []) {
  const w = await dfns.wallets.createWallet({ body: { network: "SolanaLocal" as never, ...(tags.length ? { tags } : {}) } });
  return { id: w.id, address: w.address! };
}

describe("Solana through the official SDK, signed by the share holders, confirmed on the local validator", () => {
  let wallet: { id: string; address: string };

  it("a SolanaLocal wallet's address is its FROST Ed25519 group key; `tessera dev fund` airdrops to it", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "SolanaLocal" as never, name: "sol" } });
    expect(w.signingKey).toMatchObject({ scheme: "EdDSA", curve: "ed25519" });
    expect(Buffer.from(getBase58Encoder().encode(w.address!)).toString("hex")).toBe(w.signingKey.publicKey.replace(/^0x/, ""));
    wallet = { id: w.id, address: w.address! };
    const funded = await tessera("dev", "fund", wallet.id, "2");
    expect(funded).toMatchObject({ network: "SolanaLocal", address: wallet.address, amount: String(2n * SOL), balance: String(2n * SOL) });
    expect(await balance(rpc, wallet.address)).toBe(2n * SOL);
  });

  it("Native: lamports leave the wallet's address, Confirmed with the fee the chain charged", async () => {
    const to = (await newKeypair()).address;
    const t = (await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Native", to, amount: String(SOL / 2n) } })) as unknown as Transfer;
    expect(t.metadata?.asset).toMatchObject({ symbol: "SOL", decimals: 9 });
    const done = await settled(wallet.id, t.id);
    expect(done).toMatchObject({ status: "Confirmed", fee: String(FEE) });
    expect(await balance(rpc, to)).toBe(SOL / 2n);
    expect(await balance(rpc, wallet.address)).toBe(2n * SOL - SOL / 2n - FEE);
    // The transfer's id on chain is the signature the validator knows, finalised in time.
    const { err } = await waitForSignature(rpc, done.txHash!, "confirmed");
    expect(err).toBeNull();
  });

  it("Spl: tokens move to a new owner whose token account the wallet creates; without createDestinationAccount it fails with the reason", async () => {
    const authority = await newKeypair();
    await airdrop(rpc, authority.address, SOL);
    const mint = await createMint(rpc, authority, 6);
    await mintTo(rpc, authority, mint, wallet.address, 5_000_000n);
    expect(await tokenBalance(rpc, wallet.address, mint)).toBe(5_000_000n);

    const owner = (await newKeypair()).address;
    const before = await balance(rpc, wallet.address);
    const t = (await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Spl", mint, to: owner, amount: "1250000", createDestinationAccount: true } })) as unknown as Transfer;
    expect(t.metadata?.asset).toMatchObject({ decimals: 6 });
    expect(await settled(wallet.id, t.id)).toMatchObject({ status: "Confirmed", fee: String(FEE) });
    expect(await tokenBalance(rpc, owner, mint)).toBe(1_250_000n);
    expect(await tokenBalance(rpc, wallet.address, mint)).toBe(3_750_000n);
    // The wallet paid the fee and the new account's rent.
    const rent = await rpc.getMinimumBalanceForRentExemption(165n).send();
    expect(await balance(rpc, wallet.address)).toBe(before - FEE - rent);

    // The CLI's token transfer, to the account that now exists.
    const viaCli = await tessera("transfer", wallet.id, "--to", owner, "--amount", "250000", "--mint", mint, "--json");
    expect(await settled(wallet.id, viaCli.id!)).toMatchObject({ status: "Confirmed" });
    expect(await tokenBalance(rpc, owner, mint)).toBe(1_500_000n);

    const stranger = (await newKeypair()).address;
    const refused = (await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Spl", mint, to: stranger, amount: "1" } })) as unknown as Transfer;
    const failed = await settled(wallet.id, refused.id);
    expect(failed.status).toBe("Failed");
    expect(failed.reason).toMatch(/no token account.*createDestinationAccount/);
    expect(await tokenBalance(rpc, wallet.address, mint)).toBe(3_500_000n);

    const assets = (await dfns.wallets.getWalletAssets({ walletId: wallet.id })) as unknown as { assets: { kind: string; balance: string; decimals: number; mint?: string }[] };
    expect(assets.assets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "Native", decimals: 9, balance: String(await balance(rpc, wallet.address)) }),
        expect.objectContaining({ kind: "Spl", mint, decimals: 6, balance: "3500000" }),
      ]),
    );
  });

  it("generateSignature kind Transaction: a caller's transaction, fee paid by the wallet, signed in its slot (signedData) and accepted by the chain", async () => {
    const to = (await newKeypair()).address;
    const { value: latest } = await rpc.getLatestBlockhash().send();
    const payer = createNoopSigner(address(wallet.address));
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) => appendTransactionMessageInstructions([getTransferSolInstruction({ source: payer, destination: address(to), amount: SOL / 10n })], m),
    );
    const unsigned = Buffer.from(getTransactionEncoder().encode(compileTransaction(message))).toString("hex");
    const sig = await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Transaction", transaction: `0x${unsigned}` } });
    expect(sig.status).toBe("Signed");
    const signed = getTransactionDecoder().decode(Buffer.from(sig.signedData!.slice(2), "hex"));
    const landed = await rpc.sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: "base64" }).send();
    expect((await waitForSignature(rpc, landed)).err).toBeNull();
    expect(await balance(rpc, to)).toBe(SOL / 10n);

    // A transaction the wallet does not sign is refused before any ceremony.
    const other = createNoopSigner((await newKeypair()).address);
    const foreign = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(other, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) => appendTransactionMessageInstructions([getTransferSolInstruction({ source: other, destination: address(to), amount: 1n })], m),
    );
    const bytes = Buffer.from(getTransactionEncoder().encode(compileTransaction(foreign))).toString("hex");
    await expect(dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Transaction", transaction: `0x${bytes}` } })).rejects.toMatchObject({ httpStatus: 400, message: expect.stringMatching(/not a signer/) });
  });

  it("broadcastTransaction: a caller's Solana transaction is signed in the wallet's slot, sent and tracked to Confirmed", async () => {
    const to = (await newKeypair()).address;
    const { value: latest } = await rpc.getLatestBlockhash().send();
    const payer = createNoopSigner(address(wallet.address));
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) => appendTransactionMessageInstructions([getTransferSolInstruction({ source: payer, destination: address(to), amount: SOL / 5n })], m),
    );
    const transaction = `0x${Buffer.from(getTransactionEncoder().encode(compileTransaction(message))).toString("hex")}`;
    const created = (await dfns.wallets.broadcastTransaction({ walletId: wallet.id, body: { kind: "Transaction", transaction } })) as unknown as Transfer;
    const deadline = Date.now() + 60_000;
    let t = created;
    while (!["Confirmed", "Failed", "Rejected"].includes(t.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      t = (await dfns.wallets.getTransaction({ walletId: wallet.id, transactionId: created.id })) as unknown as Transfer;
    }
    expect(t).toMatchObject({ status: "Confirmed", fee: String(FEE) });
    expect(await balance(rpc, to)).toBe(SOL / 5n);

    // Another fee payer that has not signed: nothing the wallet's signature alone could send.
    const other = createNoopSigner((await newKeypair()).address);
    const shared = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(other, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) => appendTransactionMessageInstructions([getTransferSolInstruction({ source: payer, destination: address(to), amount: 1n })], m),
    );
    const unsignedByPayer = `0x${Buffer.from(getTransactionEncoder().encode(compileTransaction(shared))).toString("hex")}`;
    await expect(dfns.wallets.broadcastTransaction({ walletId: wallet.id, body: { kind: "Transaction", transaction: unsignedByPayer } })).rejects.toMatchObject({ httpStatus: 400, message: expect.stringMatching(/not signed yet by/) });
  });

  it("bad Solana bodies are a 400 with the reason, before anything is recorded", async () => {
    const refusal = (body: Record<string, unknown>) => dfns.wallets.transferAsset({ walletId: wallet.id, body: body as never }).then(() => null, (e: { httpStatus: number; message: string }) => e);
    const to = (await newKeypair()).address;
    expect(await refusal({ kind: "Native", to: "0x000000000000000000000000000000000000dEaD", amount: "1" })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/base58/) });
    expect(await refusal({ kind: "Native", to, amount: "0" })).toMatchObject({ httpStatus: 400 });
    expect(await refusal({ kind: "Native", to, amount: (1n << 64n).toString() })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/2\^64/) });
    expect(await refusal({ kind: "Erc20", contract: "0x000000000000000000000000000000000000dEaD", to, amount: "1" })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/not possible on SolanaLocal/) });
    expect(await refusal({ kind: "Spl", mint: to, to, amount: "1" })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/not a SPL Token mint/) });
    expect(await refusal({ kind: "Native", to, amount: "1", useDurableNonce: true })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/durable-nonce/) });
    expect(await refusal({ kind: "Native", to: wallet.address, amount: "1" })).toMatchObject({ httpStatus: 400, message: expect.stringMatching(/itself/) });
  });

  it("amount-limit and velocity policies block SOL transfers over their limits (SOL priced at 100 USD, 9 decimals)", async () => {
    const limited = await newWallet(["sol-limits"]);
    await airdrop(rpc, limited.address, 3n * SOL);
    const filters = { walletTags: { hasAny: ["sol-limits"] } };
    await dfns.policies.createPolicy({ body: { name: "at most 50 USD a transfer", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountLimit", configuration: { limit: 50, currency: "USD" } }, action: { kind: "Block" }, filters } });
    await dfns.policies.createPolicy({ body: { name: "at most 60 USD an hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountVelocity", configuration: { limit: 60, currency: "USD", timeframe: 60 } }, action: { kind: "Block" }, filters } });
    const to = (await newKeypair()).address;
    const send = async (lamports: bigint) => settled(limited.id, ((await dfns.wallets.transferAsset({ walletId: limited.id, body: { kind: "Native", to, amount: String(lamports) } })) as unknown as Transfer).id);

    const tooBig = await send((6n * SOL) / 10n); // 60 USD
    expect(tooBig.status).toBe("Rejected");
    expect(tooBig.reason).toMatch(/60 USD exceeds the limit of 50 USD/);
    expect(await send((4n * SOL) / 10n)).toMatchObject({ status: "Confirmed" }); // 40 USD
    const overVelocity = await send((3n * SOL) / 10n); // 30 USD: 70 in the hour
    expect(overVelocity.status).toBe("Rejected");
    expect(overVelocity.reason).toMatch(/70 USD in the last 60 min.*exceeds the limit of 60 USD/);
    // Only the allowed one moved anything.
    expect(await balance(rpc, to)).toBe((4n * SOL) / 10n);
    expect(await balance(rpc, limited.address)).toBe(3n * SOL - (4n * SOL) / 10n - FEE);
  });
});
