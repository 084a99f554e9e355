// The transfer engine with the Bitcoin family on a real btcd (regtest, mining by itself), signing
// with real 2-of-3 keys of the MPC core in-process — DKLs23 ECDSA (P2WPKH) and FROST BIP340
// (Taproot key path) — where every signature request first goes through the share holders' own
// check (recomputeSigningMessage: the user's body, the PSBT, the sighash the node computes itself).
// Balances are read from btcd, not from our API. A policy refusal at a later input holds the whole
// transfer for one approval, as one at the first does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { p2wpkh } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptOf, walletAddress } from "../../shared/src/chains/bitcoin/rules.js";
import { recomputeSigningMessage, type SigningIntent } from "../../shared/src/mpc/intent.js";
import { drainOutbox } from "../../worker/src/broadcast/outbox.js";
import { TransferEngine, type TransferEngineDeps } from "../../worker/src/broadcast/transfer-engine.js";
import type { WalletRecord } from "../../worker/src/broadcast/wallet-directory.js";
import { BitcoinRpc } from "../../worker/src/chains/bitcoin/rpc.js";
import { bitcoinTransfers } from "../../worker/src/chains/bitcoin/transfers.js";
import { loadNetworks, type NetworkConfig } from "../../worker/src/networks/networks.js";
import { newId } from "../../worker/src/orgs/ids.js";
import { PolicyRefusalError } from "../../worker/src/signing/authorization.js";
import { startRegtest, type Regtest } from "../../scripts/btcd/regtest.js";
import { fundFromMiner, REGTEST } from "../../scripts/btcd/regtest-miner.js";
import { InProcessMpcSigner } from "../chain/mpc-signer.js";
import { nodeSql } from "../chain/node-sql.js";
import { FAST_TIMING, testAuthorization } from "./harness.js";

let dir: string;
let btc: Regtest;
let network: NetworkConfig;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-btcd-"));
  btc = await startRegtest({ dataDir: dir });
  const n = loadNetworks({ BITCOIN_REGTEST_RPC_URL: btc.url, TESSERA_NETWORKS: JSON.stringify({ BitcoinRegtest: { pollIntervalMs: 100, rpcTimeoutMs: 5_000 } }) }).BitcoinRegtest;
  if (!n.ok) throw new Error(n.reason);
  network = n.config;
}, 240_000);

