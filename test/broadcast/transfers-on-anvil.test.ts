// The transfer engine against a real anvil, signing with a real 2-of-3 threshold key (DKLs23, the
// wasm MPC core in-process): native and ERC-20 transfers confirmed with balances changed on chain,
// reverts ending Failed with their reason, and 20 concurrent transfers on consecutive nonces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFunctionData, serializeTransaction, type Address, type Hex } from "viem";
import { ERC20_ABI } from "../../worker/src/chains/evm/transaction.js";
import { startAnvil, type Anvil } from "../chain/anvil.js";
import { deployTestToken, fund } from "../chain/erc20.js";
import { InProcessMpcSigner } from "../chain/mpc-signer.js";
import { newHarness, randomAddress, walletFor } from "./harness.js";

let anvil: Anvil;
let signer: InProcessMpcSigner;
let wallet: Address;
let token: Address;

const ETH = 10n ** 18n;

beforeAll(async () => {
  anvil = await startAnvil();
  signer = await InProcessMpcSigner.create();
  wallet = walletFor(signer).address as Address;
  await fund(anvil, wallet, 100n * ETH);
  token = await deployTestToken(anvil, wallet, 1_000_000_000n);
}, 180_000);

afterAll(async () => {
  await anvil?.stop();
});

const balance = async (a: Address) => BigInt(await anvil.rpc<Hex>("eth_getBalance", [a, "latest"]));
const tokenBalance = async (a: Address) =>
  BigInt(await anvil.rpc<Hex>("eth_call", [{ to: token, data: encodeFunctionData({ abi: ERC20_ABI, functionName: "balanceOf", args: [a] }) }, "latest"]));
/** An unsigned EIP-1559 transaction as a caller would build it (fees from the node). */
async function callerBuilt(tx: { to: Address; value?: bigint; data?: Hex; gas: bigint; nonce: number }): Promise<Hex> {
  const base = BigInt((await anvil.rpc<{ baseFeePerGas: Hex }>("eth_getBlockByNumber", ["latest", false])).baseFeePerGas);
  return serializeTransaction({ type: "eip1559", chainId: 31337, nonce: tx.nonce, to: tx.to, value: tx.value ?? 0n, data: tx.data ?? "0x", gas: tx.gas, maxFeePerGas: base * 2n + 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n });
}
const chainNonce = async () => Number(BigInt(await anvil.rpc<Hex>("eth_getTransactionCount", [wallet, "latest"])));

