// Bitcoin end to end, with real processes: btcd on regtest (built by scripts/btcd, mining by
// itself), anvil, three share-holder nodes and the edge API under wrangler dev. The unmodified
// @dfns/sdk 0.8.21 creates a BitcoinRegtest wallet of each kind Dfns has — ECDSA (DKLs23) →
// P2WPKH, the default, and Schnorr (FROST BIP340) → Taproot — `tessera dev fund` pays each from
// newly mined coins, and `transferAsset` Native (satoshis) reaches Confirmed. Every amount received
// is read from btcd's RPC, never from our API. One more test spends from an address of every
// wallet kind the API can create here (EVM on anvil, P2WPKH, Taproot, Solana on the local
// validator), and amount-limit and
// velocity policies block BTC transfers over their limits (BTC priced in USD, 8 decimals).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { Address, OutScript, p2wpkh, Transaction } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg, recordLocalChains } from "../../worker/src/admin/local-bootstrap.mjs";
import { startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";
import { bitcoinRpc, REGTEST } from "../../scripts/btcd/regtest-miner.js";
import { anvilAt } from "../chain/anvil.js";
import { randomAddress } from "../broadcast/harness.js";
import { balance as solanaBalance, newKeypair, solanaRpc } from "../chain/solana.js";

const run = promisify(execFile);
const cli = new URL("../../cli/bin/tessera.mjs", import.meta.url).pathname;

let net: LocalNetwork;
let dir: string;
let configFile: string;
let dfns: DfnsApiClient;
let btc: ReturnType<typeof bitcoinRpc>;

type Wallet = { id: string; address: string; signingKey: { id: string; scheme: string } };
type Transfer = { id: string; status: string; reason?: string; txHash?: string; fee?: string; metadata?: { asset: { symbol?: string; decimals?: number } } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-bitcoin-"));
  net = await startLocalNetwork({
    stateDir: dir,
    // 1 BTC = 100 000 USD for the policy engine.
    vars: { POLICY_USD_PRICES: JSON.stringify({ BitcoinRegtest: "100000" }), TESSERA_NETWORKS: JSON.stringify({ BitcoinRegtest: { pollIntervalMs: 100 }, Anvil: { pollIntervalMs: 100 }, SolanaLocal: { pollIntervalMs: 100 } }) },
  });
  btc = bitcoinRpc(net.bitcoinUrl!);
  configFile = join(dir, "local.json");
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: configFile });
  recordLocalChains(configFile, { BitcoinRegtest: net.bitcoinUrl, Anvil: net.chainUrl, SolanaLocal: net.solanaUrl });
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 240_000);

afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function newWallet(network: string, scheme?: "Schnorr", tags: string[] = []): Promise<Wallet> {
  const body = { network: network as never, ...(scheme ? { signingKey: { scheme, curve: "secp256k1" as const } } : {}), ...(tags.length ? { tags } : {}) };
  return (await dfns.wallets.createWallet({ body })) as unknown as Wallet;
}

/** `npx tessera dev fund <walletId> <btc>` — the CLI, as a user runs it. */
async function devFund(walletId: string, amount: string): Promise<{ balance: string }> {
  const { stdout } = await run(process.execPath, [cli, "--config", configFile, "dev", "fund", walletId, amount], { timeout: 60_000 });
  return JSON.parse(stdout) as { balance: string };
}

async function settled(walletId: string, transferId: string, timeoutMs = 90_000): Promise<Transfer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await dfns.wallets.getTransfer({ walletId, transferId })) as unknown as Transfer;
    if (["Confirmed", "Failed", "Rejected"].includes(t.status)) return t;
    if (Date.now() > deadline) throw new Error(`transfer ${transferId} still ${t.status} (${t.reason ?? ""})`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function newRecipient(): { address: string; script: string } {
  const out = p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST);
  return { address: out.address!, script: bytesToHex(out.script) };
}

/** Satoshis that transaction `txid` pays to `script`, and its confirmations — from btcd. */
async function paid(txid: string, script: string): Promise<{ sats: bigint; confirmations: number }> {
  const tx = await btc<{ confirmations?: number; vout: { value: number; scriptPubKey: { hex: string } }[] }>("getrawtransaction", [txid, 1]);
  return { sats: tx.vout.filter((o) => o.scriptPubKey.hex === script).reduce((n, o) => n + BigInt(Math.round(o.value * 1e8)), 0n), confirmations: tx.confirmations ?? 0 };
}