afterAll(async () => {
  await btc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function randomRecipient(): { address: string; script: string } {
  const out = p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST);
  return { address: out.address!, script: bytesToHex(out.script) };
}

/** Satoshis paid to `script` by transaction `txid`, and its confirmations, as btcd reports them. */
async function paidOnChain(txid: string, script: string): Promise<{ sats: bigint; confirmations: number }> {
  const tx = await btc.rpc<{ confirmations?: number; vout: { value: number; scriptPubKey: { hex: string } }[] }>("getrawtransaction", [txid, 1]);
  const sats = tx.vout.filter((o) => o.scriptPubKey.hex === script).reduce((n, o) => n + BigInt(Math.round(o.value * 1e8)), 0n);
  return { sats, confirmations: tx.confirmations ?? 0 };
}

function bitcoinWallet(signer: InProcessMpcSigner, id: string): WalletRecord {
  const publicKey = signer.publicKeyHex();
  return {
    id,
    orgId: "or-test0-00000-0000000000",
    network: "BitcoinRegtest",
    address: walletAddress(signer.scheme, publicKey, "BitcoinRegtest"),
    status: "Active",
    signingKey: { id: signer.keyId, publicKey, ...(signer.scheme === "frost-bip340" ? { scheme: "Schnorr" as const, curve: "secp256k1" as const } : { scheme: "ECDSA" as const, curve: "secp256k1" as const }) },
  };
}

function bitcoinHarness(signer: InProcessMpcSigner, wallet: WalletRecord, reconsider?: TransferEngineDeps["reconsider"]) {
  // What every share-holder node runs before it signs (shared/src/mpc/intent.ts), here in process.
  signer.nodeCheck = (request) => {
    const checked = recomputeSigningMessage({
      intent: (request.derivation as { intent: SigningIntent }).intent,
      userAction: request.authorization.userAction,
      key: { keyId: request.keyId, scheme: signer.scheme, walletId: wallet.id, network: wallet.network, publicKey: wallet.signingKey.publicKey },
    });
    if (!checked.ok) throw new Error(`refused by the node: ${checked.reason}`);
    return checked.message;
  };
  const rpc = new BitcoinRpc({ urls: network.rpcUrls, timeoutMs: network.rpcTimeoutMs });
  const engine = new TransferEngine({ sql: nodeSql(), network, chain: bitcoinTransfers(rpc), signer, newId, timing: FAST_TIMING, ...(reconsider ? { reconsider } : {}) });
  return {
    engine,
    transfer(to: string, amount: bigint, priority: "Slow" | "Standard" | "Fast" = "Standard") {
      const body = { kind: "Native", to, amount: amount.toString(), priority };
      const bodyText = JSON.stringify(body);
      const r = engine.submit({
        kind: "Transfer",
        wallet,
        requester: { userId: "us-test", tokenId: "to-test" },
        authorization: testAuthorization(wallet, bodyText),
        bodyText,
        externalId: null,
        call: { to, value: amount, data: "0x" },
        priority,
        asset: { symbol: "BTC", decimals: 8, verified: true },
        verdict: { kind: "Allowed", outcome: { decision: "NoAction" } },
      });
      if (!r.ok) throw new Error(r.message);
      return r.row.id;
    },
    async settle(until: () => boolean, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await engine.runDue();
        await drainOutbox(engine.outbox, { webhook: async () => undefined, policyCommit: async () => undefined, policyRelease: async () => undefined }, Date.now());
        if (until()) return;
        if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(engine.store.dueIds(Infinity).map((id) => engine.store.get(id)))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    row: (id: string) => engine.store.get(id)!,
  };
}

describe.each([
  ["ECDSA (DKLs23) → P2WPKH", "ecdsa-secp256k1", /^bcrt1q/],
  ["Schnorr (FROST BIP340) → Taproot key path", "frost-bip340", /^bcrt1p/],
] as const)("Bitcoin %s on btcd", (_name, scheme, prefix) => {
  let h: ReturnType<typeof bitcoinHarness>;
  let wallet: WalletRecord;
  let signer: InProcessMpcSigner;

  beforeAll(async () => {
    signer = await InProcessMpcSigner.create(scheme);
    wallet = bitcoinWallet(signer, `wa-btc00-${scheme === "frost-bip340" ? "tr" : "wp"}000-0000000000`);
    h = bitcoinHarness(signer, wallet);
  }, 120_000);

  it("coins mined to the wallet's address are spent by a Native transfer: two inputs, change back, Confirmed, the recipient paid on chain", async () => {
    expect(wallet.address).toMatch(prefix);
    // Two coins so the transaction has two inputs (each signed in its own ceremony).
    await fundFromMiner(btc.url, wallet.address, 600_000n);
    await fundFromMiner(btc.url, wallet.address, 700_000n);
    const to = randomRecipient();
    const id = h.transfer(to.address, 1_000_000n, "Fast");
    await h.settle(() => ["Confirmed", "Failed"].includes(h.row(id).status));
    const row = h.row(id);
    expect([row.status, row.reason]).toEqual(["Confirmed", null]);
    const paid = await paidOnChain(row.tx_hash!, to.script);
    expect(paid.sats).toBe(1_000_000n);
    expect(paid.confirmations).toBeGreaterThanOrEqual(1);
    // The fee is what the transaction really leaves to the miner; change went back to the wallet.
    const own = await paidOnChain(row.tx_hash!, bytesToHex(scriptOf(wallet.address, "BitcoinRegtest")));
    expect(own.sats + 1_000_000n + BigInt(row.fee!)).toBe(1_300_000n);
  }, 120_000);

  it("a coin spent elsewhere first: the node refuses the transaction, which ends Failed with the node's reason", async () => {
    // A second engine on the same key (another Tessera deployment, or the key's owner elsewhere)
    // knows nothing of this one's coin reservations: both pick the wallet's largest coin.
    await fundFromMiner(btc.url, wallet.address, 5_000_000n);
    const elsewhere = bitcoinHarness(signer, wallet);
    const here = h.transfer(randomRecipient().address, 60_000n);
    const there = elsewhere.transfer(randomRecipient().address, 70_000n);
    await Promise.all([h.engine.runDue(), elsewhere.engine.runDue()]);
    await Promise.all([h.settle(() => ["Confirmed", "Failed"].includes(h.row(here).status)), elsewhere.settle(() => ["Confirmed", "Failed"].includes(elsewhere.row(there).status))]);
    const outcomes = [h.row(here), elsewhere.row(there)].map((r) => r.status).sort();
    expect(outcomes).toEqual(["Confirmed", "Failed"]);
    const failed = [h.row(here), elsewhere.row(there)].find((r) => r.status === "Failed")!;
    expect(failed.reason).toMatch(/^(Broadcast refused: |Replaced: coin )/);
  }, 120_000);

  it("concurrent transfers never spend the same coin; more than the wallet has ends Failed with the reason", async () => {
    for (let i = 0; i < 3; i++) await fundFromMiner(btc.url, wallet.address, 200_000n);
    const recipients = [randomRecipient(), randomRecipient()];
    const ids = recipients.map((r) => h.transfer(r.address, 50_000n));
    const tooMuch = h.transfer(randomRecipient().address, 50_000_000n);
    await h.settle(() => [...ids, tooMuch].every((id) => ["Confirmed", "Failed"].includes(h.row(id).status)), 90_000);
    for (const [i, id] of ids.entries()) {
      expect(h.row(id).status).toBe("Confirmed");
      expect((await paidOnChain(h.row(id).tx_hash!, recipients[i]!.script)).sats).toBe(50_000n);
    }
    expect(h.row(tooMuch).status).toBe("Failed");
    expect(h.row(tooMuch).reason).toMatch(/^Insufficient funds: \d+ sat spendable, 50000000 sat/);
  }, 120_000);

  it("a policy refusal at the second input (the first signed) holds the whole transfer for one approval; approved, every input is signed and it is Confirmed", async () => {
    // Two coins larger than anything left from the tests before: the transfer needs both.
    await fundFromMiner(btc.url, wallet.address, 20_000_000n);
    await fundFromMiner(btc.url, wallet.address, 20_000_000n);
    // The gate's second decision when a RequestApproval policy landed after it allowed the request.
    const held = bitcoinHarness(signer, wallet, async (row) => ({ kind: "ApprovalRequired", approvalId: `ap-${row.id}` }));
    // The share holders meet that policy from the second input's ceremony on (it landed between the two).
    const nodeCheck = signer.nodeCheck!;
    const refusedAt: number[] = [];
    signer.nodeCheck = (request) => {
      const { index } = (request.derivation as { intent: { index?: number } }).intent;
      if ((index ?? 0) > 0 && request.authorization.policy.decision !== "Approved") {
        refusedAt.push(index!);
        throw new PolicyRefusalError("policy: every signature of this wallet needs approval; no approval was presented");
      }
      return nodeCheck(request);
    };
    try {
      const to = randomRecipient();
      const id = held.transfer(to.address, 30_000_000n);
      await held.settle(() => held.row(id).next_attempt_at === null);
      expect(held.row(id)).toMatchObject({ status: "Pending", approval_id: `ap-${id}`, unsigned_tx: null, raw_tx: null });
      expect(refusedAt).toEqual([1]);
      held.engine.resolveApproval(id, { approved: true, outcome: { decision: "Approved", approvalId: `ap-${id}`, approverIds: ["us-approver"] } });
      await held.settle(() => ["Confirmed", "Failed"].includes(held.row(id).status), 90_000);
      expect([held.row(id).status, held.row(id).reason]).toEqual(["Confirmed", null]);
      expect(refusedAt).toEqual([1]);
      expect((await paidOnChain(held.row(id).tx_hash!, to.script)).sats).toBe(30_000_000n);
    } finally {
      signer.nodeCheck = nodeCheck;
    }
  }, 120_000);
});

