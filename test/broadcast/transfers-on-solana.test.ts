// The transfer engine with the Solana family (worker/src/chains/solana) on Node's SQLite, against
// the local validator through a fault proxy, signing with a real 2-of-3 FROST Ed25519 key of the
// MPC core in-process. What the end-to-end test cannot easily provoke: a send refused in preflight,
// an RPC that is down or loses the answer to sendTransaction, and a blockhash that expires before
// the transaction reaches a block.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { base58 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSolanaValidator, type SolanaValidator } from "../../scripts/solana-validator.js";
import { TransferEngine } from "../../worker/src/broadcast/transfer-engine.js";
import { drainOutbox } from "../../worker/src/broadcast/outbox.js";
import type { WalletRecord } from "../../worker/src/broadcast/wallet-directory.js";
import { SolanaTransfers } from "../../worker/src/chains/solana/transfers.js";
import { loadNetworks, type NetworkConfig } from "../../worker/src/networks/networks.js";
import { newId } from "../../worker/src/orgs/ids.js";
import type { SignatureRequest, SigningCoordinator, ThresholdSignature } from "../../worker/src/signing/authorization.js";
import { Ceremony, initMpc, randomSessionId, runLocally, type KeyShare } from "../../wasm/index.js";
import { startFaultProxy, type FaultProxy } from "../chain/rpc-fault-proxy.js";
import { nodeSql } from "../chain/node-sql.js";
import { airdrop, balance, newKeypair, solanaRpc, type SolanaRpc } from "../chain/solana.js";
import { FAST_TIMING, testAuthorization } from "./harness.js";

/** Signs with a real FROST Ed25519 key (parties 1 and 2 of 2-of-3), no private key anywhere. */
class FrostSigner implements SigningCoordinator {
  readonly keyId = "key-test-frost";
  signatures = 0;
  private constructor(private readonly shares: KeyShare[]) {}
  static async create(): Promise<FrostSigner> {
    await initMpc();
    const sessionId = randomSessionId();
    const ceremonies = [1, 2, 3].map((me) => Ceremony.keygen({ scheme: "frost-ed25519", sessionId, me, parties: [1, 2, 3], threshold: 2 }));
    runLocally(ceremonies);
    return new FrostSigner(ceremonies.map((c) => c.keyShare()));
  }
  publicKeyHex(): string {
    return bytesToHex(this.shares[0]!.publicKey());
  }
  async generateKey(): Promise<never> {
    throw new Error("not here");
  }
  async sign(request: SignatureRequest): Promise<ThresholdSignature> {
    await new Promise((r) => setImmediate(r));
    const sessionId = randomSessionId();
    const ceremonies = [1, 2].map((p) => Ceremony.sign({ share: this.shares[p - 1]!, sessionId, signers: [1, 2], message: hexToBytes(request.message) }));
    runLocally(ceremonies);
    const { signature } = ceremonies[0]!.signature();
    this.signatures++;
    return { r: bytesToHex(signature.slice(0, 32)), s: bytesToHex(signature.slice(32)), encoded: bytesToHex(signature) };
  }
}

const SOL = 1_000_000_000n;
let validator: SolanaValidator;
let proxy: FaultProxy;
let signer: FrostSigner;
let rpc: SolanaRpc;
let wallet: WalletRecord;
let network: NetworkConfig;

beforeAll(async () => {
  // 20 ms slots: a blockhash (150 slots) expires in 3 s.
  validator = await startSolanaValidator({ port: 0, slotMs: 20 });
  proxy = await startFaultProxy(validator.url);
  rpc = solanaRpc(validator.url);
  signer = await FrostSigner.create();
  const loaded = loadNetworks({ SOLANA_LOCAL_RPC_URL: proxy.url, TESSERA_NETWORKS: JSON.stringify({ SolanaLocal: { pollIntervalMs: 50, rpcTimeoutMs: 2_000 } }) }).SolanaLocal;
  if (!loaded.ok) throw new Error(loaded.reason);
  network = loaded.config;
  const address = base58.encode(hexToBytes(signer.publicKeyHex()));
  wallet = {
    id: "wa-test0-00000-0000000001",
    orgId: "or-test0-00000-0000000000",
    network: "SolanaLocal",
    address,
    status: "Active",
    signingKey: { id: signer.keyId, publicKey: signer.publicKeyHex(), scheme: "EdDSA", curve: "ed25519" },
  };
  await airdrop(rpc, address, 10n * SOL);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await validator?.stop();
});

