// Does one org's signing queue behind another's at the edge? Two organisations sign at once
// through the public API (the unmodified @dfns/sdk's generateSignature), first with one
// coordinator object for the whole deployment (TESSERA_COORDINATOR_SHARDS=deployment, as before
// sharding), then — same run, same nodes, same wallets, the API restarted — with one ShareHolders
// object per org (the default). Wallets are FROST ed25519 (KeyEdDSA): the nodes' part is cheap
// (≈ 2 ms per party), so the coordinator's share of the work is what is measured.
// Baseline from the same run: single-key @noble/curves ed25519 signing.
// Writes bench/results/coordinator-shards.json.
//
//   npm run bench -- coordinator-shards         SHARDS_SECONDS=10 SHARDS_CONCURRENCY=4 npm run bench -- coordinator-shards
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { ed25519 } from "@noble/curves/ed25519.js";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startLocalNetwork, descendants } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const SECONDS = Number(process.env.SHARDS_SECONDS ?? 12);
/** Concurrent clients per org. */
const CONCURRENCY = Number(process.env.SHARDS_CONCURRENCY ?? 4);

const quantile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
const round = (x) => (x === null ? null : +x.toFixed(1));
const threadsOf = (pid) => {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  } catch {
    return null;
  }
};

// Baseline: what one key in one process signs, same machine, same run.
const baseline = (() => {
  const sk = ed25519.utils.randomSecretKey();
  const msg = new Uint8Array(32);
  for (let i = 0; i < 200; i++) ed25519.sign(msg, sk);
  const t = performance.now();
  let n = 0;
  while (performance.now() - t < 1000) (ed25519.sign(msg, sk), n++);
  return { scheme: "ed25519 (@noble/curves, one key, one process)", signatures_per_second: Math.round(n / ((performance.now() - t) / 1000)) };
})();
console.log(`baseline: ${baseline.signatures_per_second} signatures/s (${baseline.scheme})`);

const loadAtStart = +loadavg()[0].toFixed(2);
const dir = mkdtempSync(join(tmpdir(), "tessera-bench-shards-"));
const net = await startLocalNetwork({ stateDir: dir, chain: false, vars: { TESSERA_COORDINATOR_SHARDS: "deployment" } });
try {
  const orgs = [];
  for (const name of ["org A", "org B"]) {
    const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, `${name.replace(" ", "-")}.json`), orgName: name });
    const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
    const wallet = await dfns.wallets.createWallet({ body: { network: "KeyEdDSA", name: `shards ${name}` } });
    orgs.push({ name, orgId: cfg.orgId, dfns, wallet });
  }
  const message = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;

  const workerd = () => net.pids().api.find((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").includes("workerd"));

  /** Both orgs at once, CONCURRENCY closed-loop clients each, for SECONDS. */
  const measure = async (mode) => {
    for (const o of orgs) for (let i = 0; i < 3; i++) await o.dfns.wallets.generateSignature({ walletId: o.wallet.id, body: { kind: "Message", message: message() } });
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    const perOrg = await Promise.all(
      orgs.map(async (o) => {
        const latencies = [];
        const errors = [];
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (performance.now() < deadline) {
              const t = performance.now();
              try {
                const r = await o.dfns.wallets.generateSignature({ walletId: o.wallet.id, body: { kind: "Message", message: message() } });
                if (r.status !== "Signed") throw new Error(`status ${r.status}: ${r.reason ?? ""}`);
                latencies.push(performance.now() - t);
              } catch (e) {
                errors.push(String(e?.message ?? e).slice(0, 200));
              }
            }
          }),
        );
        return { org: o.name, latencies, errors };
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const orgsOut = perOrg.map(({ org, latencies, errors }) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      return { org, signatures: latencies.length, signatures_per_second: +(latencies.length / seconds).toFixed(1), p50_ms: round(quantile(sorted, 0.5)), p99_ms: round(quantile(sorted, 0.99)), errors: errors.length, first_errors: [...new Set(errors)].slice(0, 3) };
    });
    const total = +orgsOut.reduce((a, o) => a + o.signatures_per_second, 0).toFixed(1);
    const pid = workerd();
    const out = { mode, coordinator_objects: mode === "deployment" ? 1 : orgs.length, seconds: +seconds.toFixed(1), total_signatures_per_second: total, orgs: orgsOut, workerd_threads: pid ? threadsOf(pid) : null };
    console.log(
      `${mode === "deployment" ? "one coordinator object " : "one object per org     "}  ${String(total).padStart(5)} sig/s total  ${orgsOut
        .map((o) => `${o.org}: ${o.signatures_per_second}/s p50 ${o.p50_ms} ms p99 ${o.p99_ms} ms errors ${o.errors}`)
        .join("  |  ")}`,
    );
    return out;
  };

  const single = await measure("deployment");
  // Same nodes, same wallets: the per-org objects adopt the keys the deployment-wide object recorded.
  await net.restartApi({ vars: { TESSERA_COORDINATOR_SHARDS: "org" } });
  const sharded = await measure("org");

  const result = {
    benchmark: "coordinator-shards",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", loadavg_at_start: loadAtStart },
    runtime: `wrangler dev --local (one workerd process) + 3 mpc-node processes (2-of-3 FROST ed25519 over libp2p); two orgs, ${CONCURRENCY} closed-loop @dfns/sdk clients each, generateSignature kind Message`,
    seconds_per_phase: SECONDS,
    baseline_noble_ed25519_signatures_per_second: baseline.signatures_per_second,
    one_object: single,
    per_org_objects: sharded,
    speedup_total_throughput: +(sharded.total_signatures_per_second / Math.max(0.1, single.total_signatures_per_second)).toFixed(2),
    errors: single.orgs.concat(sharded.orgs).reduce((a, o) => a + o.errors, 0),
  };
  console.log(`per-org objects / one object: ${result.speedup_total_throughput}× total throughput (baseline one noble key: ${baseline.signatures_per_second}/s)`);
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/coordinator-shards.json"), JSON.stringify(result, null, 2) + "\n");
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
