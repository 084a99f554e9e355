// CPU of each process per API operation (read from /proc before and after a run of N operations):
// the edge (workerd: the Worker and every Durable Object run in the one local process) and the
// three share-holder nodes, for
//   hello  GET / (no layer runs: HTTP and the runtime alone)
//   read   GET /wallets/:id (one authenticated request)
//   noop   a signed no-op change, updatePermission (3 requests: action/init, action, PUT)
//   sign   generateSignature kind Hash through the unmodified @dfns/sdk (3 requests + policy gate
//          + a 2-of-3 ECDSA ceremony, from a presignature when the pool has one), sequential
// The edge's figure is the workerd process that runs the Worker and its Durable Objects. By default
// the edge runs as a deployment does (the deploy bundle in one workerd, scripts/edge-workerd.mjs);
// TESSERA_EDGE_RUNTIME=wrangler-dev runs it under wrangler dev for comparison, whose proxy (a second
// workerd in front of it, absent from a deployment) is reported apart, as is every edge process's
// total (runs before "edge17-before" summed the proxy into the edge's figure; runs before
// "direct-workerd" ran under wrangler dev). Requests go to the Worker's own socket
// (LocalNetwork.workerUrl: no Miniflare entry Worker and assets router in front, as deployed);
// hello_front is GET / through that front, for what it costs.
// beside single-key @noble/curves signing. The machine is shared (2 cores): the load average is
// recorded and CPU time (not wall time) is the figure that load inflates least.
// Writes bench/results/edge-cpu.json; BENCH_TAG names the run (e.g. "before", "after").
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { benchEdge, edgeUrl, edgeProcesses, edgeRuntime, nobleSecp256k1SignMs, processCpuMs as cpuMs } from "./measure.mjs";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startLocalNetwork } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const N = Number(process.env.BENCH_N ?? 60);
const TAG = process.env.BENCH_TAG ?? "current";

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2) };
};

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-edge-"));
const loadAtStart = +loadavg()[0].toFixed(2);
const net = await startLocalNetwork({ stateDir: dir, edge: benchEdge(), chain: false, solana: false, bitcoin: false, log: () => {} });
const out = {};
try {
  const cfg = await ensureLocalOrg({ baseUrl: edgeUrl(net), bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  const wallet = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "edge cpu" } });
  const hash = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;
  const permission = await dfns.permissions.createPermission({ body: { name: "edge-cpu no-op", operations: ["Wallets:Read"] } });
  for (let i = 0; i < 10; i++) await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hash() } });
  for (let i = 0; i < 5; i++) await dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: `warm ${i}` } });

  // The Worker's workerd ("workerd"), wrangler dev's proxy workerd if it runs, and their launchers.
  const edge = edgeProcesses(net.pids().api);
  const pids = { ...Object.fromEntries(net.nodes.map((n) => [`node ${n.region}`, n.process.pid])), ...edge };

  const segment = async (name, n, op) => {
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
    const wall = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await op();
      wall.push(performance.now() - t);
    }
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, +((cpuMs(pid) - before[k]) / n).toFixed(1)]));
    const edgeTotal = Object.keys(edge).reduce((a, k) => a + cpu[k], 0);
    out[name] = {
      n,
      latency: stats(wall),
      cpu_ms_per_op: cpu,
      edge_cpu_ms_per_op: cpu.workerd,
      dev_proxy_cpu_ms_per_op: cpu["wrangler dev proxy (workerd)"] ?? null,
      edge_processes_cpu_ms_per_op: +edgeTotal.toFixed(1),
    };
    console.log(name, JSON.stringify(out[name]));
  };

  let i = 0;
  await segment("hello", N, async () => {
    const res = await fetch(`${edgeUrl(net)}/`);
    if (!res.ok) throw new Error(`GET / ${res.status}`);
    await res.arrayBuffer();
  });
  // The same request through Miniflare's entry Worker and assets router (the network's apiUrl),
  // which every other figure here leaves out (bench/measure.mjs edgeUrl): what that front costs.
  if (net.workerUrl) {
    await segment("hello_front", N, async () => {
      const res = await fetch(`${net.apiUrl}/`);
      if (!res.ok) throw new Error(`GET / ${res.status}`);
      await res.arrayBuffer();
    });
  }
  await segment("read", N, () => dfns.wallets.getWallet({ walletId: wallet.id }));
  await segment("noop", N, () => dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: `noop ${i++}` } }));
  await segment("sign", N, async () => {
    const r = await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hash() } });
    if (r.status !== "Signed") throw new Error(`status ${r.status}`);
  });

  const noble = nobleSecp256k1SignMs(N);

  const file = join(root, "bench", "results", "edge-cpu.json");
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
  const runs = { ...(previous?.runs ?? {}) };
  const loadAtEnd = +loadavg()[0].toFixed(2);
  runs[TAG] = {
    date: new Date().toISOString(),
    load_average_1m_start: loadAtStart,
    load_average_1m_end: loadAtEnd,
    quiet_machine: loadAtStart < 2 && loadAtEnd < 2,
    edge: net.edge,
    edge_cpu_ms_per_signature: out.sign.edge_cpu_ms_per_op,
    edge_cpu_ms_per_signed_noop: out.noop.edge_cpu_ms_per_op,
    edge_cpu_ms_per_read: out.read.edge_cpu_ms_per_op,
    edge_cpu_ms_per_hello: out.hello.edge_cpu_ms_per_op,
    // null: the requests went through Miniflare's front (no Worker socket; runs before edge-worker-socket did).
    requests_to: net.workerUrl ? "the Worker's own socket (LocalNetwork.workerUrl)" : "Miniflare's front (LocalNetwork.apiUrl)",
    edge_cpu_ms_per_hello_through_miniflare_front: out.hello_front?.edge_cpu_ms_per_op ?? null,
    dev_proxy_cpu_ms_per_signature: out.sign.dev_proxy_cpu_ms_per_op,
    dev_proxy_cpu_ms_per_signed_noop: out.noop.dev_proxy_cpu_ms_per_op,
    dev_proxy_cpu_ms_per_hello: out.hello.dev_proxy_cpu_ms_per_op,
    // Every edge process (workerd, the dev proxy if any, their Node launchers) per operation.
    edge_processes_cpu_ms: { hello: out.hello.edge_processes_cpu_ms_per_op, read: out.read.edge_processes_cpu_ms_per_op, signed_noop: out.noop.edge_processes_cpu_ms_per_op, signature: out.sign.edge_processes_cpu_ms_per_op },
    edge_cpu_ms_by_process_per_signature: Object.fromEntries(Object.keys(edge).map((k) => [k, out.sign.cpu_ms_per_op[k]])),
    generate_signature_sdk: out.sign.latency,
    signed_noop_sdk: out.noop.latency,
    hello: out.hello.latency,
    node_cpu_ms_per_signature: Object.fromEntries(Object.entries(out.sign.cpu_ms_per_op).filter(([k]) => k.startsWith("node"))),
    baseline_noble_secp256k1_sign: stats(noble),
  };
  const result = {
    benchmark: "edge-cpu",
    date: new Date().toISOString(),
    runtime: `${edgeRuntime(net.edge)}; the Worker + Durable Objects in one workerd process + 3 mpc-node processes (2-of-3 DKLs23); @dfns/sdk 0.8.21, sequential; CPU from /proc (10 ms ticks, averaged over N operations)`,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?" },
    note: "shared 2-core machine: other developers' runs inflate every figure; compare runs by their load averages (quiet_machine: load under 2 throughout). Runs before edge17-before summed wrangler dev's proxy workerd into edge_cpu; runs without an `edge` field ran under wrangler dev (its Worker's workerd alone is edge_cpu).",
    target_edge_cpu_ms_per_signature: 12,
    runs,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result.runs[TAG], null, 2));
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