function newEngine() {
  const engine = new TransferEngine({ sql: nodeSql(), network, chain: (ctx) => new SolanaTransfers(ctx), signer, newId, timing: FAST_TIMING });
  const transfer = (body: Record<string, unknown>) => {
    const bodyText = JSON.stringify(body);
    const r = engine.submit({
      kind: "Transfer",
      wallet,
      requester: { userId: "us-test", tokenId: "to-test" },
      authorization: testAuthorization(wallet, bodyText),
      bodyText,
      externalId: null,
      call: { to: String(body.to), value: BigInt(String(body.amount)), data: "0x" },
      priority: "Standard",
      asset: { symbol: "SOL", decimals: 9, verified: true },
      verdict: { kind: "Allowed", outcome: { decision: "NoAction" } },
    });
    if (!r.ok) throw new Error(r.message);
    return r.row.id;
  };
  const row = (id: string) => engine.get(id)!;
  const settle = async (id: string, until: (r: ReturnType<typeof row>) => boolean = (r) => ["Confirmed", "Failed"].includes(r.status), timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await engine.runDue();
      await drainOutbox(engine.outbox, { webhook: async () => undefined, policyCommit: async () => undefined, policyRelease: async () => undefined }, Date.now());
      if (until(row(id))) return row(id);
      if (Date.now() > deadline) throw new Error(`still ${row(id).status}: ${row(id).reason}`);
      await new Promise((r) => setTimeout(r, Math.max(5, Math.min((engine.nextWakeAt() ?? Date.now() + 50) - Date.now(), 50))));
    }
  };
  return { engine, transfer, row, settle };
}

describe("Solana transfers in the engine, against the local validator behind a fault proxy", () => {
  it("a native transfer is built, signed by FROST, sent and Confirmed with the fee", async () => {
    proxy.mode = "pass";
    proxy.methodModes = {};
    const e = newEngine();
    const to = (await newKeypair()).address;
    const id = e.transfer({ kind: "Native", to, amount: String(SOL) });
    const done = await e.settle(id);
    expect(done).toMatchObject({ status: "Confirmed", fee: "5000", reason: null });
    expect(await balance(rpc, to)).toBe(SOL);
    expect((await rpc.getSignatureStatuses([done.tx_hash as never]).send()).value[0]).not.toBeNull();
  });

  it("a transfer the chain would refuse (more than the balance) fails in preflight with the program's words, nothing spent", async () => {
    const e = newEngine();
    const before = await balance(rpc, wallet.address!);
    const id = e.transfer({ kind: "Native", to: (await newKeypair()).address, amount: String(1000n * SOL) });
    const done = await e.settle(id);
    expect(done.status).toBe("Failed");
    expect(done.reason).toMatch(/^Broadcast refused: InstructionError \[0,\{"Custom":1\}\] \(Transfer: insufficient lamports/);
    expect(await balance(rpc, wallet.address!)).toBe(before);
  });

  it("the RPC down while building: the request waits with the reason, then confirms once it is back", async () => {
    const e = newEngine();
    const to = (await newKeypair()).address;
    proxy.mode = "down";
    const id = e.transfer({ kind: "Native", to, amount: "2000000" });
    const waiting = await e.settle(id, (r) => (r.reason ?? "").startsWith("Retrying"));
    expect(waiting.status).toBe("Executing");
    expect(waiting.reason).toMatch(/Building the transaction: RPC http:\/\/127\.0\.0\.1:\d+ unreachable/);
    proxy.mode = "pass";
    expect(await e.settle(id)).toMatchObject({ status: "Confirmed" });
    expect(await balance(rpc, to)).toBe(2_000_000n);
  });

  it("the answer to sendTransaction lost: the same signed bytes go out again and land once", async () => {
    const e = newEngine();
    const to = (await newKeypair()).address;
    proxy.methodModes = { sendTransaction: "swallow" };
    const id = e.transfer({ kind: "Native", to, amount: "3000000" });
    await e.settle(id, (r) => r.maybe_sent === 1 && r.raw_tx !== null);
    proxy.methodModes = {};
    const done = await e.settle(id);
    expect(done).toMatchObject({ status: "Confirmed", fee: "5000" });
    expect(done.broadcasts).toBeGreaterThan(1);
    expect(await balance(rpc, to)).toBe(3_000_000n);
  });

  it("a blockhash that expires before the transaction reaches a block: Failed (Expired), nothing spent, never re-signed", async () => {
    const e = newEngine();
    const to = (await newKeypair()).address;
    const before = await balance(rpc, wallet.address!);
    const signaturesBefore = signer.signatures;
    proxy.methodModes = { sendTransaction: "down" };
    const id = e.transfer({ kind: "Native", to, amount: "4000000" });
    await e.settle(id, (r) => r.raw_tx !== null && (r.reason ?? "").startsWith("Retrying"));
    // 150 slots of 20 ms, and some.
    await new Promise((r) => setTimeout(r, 4_000));
    proxy.methodModes = {};
    const done = await e.settle(id);
    expect(done.status).toBe("Failed");
    expect(done.reason).toMatch(/^Expired: not in a block before its blockhash \w+ expired .*nothing was spent/);
    expect(signer.signatures).toBe(signaturesBefore + 1);
    expect(await balance(rpc, to)).toBe(0n);
    expect(await balance(rpc, wallet.address!)).toBe(before);
  });
});