async function sendBtc(wallet: Wallet, to: string, sats: bigint): Promise<Transfer> {
  const t = (await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Native", to, amount: sats.toString() } })) as unknown as Transfer;
  return settled(wallet.id, t.id);
}

describe("Bitcoin through the official SDK, signed by the share holders, confirmed on btcd", () => {
  it.each([
    ["ECDSA (default) → P2WPKH", undefined, /^bcrt1q[a-z0-9]{38}$/],
    ["Schnorr → Taproot", "Schnorr", /^bcrt1p[a-z0-9]{58}$/],
  ] as const)("a %s wallet receives mined coins and sends a Native transfer that reaches Confirmed", async (_name, scheme, shape) => {
    const wallet = await newWallet("BitcoinRegtest", scheme);
    expect(wallet.address).toMatch(shape);
    expect(wallet.signingKey.scheme).toBe(scheme ?? "ECDSA");
    // The address is the wallet's own output script (checked independently of our API's encoder).
    expect(OutScript.decode(OutScript.encode(Address(REGTEST).decode(wallet.address))).type).toBe(scheme ? "tr" : "wpkh");

    // Two coins, and a transfer that needs both: two inputs, two ceremonies under one user action
    // (the nodes' claim binding lets that action sign exactly this transaction's inputs).
    expect((await devFund(wallet.id, "0.006")).balance).toBe("600000");
    expect((await devFund(wallet.id, "0.004")).balance).toBe("1000000");
    const to = newRecipient();
    const t = await sendBtc(wallet, to.address, 800_000n);
    expect([t.status, t.reason]).toEqual(["Confirmed", undefined]);
    expect(t.metadata?.asset).toMatchObject({ symbol: "BTC", decimals: 8 });
    const onChain = await paid(t.txHash!, to.script);
    expect(onChain.sats).toBe(800_000n);
    expect((await btc<{ vin: unknown[] }>("getrawtransaction", [t.txHash!, 1])).vin).toHaveLength(2);
    expect(onChain.confirmations).toBeGreaterThanOrEqual(1);
    // The change came back to the wallet, less the fee the transfer reports.
    const change = await paid(t.txHash!, bytesToHex(OutScript.encode(Address(REGTEST).decode(wallet.address))));
    expect(change.sats + 800_000n + BigInt(t.fee!)).toBe(1_000_000n);
    // The assets endpoint agrees with the chain.
    const assets = (await dfns.wallets.getWalletAssets({ walletId: wallet.id })) as unknown as { assets: { symbol: string; balance: string }[] };
    expect(assets.assets[0]).toMatchObject({ symbol: "BTC", balance: change.sats.toString() });
  }, 180_000);

  it("every wallet kind the API can create here spends from its address on a real node: EVM (anvil), P2WPKH, Taproot, Solana", async () => {
    const chain = anvilAt(net.chainUrl!);
    const evm = await newWallet("Anvil");
    await chain.rpc("anvil_setBalance", [evm.address, "0xde0b6b3a7640000"]);
    const evmTo = randomAddress();
    const evmT = (await dfns.wallets.transferAsset({ walletId: evm.id, body: { kind: "Native", to: evmTo, amount: "1000" } })) as unknown as Transfer;
    expect((await settled(evm.id, evmT.id)).status).toBe("Confirmed");
    expect(BigInt(await chain.rpc<string>("eth_getBalance", [evmTo, "latest"]))).toBe(1000n);

    // A P2WPKH wallet derived from that EVM wallet's key (signingKey.deriveFrom: no ceremony, the
    // nodes derive the BIP32 child themselves) spends on btcd too; Taproot cannot be derived.
    const derived = (await dfns.wallets.createWallet({ body: { network: "BitcoinRegtest" as never, signingKey: { deriveFrom: { keyId: evm.signingKey.id } } } as never })) as unknown as Wallet;
    expect(derived.address).toMatch(/^bcrt1q[a-z0-9]{38}$/);
    expect(derived.signingKey.id).not.toBe(evm.signingKey.id);
    await devFund(derived.id, "0.001");
    const derivedTo = newRecipient();
    const derivedT = await sendBtc(derived, derivedTo.address, 40_000n);
    expect([derivedT.status, derivedT.reason]).toEqual(["Confirmed", undefined]);
    expect((await paid(derivedT.txHash!, derivedTo.script)).sats).toBe(40_000n);
    const taproot = await dfns.wallets
      .createWallet({ body: { network: "BitcoinRegtest" as never, signingKey: { scheme: "Schnorr", deriveFrom: { keyId: evm.signingKey.id } } } as never })
      .then(() => 200, (e: { httpStatus?: number }) => e.httpStatus);
    expect(taproot).toBe(400);

    for (const scheme of [undefined, "Schnorr"] as const) {
      const w = await newWallet("BitcoinRegtest", scheme);
      await devFund(w.id, "0.001");
      const to = newRecipient();
      const t = await sendBtc(w, to.address, 50_000n);
      expect([w.address, t.status]).toEqual([w.address, "Confirmed"]);
      expect((await paid(t.txHash!, to.script)).sats).toBe(50_000n);
    }

    // Solana (FROST Ed25519): airdropped, then lamports leave its address, as the validator sees it.
    const sol = await newWallet("SolanaLocal");
    await devFund(sol.id, "1");
    const solTo = (await newKeypair()).address;
    const solT = (await dfns.wallets.transferAsset({ walletId: sol.id, body: { kind: "Native", to: solTo, amount: "100000000" } })) as unknown as Transfer;
    expect((await settled(sol.id, solT.id)).status).toBe("Confirmed");
    expect(await solanaBalance(solanaRpc(net.solanaUrl!), solTo)).toBe(100_000_000n);
  }, 240_000);

  it("amount-limit and velocity policies block BTC transfers over their limits (1 BTC = 100 000 USD)", async () => {
    const limited = await newWallet("BitcoinRegtest", undefined, ["btc-limits"]);
    await devFund(limited.id, "0.01"); // 1000 USD
    const filters = { walletTags: { hasAny: ["btc-limits"] } };
    await dfns.policies.createPolicy({ body: { name: "at most 50 USD a transfer", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountLimit", configuration: { limit: 50, currency: "USD" } }, action: { kind: "Block" }, filters } });
    await dfns.policies.createPolicy({ body: { name: "at most 60 USD an hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountVelocity", configuration: { limit: 60, currency: "USD", timeframe: 60 } }, action: { kind: "Block" }, filters } });
    const to = newRecipient();

    const tooBig = await sendBtc(limited, to.address, 60_000n); // 60 USD
    expect(tooBig.status).toBe("Rejected");
    expect(tooBig.reason).toMatch(/60 USD exceeds the limit of 50 USD/);
    const allowed = await sendBtc(limited, to.address, 40_000n); // 40 USD
    expect(allowed.status).toBe("Confirmed");
    const overVelocity = await sendBtc(limited, to.address, 30_000n); // 30 USD: 70 in the hour
    expect(overVelocity.status).toBe("Rejected");
    expect(overVelocity.reason).toMatch(/70 USD in the last 60 min.*exceeds the limit of 60 USD/);
    // Only the allowed one moved anything, as btcd sees it.
    expect((await paid(allowed.txHash!, to.script)).sats).toBe(40_000n);
    const history = await btc<{ txid: string }[]>("searchrawtransactions", [to.address, 1, 0, 100]);
    expect(history.map((t) => t.txid)).toEqual([allowed.txHash]);
  }, 180_000);

  it.each([
    ["P2WPKH", undefined],
    ["Taproot", "Schnorr"],
  ] as const)("generateSignature kind Psbt signs the %s wallet's inputs of a caller's PSBT; finalized by the caller, btcd mines it", async (_name, scheme) => {
    const w = await newWallet("BitcoinRegtest", scheme);
    await devFund(w.id, "0.002");
    const script = OutScript.encode(Address(REGTEST).decode(w.address));
    const history = await btc<{ txid: string; vout: { value: number; n: number; scriptPubKey: { hex: string } }[] }[]>("searchrawtransactions", [w.address, 1, 0, 10]);
    const coin = history.flatMap((t) => t.vout.filter((o) => o.scriptPubKey.hex === bytesToHex(script)).map((o) => ({ txid: t.txid, n: o.n, sats: BigInt(Math.round(o.value * 1e8)) })))[0]!;
    const to = newRecipient();
    const psbt = new Transaction({ version: 2 });
    psbt.addInput({ txid: coin.txid, index: coin.n, witnessUtxo: { script, amount: coin.sats } });
    psbt.addOutputAddress(to.address, 150_000n, REGTEST);
    psbt.addOutput({ script, amount: coin.sats - 150_000n - 1_000n });
    const res = await dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Psbt", psbt: `0x${bytesToHex(psbt.toPSBT())}` } });
    expect(res.status).toBe("Signed");
    const signed = Transaction.fromPSBT(Buffer.from(res.signedData!.slice(2), "hex"));
    signed.finalize();
    const txid = await btc<string>("sendrawtransaction", [signed.hex]);
    const deadline = Date.now() + 30_000;
    while ((await paid(txid, to.script)).confirmations < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await paid(txid, to.script)).toEqual({ sats: 150_000n, confirmations: expect.any(Number) });
    expect((await paid(txid, to.script)).confirmations).toBeGreaterThanOrEqual(1);

    // A PSBT with nothing of this wallet's is refused before any ceremony.
    const foreign = new Transaction({ version: 2 });
    foreign.addInput({ txid: coin.txid, index: coin.n, witnessUtxo: { script: Buffer.from(to.script, "hex"), amount: coin.sats } });
    foreign.addOutputAddress(to.address, 1_000n, REGTEST);
    await expect(dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Psbt", psbt: `0x${bytesToHex(foreign.toPSBT())}` } })).rejects.toMatchObject({ httpStatus: 400 });
  }, 180_000);

  it("bad Bitcoin transfers are clear 400s: another network's address, dust, a token kind", async () => {
    const w = await newWallet("BitcoinRegtest");
    for (const body of [
      { kind: "Native", to: "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", amount: "10000" },
      { kind: "Native", to: newRecipient().address, amount: "100" },
      { kind: "Erc20", contract: `0x${"11".repeat(20)}`, to: newRecipient().address, amount: "10000" },
    ]) {
      await expect(dfns.wallets.transferAsset({ walletId: w.id, body: body as never })).rejects.toMatchObject({ httpStatus: 400 });
    }
  }, 120_000);
});
