// End-to-end signature latency through the public API: the unmodified @dfns/sdk's
// generateSignature (kind Hash) against the edge API (local workerd serving the deploy bundle, as
// a deployment runs it: scripts/edge-workerd.mjs; TESSERA_EDGE_RUNTIME=wrangler-dev for wrangler dev) with three
// share-holder node processes signing 2-of-3 over libp2p — beside two baselines from the same
// run: a signed no-op change through the same SDK (layers 1–2 only: 3 HTTP requests, no
// ceremony) and single-key @noble/curves signing. Writes bench/results/api-signature.json.
// Two signing paths in one run: with presignatures (the default; the coordinator keeps a pool per
// key, refilled after each signature — the signed no-op and a short pause between requests leave
// it time to), then, after restarting the edge with TESSERA_PRESIGNATURES=off, today's three-round
// path on the same wallet.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { benchEdge, edgeUrl, edgeRuntime, nobleSecp256k1SignMs } from "./measure.mjs";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startLocalNetwork } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const N = Number(process.env.BENCH_N ?? 100);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
};

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-sig-"));
const net = await startLocalNetwork({ stateDir: dir, edge: benchEdge(), chain: false });
try {
  const cfg = await ensureLocalOrg({ baseUrl: edgeUrl(net), bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  const t0 = performance.now();
  const wallet = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "bench" } });
  const keygenMs = performance.now() - t0;
  const permission = await dfns.permissions.createPermission({ body: { name: "bench no-op", operations: ["Wallets:Read"] } });

  const hash = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;
  const signedNoop = [];
  const series = async (pauseMs) => {
    for (let i = 0; i < 5; i++) await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hash() } });
    await new Promise((r) => setTimeout(r, 500));
    const out = [];
    for (let i = 0; i < N; i++) {
      let t = performance.now();
      const r = await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hash() } });
      out.push(performance.now() - t);
      if (r.status !== "Signed") throw new Error(`signature ${r.status}: ${r.reason}`);
      t = performance.now();
      await dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: `bench no-op ${i}` } });
      signedNoop.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    return out;
  };
  const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 300);
  const presigned = await series(PAUSE_MS);
  await net.restartApi({ vars: { TESSERA_PRESIGNATURES: "off" } });
  const signature = await series(PAUSE_MS);
  const noble = nobleSecp256k1SignMs(N);

  const sig = stats(signature);
  const pre = stats(presigned);
  const base = stats(signedNoop);
  const result = {
    benchmark: "api-signature",
    date: new Date().toISOString(),
    runtime: `${edgeRuntime(net.edge)} + 3 mpc-node processes (2-of-3 DKLs23 over libp2p websockets/tcp on loopback); @dfns/sdk client, sequential, a signed no-op and a ${PAUSE_MS} ms pause after each signature`,
    edge: net.edge,
    load_average_1m: +loadavg()[0].toFixed(2),
    wallet_keygen_ms: +keygenMs.toFixed(0),
    generate_signature_sdk_presigned: pre,
    generate_signature_sdk: sig,
    presigned_saves_p50_ms: +(sig.p50_ms - pre.p50_ms).toFixed(2),
    target_presigned_p50_le_25ms: pre.p50_ms <= 25,
    baseline_signed_noop_sdk: base,
    baseline_noble_secp256k1_sign: stats(noble),
    layer4_added_p50_ms: +(sig.p50_ms - base.p50_ms).toFixed(2),
    ratio_vs_signed_noop_p50: +(sig.p50_ms / base.p50_ms).toFixed(2),
    ratio_vs_noble_p50: +(sig.p50_ms / stats(noble).p50_ms).toFixed(0),
    target_p50_le_40ms: sig.p50_ms <= 40,
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/api-signature.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(`wallet creation (2-of-3 DKG across 3 nodes): ${result.wallet_keygen_ms} ms`);
  console.log(`SDK generateSignature from a presignature (one online round): p50 ${pre.p50_ms} ms p99 ${pre.p99_ms} ms  target p50 <= 25 ms: ${result.target_presigned_p50_le_25ms ? "met" : "NOT met"}`);
  console.log(`SDK generateSignature (3 requests + ceremony): p50 ${sig.p50_ms} ms p99 ${sig.p99_ms} ms  target p50 <= 40 ms: ${result.target_p50_le_40ms ? "met" : "NOT met"}`);
  console.log(`baseline SDK signed no-op change (3 requests): p50 ${base.p50_ms} ms p99 ${base.p99_ms} ms → layer 4 adds ${result.layer4_added_p50_ms} ms at p50`);
  console.log(`baseline noble secp256k1 sign: p50 ${result.baseline_noble_secp256k1_sign.p50_ms} ms (${result.ratio_vs_noble_p50}x)`);
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
