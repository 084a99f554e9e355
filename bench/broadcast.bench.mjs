// Layer 5 (broadcast) cost on a real anvil with automine, the transfer engine driven as its
// Durable Object's alarm drives it, signing with the real MPC core (2-of-3 DKLs23, both signing
// parties in this process). Beside baselines from the same run:
//
//   chain baseline     eth_sendTransaction from anvil's unlocked account → receipt (no signing,
//                      no engine): what the chain alone costs per transfer.
//   signing baseline   one 2-of-3 threshold signature, both parties in-process (no network).
//   engine latency     submit → Broadcasted and submit → Confirmed for one transfer at a time:
//                      nonce allocation, fee and gas estimation, MPC signing, eth_sendRawTransaction,
//                      receipt polling (10 ms), webhook outbox.
//   throughput         N transfers submitted at once from 1 wallet, and from 10 wallets (BIP32
//                      children of one DKG key), until all are Confirmed.
//
// The API layers (auth, permissions, policy) are measured by api-auth and policy; the share-holder
// network by the wallet module's own benchmark. Writes bench/results/broadcast.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startAnvil } = await import("../test/chain/anvil.ts");
const { fund } = await import("../test/chain/erc20.ts");
const { InProcessMpcSigner } = await import("../test/chain/mpc-signer.ts");
const { newHarness, randomAddress, walletFor } = await import("../test/broadcast/harness.ts");

const N_LATENCY = Number(process.env.BENCH_N ?? 60);
const N_BURST = Number(process.env.BENCH_BURST ?? 100);
const WALLETS = 10;
const POLL_MS = 10;

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
};
const ms = (iso) => Date.parse(iso);

const anvil = await startAnvil();
try {
  const signer = await InProcessMpcSigner.create();
  for (const child of [undefined, ...Array.from({ length: WALLETS }, (_, i) => i)]) await fund(anvil, walletFor(signer, child).address, 10n ** 20n);

  // Chain baseline: the unlocked account pays, anvil signs; poll for the receipt every 2 ms.
  const [from] = await anvil.rpc("eth_accounts");
  const chain = [];
  for (let i = 0; i < N_LATENCY; i++) {
    const t = performance.now();
    const hash = await anvil.rpc("eth_sendTransaction", [{ from, to: randomAddress(), value: "0x1" }]);
    while (!(await anvil.rpc("eth_getTransactionReceipt", [hash]))) await new Promise((r) => setTimeout(r, 2));
    chain.push(performance.now() - t);
  }

  // Signing baseline: one threshold signature, both parties in this process.
  const signing = [];
  for (let i = 0; i < N_LATENCY; i++) {
    const message = crypto.getRandomValues(new Uint8Array(32));
    const t = performance.now();
    await signer.sign({ keyId: signer.keyId, message: Buffer.from(message).toString("hex"), derivation: { kind: "Hash", requestBody: "" }, authorization: null });
    signing.push(performance.now() - t);
  }

  // Engine latency, one transfer at a time.
  const h = newHarness({ signer, rpcUrl: anvil.url, pollIntervalMs: POLL_MS });
  const toBroadcast = [];
  const toConfirmed = [];
  for (let i = 0; i < N_LATENCY; i++) {
    const id = h.transfer({ kind: "Native", to: randomAddress(), amount: "1" });
    await h.settle({ until: () => h.engine.store.get(id).status === "Confirmed" });
    const row = h.engine.store.get(id);
    toBroadcast.push(ms(row.date_broadcasted) - ms(row.date_requested));
    toConfirmed.push(ms(row.date_confirmed) - ms(row.date_requested));
  }

  // Throughput: a burst from one wallet, then the same burst spread over ten wallets.
  const burst = async (harnesses, perWallet) => {
    const t = performance.now();
    const ids = harnesses.map((hh) => Array.from({ length: perWallet }, () => hh.transfer({ kind: "Native", to: randomAddress(), amount: "1" })));
    await Promise.all(harnesses.map((hh, i) => hh.settle({ timeoutMs: 600_000, until: () => ids[i].every((id) => hh.engine.store.get(id).status === "Confirmed") })));
    const seconds = (performance.now() - t) / 1000;
    const total = harnesses.length * perWallet;
    return { transfers: total, seconds: +seconds.toFixed(2), transfers_per_second: +(total / seconds).toFixed(1) };
  };
  const one = await burst([newHarness({ signer, rpcUrl: anvil.url, pollIntervalMs: POLL_MS, child: 0 })], N_BURST);
  const ten = await burst(
    Array.from({ length: WALLETS }, (_, i) => newHarness({ signer, rpcUrl: anvil.url, pollIntervalMs: POLL_MS, child: i })),
    Math.ceil(N_BURST / WALLETS),
  );

  const result = {
    benchmark: "broadcast",
    date: new Date().toISOString(),
    runtime: "Node 22, transfer engine on node:sqlite driven like its Durable Object alarm, anvil 1.7.1 automine on loopback, 2-of-3 DKLs23 signing in-process (both parties on this thread)",
    baseline_chain_send_to_receipt: stats(chain),
    baseline_threshold_signature_in_process: stats(signing),
    engine_request_to_broadcasted: stats(toBroadcast),
    engine_request_to_confirmed: stats(toConfirmed),
    overhead_over_chain_and_signing_p50_ms: +(stats(toConfirmed).p50_ms - stats(chain).p50_ms - stats(signing).p50_ms).toFixed(2),
    throughput_one_wallet: one,
    throughput_ten_wallets: ten,
    notes: [
      "Both signing parties run on the benchmark's one thread, so throughput is bounded by signing CPU here; with share-holder nodes the ceremonies run on the nodes, in parallel.",
      "Receipts are polled every 10 ms (Anvil network pollIntervalMs); confirmations required: 1.",
    ],
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/broadcast.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  await anvil.stop();
}
