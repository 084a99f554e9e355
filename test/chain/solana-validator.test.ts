// The local Solana validator (scripts/solana-validator.ts) as the official client sees it: the
// standard JSON-RPC methods answer in Solana's wire format, the real SVM runs transactions
// (signatures verified, fees charged, SPL programs executed), slots advance by themselves and
// blockhashes expire.
import { getTransferSolInstruction } from "@solana-program/system";
import { address, appendTransactionMessageInstructions, lamports, compileTransaction, createTransactionMessage, getBase64EncodedWireTransaction, pipe, setTransactionMessageFeePayerSigner, setTransactionMessageLifetimeUsingBlockhash, signTransaction, type Blockhash } from "@solana/kit";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSolanaValidator, type SolanaValidator } from "../../scripts/solana-validator.js";
import { airdrop, balance, createMint, mintTo, newKeypair, solanaRpc, tokenAccountOf, tokenBalance, transferSol, waitForSignature, type SolanaRpc } from "./solana.js";

let v: SolanaValidator;
let rpc: SolanaRpc;
const dir = mkdtempSync(join(tmpdir(), "solana-validator-"));

beforeAll(async () => {
  v = await startSolanaValidator({ port: 0, slotMs: 50, stateFile: join(dir, "state.bin") });
  rpc = solanaRpc(v.url);
});
afterAll(async () => {
  await v?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function rawCall(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(v.url, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe("local Solana validator over JSON-RPC", () => {
  it("slots advance by themselves; health, version, rent", async () => {
    const a = await rpc.getSlot().send();
    await new Promise((r) => setTimeout(r, 200));
    expect(await rpc.getSlot().send()).toBeGreaterThan(a);
    expect(await rpc.getHealth().send()).toBe("ok");
    expect((await rpc.getVersion().send())["solana-core"]).toMatch(/litesvm/);
    expect(await rpc.getMinimumBalanceForRentExemption(0n).send()).toBe(890_880n);
  });

  it("airdrop, a signed transfer confirmed, the fee charged, balances read back", async () => {
    const alice = await newKeypair();
    const bob = await newKeypair();
    await airdrop(rpc, alice.address, 2_000_000_000n);
    expect(await balance(rpc, alice.address)).toBe(2_000_000_000n);
    await transferSol(rpc, alice, bob.address, 1_000_000_000n);
    expect(await balance(rpc, bob.address)).toBe(1_000_000_000n);
    expect(await balance(rpc, alice.address)).toBe(1_000_000_000n - 5000n);
  });

  it("SPL: a mint, tokens minted and moved; token accounts by owner, jsonParsed and balances", async () => {
    const auth = await newKeypair();
    const owner = await newKeypair();
    await airdrop(rpc, auth.address, 1_000_000_000n);
    const mint = await createMint(rpc, auth, 6);
    await mintTo(rpc, auth, mint, owner.address, 1_234_500n);
    expect(await tokenBalance(rpc, owner.address, mint)).toBe(1_234_500n);
    const { value } = await rpc.getTokenAccountsByOwner(address(owner.address), { mint }, { encoding: "jsonParsed" }).send();
    expect(value).toHaveLength(1);
    expect(value[0]!.pubkey).toBe(await tokenAccountOf(owner.address, mint));
    const info = (value[0]!.account.data as any).parsed.info;
    expect(info.tokenAmount).toEqual({ amount: "1234500", decimals: 6, uiAmount: 1.2345, uiAmountString: "1.2345" });
    const parsedMint = (await rpc.getAccountInfo(mint, { encoding: "jsonParsed" }).send()).value!.data as any;
    expect(parsedMint.parsed.info.decimals).toBe(6);
  });

  it("refuses a bad signature, a stale blockhash, and a duplicate; a failed transaction lands with its error when preflight is skipped", async () => {
    const alice = await newKeypair();
    const bob = await newKeypair();
    await airdrop(rpc, alice.address, 1_000_000_000n);
    const build = async (amount: bigint, lifetime: { blockhash: Blockhash; lastValidBlockHeight: bigint }) =>
      signTransaction(
        [alice.keyPair],
        compileTransaction(
          pipe(
            createTransactionMessage({ version: 0 }),
            (m) => setTransactionMessageFeePayerSigner(alice, m),
            (m) => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
            (m) => appendTransactionMessageInstructions([getTransferSolInstruction({ source: alice, destination: bob.address, amount })], m),
          ),
        ),
      );
    const { value: latest } = await rpc.getLatestBlockhash().send();
    // The error's data, as a real RPC sends it (kit folds it into a generic message).
    const refusal = async (tx: Awaited<ReturnType<typeof build>>, skipPreflight = false) =>
      (await rawCall({ jsonrpc: "2.0", id: 1, method: "sendTransaction", params: [getBase64EncodedWireTransaction(tx), { encoding: "base64", skipPreflight }] })).json.error;

    const good = await build(10_000_000n, latest);
    const forged = { ...good, signatures: { ...good.signatures, [alice.address]: new Uint8Array(64).fill(1) } } as typeof good;
    expect((await refusal(forged)).data.err).toBe("SignatureFailure");
    expect((await refusal(forged, true)).code).toBe(-32003);

    const stale = await build(10_000_000n, { blockhash: "GfVcyD4kkTrj4bKc7WA9sZCin9JDbdT4Zkd3EittNR1W" as Blockhash, lastValidBlockHeight: 1n });
    expect((await refusal(stale)).data.err).toBe("BlockhashNotFound");

    const sig = await rpc.sendTransaction(getBase64EncodedWireTransaction(good), { encoding: "base64" }).send();
    expect((await refusal(good)).data.err).toBe("AlreadyProcessed");
    expect(await rpc.sendTransaction(getBase64EncodedWireTransaction(good), { encoding: "base64", skipPreflight: true }).send()).toBe(sig);
    expect((await waitForSignature(rpc, sig)).err).toBeNull();

    const tooMuch = await build(5_000_000_000n, latest);
    const preflight = await refusal(tooMuch);
    expect(preflight.code).toBe(-32002);
    expect(preflight.data.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(preflight.data.logs.join("\n")).toMatch(/insufficient lamports/);
    const landed = await rpc.sendTransaction(getBase64EncodedWireTransaction(tooMuch), { encoding: "base64", skipPreflight: true }).send();
    const { err } = await waitForSignature(rpc, landed);
    expect(err).toEqual({ InstructionError: [0n, { Custom: 1n }] }); // kit reads every number as a bigint
    expect(await balance(rpc, bob.address)).toBe(10_000_000n);
  });

  it("a transaction reaches confirmed, then finalized 32 slots later", async () => {
    const alice = await newKeypair();
    const sig = await rpc.requestAirdrop(alice.address, lamports(5n * 10n ** 8n)).send();
    const first = (await rpc.getSignatureStatuses([sig]).send()).value[0]!;
    expect(["processed", "confirmed"]).toContain(first.confirmationStatus);
    await waitForSignature(rpc, sig, "finalized");
  });

  it("bad requests get JSON-RPC errors, never a crash", async () => {
    expect((await rawCall("{not json")).json.error.code).toBe(-32700);
    expect((await rawCall({ jsonrpc: "2.0", id: 1, method: "nope", params: [] })).json.error.code).toBe(-32601);
    expect((await rawCall({ jsonrpc: "2.0", id: 1, method: "getBalance", params: ["0xdead"] })).json.error.code).toBe(-32602);
    expect((await rawCall({ jsonrpc: "2.0", id: 1, method: "sendTransaction", params: ["AAAA", { encoding: "base64" }] })).json.error.code).toBe(-32602);
    const batch = await rawCall([
      { jsonrpc: "2.0", id: 1, method: "getSlot" },
      { jsonrpc: "2.0", id: 2, method: "getHealth" },
    ]);
    expect(batch.json.map((r: { id: number }) => r.id)).toEqual([1, 2]);
    expect((await fetch(v.url)).status).toBe(405);
  });

  it("keeps accounts and signatures across a restart with the same state file", async () => {
    const alice = await newKeypair();
    const sig = await rpc.requestAirdrop(alice.address, lamports(777_000_000n)).send();
    await waitForSignature(rpc, sig);
    await v.stop();
    v = await startSolanaValidator({ port: 0, slotMs: 50, stateFile: join(dir, "state.bin") });
    rpc = solanaRpc(v.url);
    expect(await balance(rpc, alice.address)).toBe(777_000_000n);
    expect((await rpc.getSignatureStatuses([sig]).send()).value[0]).not.toBeNull();
  });
});
