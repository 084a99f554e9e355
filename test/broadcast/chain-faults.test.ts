// What the transfer engine does when the chain's RPC misbehaves, and when a transaction leaves the
// happy path: it waits with a clear reason and retries, never sends a second transaction for one
// request, never loses one, and never leaves a nonce gap. Real anvil behind a fault proxy; real
// threshold signatures from the MPC core.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { keccak256, serializeTransaction, type Address, type Hex } from "viem";
import { parseUnsigned } from "../../worker/src/chains/evm/transaction.js";
import type { EvmSigningDerivation, EvmTransfers } from "../../worker/src/chains/evm/transfers.js";
import { startAnvil, type Anvil } from "../chain/anvil.js";
import { fund } from "../chain/erc20.js";
import { InProcessMpcSigner } from "../chain/mpc-signer.js";
import { startFaultProxy, type FaultProxy, type ProxyMode } from "../chain/rpc-fault-proxy.js";
import { newHarness, randomAddress, walletFor, type Harness } from "./harness.js";

let anvil: Anvil;
let proxy: FaultProxy;
let signer: InProcessMpcSigner;
let wallet: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  proxy = await startFaultProxy(anvil.url);
  signer = await InProcessMpcSigner.create();
  wallet = walletFor(signer).address as Address;
  await fund(anvil, wallet, 100n * 10n ** 18n);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await anvil?.stop();
});

beforeEach(async () => {
  proxy.mode = "pass";
  proxy.methodModes = {};
  signer.failWhen = null;
  await anvil.rpc("evm_setAutomine", [true]);
});

const balance = async (a: Address) => BigInt(await anvil.rpc<Hex>("eth_getBalance", [a, "latest"]));
const chainNonce = async () => Number(BigInt(await anvil.rpc<Hex>("eth_getTransactionCount", [wallet, "latest"])));

/** Runs the engine until the request shows `reason` matching, with `attempts` retries behind it. */
async function retriesWithReason(h: Harness, id: string, reason: RegExp, status: string) {
  await h.settle({ until: () => (h.engine.store.get(id)!.attempts >= 2 && reason.test(h.engine.store.get(id)!.reason ?? "")), timeoutMs: 30_000 });
  const row = h.engine.store.get(id)!;
  expect(row.status).toBe(status);
  expect(row.reason).toMatch(/^Retrying \(attempt \d+, next in \d+ ms\): /);
  expect(row.reason).toMatch(reason);
}

describe("an RPC that is down or answers garbage", () => {
  const cases: [ProxyMode, RegExp][] = [
    ["down", /Building the transaction: RPC http:\/\/127\.0\.0\.1:\d+ unreachable: /],
    ["html", /answered malformed JSON-RPC: not JSON \(<html>/],
    ["truncated", /answered malformed JSON-RPC: not JSON/],
    ["wrong-result", /answered malformed JSON-RPC: eth_estimateGas result value: /],
    ["http-500", /answered HTTP 500/],
  ];
  for (const [mode, reason] of cases) {
    it(`${mode}: the transfer waits in Executing with the reason, then confirms once the RPC recovers`, async () => {
      const h = newHarness({ signer, rpcUrl: proxy.url });
      const nonceBefore = await chainNonce();
      const to = randomAddress();
      proxy.mode = mode;
      const id = h.transfer({ kind: "Native", to, amount: "777" });
      await retriesWithReason(h, id, reason, "Executing");
      expect(await chainNonce()).toBe(nonceBefore);
      expect(signer.signatures).toBeGreaterThanOrEqual(0);

      proxy.mode = "pass";
      await h.settle();
      const row = h.engine.store.get(id)!;
      expect(row.status).toBe("Confirmed");
      expect(row.reason).toBeNull();
      expect(await chainNonce()).toBe(nonceBefore + 1);
      expect(await balance(to)).toBe(777n);
      // The retries were announced to nobody: one event per status.
      expect(h.published.map((e) => e.kind)).toEqual(["wallet.transfer.requested", "wallet.transfer.executing", "wallet.transfer.broadcasted", "wallet.transfer.confirmed"]);
    });
  }

  it("the node took the transaction but the answer was lost: retries send the same bytes, and exactly one transaction lands", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url });
    const nonceBefore = await chainNonce();
    const signedBefore = signer.signatures;
    const to = randomAddress();
    proxy.methodModes = { eth_sendRawTransaction: "swallow" };
    const id = h.transfer({ kind: "Native", to, amount: "4242" });
    await retriesWithReason(h, id, /Broadcasting: RPC .* answered malformed JSON-RPC/, "Executing");
    const hash = h.engine.store.get(id)!.tx_hash;
    expect(proxy.seen.filter((m) => m === "eth_sendRawTransaction").length).toBeGreaterThanOrEqual(2);

    proxy.methodModes = {};
    await h.settle();
    const row = h.engine.store.get(id)!;
    expect(row.status).toBe("Confirmed");
    expect(row.tx_hash).toBe(hash);
    expect(signer.signatures - signedBefore).toBe(1); // signed once, sent several times
    expect(await chainNonce()).toBe(nonceBefore + 1);
    expect(await balance(to)).toBe(4242n);
  });

  it("down while waiting for confirmation: stays Broadcasted with the reason, confirms after recovery", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url });
    await anvil.rpc("evm_setAutomine", [false]);
    const id = h.transfer({ kind: "Native", to: randomAddress(), amount: "1" });
    await h.settle({ until: () => h.engine.store.get(id)!.status === "Broadcasted" });
    proxy.mode = "down";
    await anvil.rpc("evm_mine", []);
    await retriesWithReason(h, id, /Waiting for confirmation: RPC .* unreachable/, "Broadcasted");
    proxy.mode = "pass";
    await h.settle();
    expect(h.status(id).status).toBe("Confirmed");
  });
});