describe("transfers on anvil, signed by the MPC core", () => {
  it("a native transfer is Confirmed and moves the amount on chain", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const to = randomAddress();
    const before = await balance(wallet);
    const id = h.transfer({ kind: "Native", to, amount: "1234500000000000" });
    expect(h.status(id).status).toBe("Pending");
    await h.settle();

    const row = h.engine.store.get(id)!;
    expect(row.status).toBe("Confirmed");
    expect(row.reason).toBeNull();
    expect(await balance(to)).toBe(1234500000000000n);
    // The wallet paid the amount plus exactly the fee the transfer reports.
    expect(before - (await balance(wallet))).toBe(1234500000000000n + BigInt(row.fee!));
    const tx = await anvil.rpc<{ from: string; nonce: Hex; hash: string }>("eth_getTransactionByHash", [row.tx_hash]);
    expect(tx.from.toLowerCase()).toBe(wallet.toLowerCase());
    expect(Number(BigInt(tx.nonce))).toBe(row.nonce);

    const wire = h.engine.wire(row);
    expect(wire).toMatchObject({ id, walletId: h.wallet.id, network: "Anvil", status: "Confirmed", txHash: row.tx_hash, fee: row.fee, requestBody: { kind: "Native", to, amount: "1234500000000000" } });
    expect(wire.dateBroadcasted).toBeDefined();
    expect(wire.dateConfirmed).toBeDefined();
    // One event per status it went through, in order.
    expect(h.published.map((e) => e.kind)).toEqual(["wallet.transfer.requested", "wallet.transfer.executing", "wallet.transfer.broadcasted", "wallet.transfer.confirmed"]);
  });

  it("an ERC-20 transfer is Confirmed, with the token's metadata, and moves tokens on chain", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const to = randomAddress();
    const before = await tokenBalance(wallet);
    const id = h.transfer({ kind: "Erc20", contract: token, to, amount: "250000" });
    await h.settle();
    const row = h.engine.store.get(id)!;
    expect(row.status).toBe("Confirmed");
    expect(await tokenBalance(to)).toBe(250000n);
    expect(before - (await tokenBalance(wallet))).toBe(250000n);
    expect(h.engine.wire(row)).toMatchObject({ metadata: { asset: { symbol: "TTT", decimals: 6 } } });
  });

  it("a transfer that would revert ends Failed with the revert reason, and uses no nonce", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const nonceBefore = await chainNonce();
    const id = h.transfer({ kind: "Erc20", contract: token, to: randomAddress(), amount: "999999999999999" });
    await h.settle();
    const row = h.engine.store.get(id)!;
    expect(row.status).toBe("Failed");
    expect(row.reason).toBe("execution reverted: ERC20: transfer amount exceeds balance");
    expect(row.nonce).toBeNull();
    expect(row.tx_hash).toBeNull();
    expect(await chainNonce()).toBe(nonceBefore);
    expect(signer.signatures).toBeGreaterThan(0); // earlier tests signed; this one never reached signing
    expect(h.published.map((e) => e.kind)).toEqual(["wallet.transfer.requested", "wallet.transfer.executing", "wallet.transfer.failed"]);
  });

  it("a caller-built transaction that reverts on chain ends Failed with the reason replayed from the chain", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const nonceBefore = await chainNonce();
    const data = encodeFunctionData({ abi: ERC20_ABI, functionName: "transfer", args: [randomAddress(), 10n ** 30n] });
    // Caller-built: signed as given (no estimation), so it is mined and reverts.
    const id = h.transaction(await callerBuilt({ to: token, data, gas: 100_000n, nonce: nonceBefore }));
    await h.settle();
    const row = h.engine.store.get(id)!;
    expect(row.status).toBe("Failed");
    expect(row.reason).toBe("Transaction reverted on chain: execution reverted: ERC20: transfer amount exceeds balance");
    expect(row.fee).not.toBeNull();
    const receipt = await anvil.rpc<{ status: string }>("eth_getTransactionReceipt", [row.tx_hash]);
    expect(receipt.status).toBe("0x0");
    expect(await chainNonce()).toBe(nonceBefore + 1);
    expect(h.published.map((e) => e.kind)).toEqual([
      "wallet.transaction.requested",
      "wallet.transaction.executing",
      "wallet.transaction.broadcasted",
      "wallet.transaction.failed",
    ]);
  });

  it("a caller-built transaction must carry the wallet's next nonce: ahead or already used ends Failed, nothing signed", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const next = await chainNonce();
    const signed = signer.signatures;
    const ahead = h.transaction(await callerBuilt({ to: randomAddress(), value: 1n, gas: 21_000n, nonce: next + 5 }));
    const used = h.transaction(await callerBuilt({ to: randomAddress(), value: 1n, gas: 21_000n, nonce: next - 1 }));
    await h.settle();
    expect(h.status(ahead)).toMatchObject({ status: "Failed", reason: `Nonce ${next + 5} is ahead of this wallet's next nonce ${next}: the transaction would never execute` });
    expect(h.status(used)).toMatchObject({ status: "Failed", reason: `Nonce ${next - 1} is already used by this wallet; its next nonce is ${next}` });
    expect(signer.signatures).toBe(signed);
    // The right nonce goes through, signed byte for byte as given.
    const to = randomAddress();
    const unsigned = await callerBuilt({ to, value: 99n, gas: 21_000n, nonce: next });
    const ok = h.transaction(unsigned);
    await h.settle();
    expect(h.status(ok)).toMatchObject({ status: "Confirmed", nonce: next });
    expect(await balance(to)).toBe(99n);
    const onChain = await anvil.rpc<{ input: string; gas: Hex }>("eth_getTransactionByHash", [h.status(ok).txHash]);
    expect(BigInt(onChain.gas)).toBe(21_000n);
  });

  it("20 concurrent transfers from one wallet all confirm, on consecutive nonces", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const first = await chainNonce();
    const to = randomAddress();
    const ids = Array.from({ length: 20 }, (_, i) => h.transfer({ kind: "Native", to, amount: String(1000 + i) }));
    await h.settle({ timeoutMs: 120_000 });
    const rows = ids.map((id) => h.engine.store.get(id)!);
    expect(rows.map((r) => r.status)).toEqual(Array(20).fill("Confirmed"));
    const nonces = rows.map((r) => r.nonce!).sort((a, b) => a - b);
    expect(nonces).toEqual(Array.from({ length: 20 }, (_, i) => first + i));
    expect(new Set(rows.map((r) => r.tx_hash)).size).toBe(20);
    expect(await chainNonce()).toBe(first + 20);
    expect(await balance(to)).toBe(Array.from({ length: 20 }, (_, i) => BigInt(1000 + i)).reduce((a, b) => a + b));
    // Each transaction on chain is the one the engine recorded, at the nonce it recorded.
    for (const r of rows) {
      const tx = await anvil.rpc<{ nonce: Hex }>("eth_getTransactionByHash", [r.tx_hash]);
      expect(Number(BigInt(tx.nonce))).toBe(r.nonce);
    }
  }, 180_000);

  it("an externalId makes a repeated submission return the same transfer; a different body under it is refused", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const body = { kind: "Native" as const, to: randomAddress(), amount: "5", externalId: "order-42" };
    const a = h.transfer(body);
    const b = h.transfer(body);
    expect(b).toBe(a);
    expect(() => h.transfer({ ...body, amount: "6" })).toThrow(/externalId order-42 was already used/);
    await h.settle();
    expect(h.status(a).status).toBe("Confirmed");
    expect(await balance(body.to as Address)).toBe(5n);
  });

  it("a policy block ends Rejected without building or signing anything", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const signed = signer.signatures;
    const id = h.transfer({ kind: "Native", to: randomAddress(), amount: "1" }, { verdict: { kind: "Blocked", reason: "recipient not whitelisted" } });
    await h.settle();
    expect(h.status(id)).toMatchObject({ status: "Rejected", reason: "Blocked by policy: recipient not whitelisted", nonce: null });
    expect(signer.signatures).toBe(signed);
  });
});