describe("transactions that leave the happy path", () => {
  it("dropped from the node's pool: the same signed transaction is sent again and confirms", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url });
    await anvil.rpc("evm_setAutomine", [false]);
    const id = h.transfer({ kind: "Native", to: randomAddress(), amount: "2" });
    await h.settle({ until: () => h.engine.store.get(id)!.status === "Broadcasted" });
    const hash = h.engine.store.get(id)!.tx_hash!;
    await anvil.rpc("anvil_dropTransaction", [hash]);
    expect(await anvil.rpc("eth_getTransactionByHash", [hash])).toBeNull();
    await h.settle({ until: () => /re-broadcast the same signed transaction/.test(h.engine.store.get(id)!.reason ?? "") });
    expect(await anvil.rpc("eth_getTransactionByHash", [hash])).not.toBeNull();
    await anvil.rpc("evm_mine", []);
    await h.settle();
    expect(h.status(id)).toMatchObject({ status: "Confirmed", txHash: hash, reason: null });
  });

  it("replaced by another transaction with the same nonce: Failed, with the reason", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url });
    await anvil.rpc("evm_setAutomine", [false]);
    const id = h.transfer({ kind: "Native", to: randomAddress(), amount: "3" });
    await h.settle({ until: () => h.engine.store.get(id)!.status === "Broadcasted" });
    const row = h.engine.store.get(id)!;
    // The same key signs a zero-value self-transfer at that nonce paying more (a "cancel").
    const original = parseUnsigned(row.unsigned_tx as Hex);
    const replacement = serializeTransaction({ ...original, to: wallet, value: 0n, data: "0x", gas: 21000n, maxFeePerGas: original.maxFeePerGas! * 3n, maxPriorityFeePerGas: original.maxPriorityFeePerGas! * 3n });
    const sig = await signer.sign({ keyId: signer.keyId, message: keccak256(replacement).slice(2), derivation: { kind: "Test", requestBody: "" }, authorization: JSON.parse(row.authorization!) });
    const raw = serializeTransaction(parseUnsigned(replacement), { r: `0x${sig.r}`, s: `0x${sig.s}`, yParity: sig.recid! });
    await anvil.rpc("eth_sendRawTransaction", [raw]);
    await anvil.rpc("evm_mine", []);
    await h.settle();
    expect(h.status(id)).toMatchObject({ status: "Failed", reason: `Replaced: nonce ${row.nonce} was used by another transaction` });
    expect(h.published.map((e) => e.kind).at(-1)).toBe("wallet.transfer.failed");
  });
});

/** The first signing attempt of the transaction at `nonce` fails with `message` (after a delay, as a timeout would). */
function failSigningOnceAt(nonce: number, message: string) {
  let failed = false;
  signer.failWhen = (req) => {
    if (failed || parseUnsigned((req.derivation as EvmSigningDerivation).intent.transaction).nonce !== nonce) return null;
    failed = true;
    return message;
  };
}

describe("a signing failure after the nonce was allocated leaves no gap", () => {
  it("no new transfer comes: the freed nonce is filled by a zero-value self-transfer and the later ones confirm", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url });
    const base = await chainNonce();
    failSigningOnceAt(base + 1, "share holder 2 unreachable");
    const ids = [1, 2, 3].map((i) => h.transfer({ kind: "Native", to: randomAddress(), amount: String(i) }));
    await h.settle({ timeoutMs: 30_000 });
    const rows = ids.map((id) => h.engine.store.get(id)!);
    const failedRow = rows.find((r) => r.status === "Failed")!;
    expect(failedRow.reason).toBe("Signing failed: share holder 2 unreachable");
    expect(failedRow.nonce).toBeNull();
    expect(rows.filter((r) => r.status === "Confirmed").map((r) => r.nonce!).sort((a, b) => a - b)).toEqual([base, base + 2]);
    const fills = h.engine.store.noncesInUse().filter((n) => n.kind === "NonceFill");
    expect(fills).toEqual([expect.objectContaining({ nonce: base + 1, status: "Confirmed" })]);
    expect(await chainNonce()).toBe(base + 3);
    // The fill is internal: listed nowhere, announced to nobody.
    expect(h.published.filter((e) => JSON.stringify(e).includes(fills[0]!.id))).toEqual([]);
  });

  it("a new transfer comes first: it takes the freed nonce", async () => {
    const h = newHarness({ signer, rpcUrl: proxy.url, timing: { nonceFillDelayMs: 60_000 } });
    const base = await chainNonce();
    failSigningOnceAt(base + 1, "signing session aborted");
    const ids = [1, 2, 3].map((i) => h.transfer({ kind: "Native", to: randomAddress(), amount: String(i) }));
    // The transfer at base+2 waits in the pool behind the gap at base+1.
    await h.settle({ until: () => ids.every((id) => ["Failed", "Confirmed", "Broadcasted"].includes(h.engine.store.get(id)!.status)) && (h.engine.chain as EvmTransfers).nonces.free().length === 1 });
    expect((h.engine.chain as EvmTransfers).nonces.free().map((f) => f.nonce)).toEqual([base + 1]);
    const late = h.transfer({ kind: "Native", to: randomAddress(), amount: "4" });
    await h.settle({ timeoutMs: 30_000 });
    expect(h.status(late)).toMatchObject({ status: "Confirmed", nonce: base + 1 });
    expect(ids.map((id) => h.status(id).status).sort()).toEqual(["Confirmed", "Confirmed", "Failed"]);
    expect(h.engine.store.noncesInUse().filter((n) => n.kind === "NonceFill")).toEqual([]);
    expect(await chainNonce()).toBe(base + 3);
  });
});
