// Where the edge's CPU goes: a sampling profile of workerd's V8 isolate (the Worker and every
// Durable Object run in it locally) while the unmodified @dfns/sdk runs N operations, summarised by
// function, by source file and by package (the bundle's source map says where each sample's code
// came from). Beside it, the workerd process's CPU time from /proc over the same operations: the
// difference between the two is what workerd spends outside JavaScript (HTTP, SQLite, RPC
// serialisation, its own threads).
//
//   npx node bench/edge-profile.mjs             sign + noop, 40 each (PROFILE_N), 250 µs sampling (PROFILE_INTERVAL_US)
//   PROFILE_OPS=sign PROFILE_N=100 PROFILE_TOP=40 npx node bench/edge-profile.mjs
//   PROFILE_OUT=/tmp/prof npx node …           also writes <op>.cpuprofile (Chrome DevTools → Performance → load) and summary.json
//   PROFILE_GOVERNED=1 npx node …              the nodes hold the org's root of trust (as npm start sets it up)
// (npx puts the repository's Node 22 first on PATH: wrangler refuses older ones.)
//
// Each operation runs N times unprofiled (workerd CPU from /proc), then N times under the sampler.
// The sampler's figures are wall time between samples: on a loaded machine they include time the
// thread was descheduled, so read them as shares, and take CPU per operation from /proc.
//
// Operations: sign = generateSignature {kind: Hash} (3 requests: action/init, action, the signature
// request; then the ceremony with the nodes, from a presignature when the pool has one);
// noop = updatePermission (3 requests, a signed change that starts no ceremony); read = getWallet.
// Not a benchmark (no results file): a tool for finding what to cut. The inspector is wrangler
// dev's (--inspector-port, scripts/local-network.ts), reached over CDP (Profiler.start/stop).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { benchEdge, edgeUrl, processCpuMs } from "./measure.mjs";

register();
const { startLocalNetwork, governLocalOrg } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const N = Number(process.env.PROFILE_N ?? 40);
const OPS = (process.env.PROFILE_OPS ?? "sign,noop").split(",");
const TOP = Number(process.env.PROFILE_TOP ?? 25);
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 250);
const OUT = process.env.PROFILE_OUT;

/** A Chrome DevTools Protocol session over the inspector's websocket. */
async function cdp(url) {
  // wrangler's inspector proxy accepts only local origins.
  const ws = new WebSocket(url, { headers: { Origin: "http://127.0.0.1" } });
  if (process.env.PROFILE_DEBUG) ws.addEventListener("close", (e) => process.stderr.write(`cdp closed ${e.code} ${e.reason}\n`));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot open the inspector at ${url}`)), { once: true });
  });
  let next = 0;
  const waiting = new Map();
  const listeners = new Map();
  ws.addEventListener("message", (m) => {
    const msg = JSON.parse(String(m.data));
    if (process.env.PROFILE_DEBUG) process.stderr.write(`cdp <- ${String(m.data).slice(0, 200)}\n`);
    // workerd answers the Profiler commands it handles itself (enable, setSamplingInterval,
    // start) by echoing the request; anything else gets an ordinary response.
    if (msg.id !== undefined && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(`${msg.error.message}`));
      else resolve(msg.result ?? {});
    } else if (msg.method) for (const f of listeners.get(msg.method) ?? []) f(msg.params);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    on: (method, f) => listeners.set(method, [...(listeners.get(method) ?? []), f]),
    close: () => ws.close(),
  };
}

/** Maps a bundled script position to its original file, from the script's source map on disk. */
function sourceMapper(scripts) {
  const maps = new Map();
  const mapOf = (scriptId) => {
    if (maps.has(scriptId)) return maps.get(scriptId);
    let map = null;
    const s = scripts.get(scriptId);
    if (s?.url.startsWith("file://") && s.sourceMapURL && !s.sourceMapURL.startsWith("data:")) {
      const file = join(fileURLToPath(s.url), "..", s.sourceMapURL);
      if (existsSync(file)) map = new SourceMap(JSON.parse(readFileSync(file, "utf8")));
    }
    maps.set(scriptId, map);
    return map;
  };
  return (frame) => {
    const map = mapOf(frame.scriptId);
    const entry = map && frame.lineNumber >= 0 ? map.findEntry(frame.lineNumber, frame.columnNumber) : null;
    if (entry && entry.originalSource) return { file: tidy(entry.originalSource), line: entry.originalLine + 1 };
    return { file: frame.url || "(native)", line: frame.lineNumber + 1 };
  };
}

const tidy = (src) => src.replace(/^.*?\/node_modules\//, "node_modules/").replace(/^(\.\.\/)+/, "").replace(/^.*\/work\/wt\/[^/]+\//, "");

/** The package (node_modules) or the repository folder a file belongs to. */
function packageOf(file) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (m) return m[1];
  if (/^(worker|shared|mpc-node|wasm)\//.test(file)) return file.split("/").slice(0, file.startsWith("worker/src/") || file.startsWith("shared/src/") ? 3 : 2).join("/");
  return file.includes(":") ? file.split(":")[0] + ":" : file;
}

/** Self and inclusive time by function, file and package, in ms per operation. */
function summarise(profile, locate, n) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const where = new Map();
  const keyOf = (node) => {
    if (!where.has(node.id)) {
      const f = node.callFrame;
      const special = /^\(.*\)$/.test(f.functionName) && !f.url;
      const loc = special ? { file: f.functionName, line: 0 } : locate(f);
      where.set(node.id, { fn: `${f.functionName || "(anonymous)"} ${loc.file}:${loc.line}`, file: loc.file, pkg: special ? f.functionName : packageOf(loc.file) });
    }
    return where.get(node.id);
  };
  const self = { fn: new Map(), file: new Map(), pkg: new Map() };
  const incl = new Map();
  let busy = 0;
  let idle = 0;
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  // timeDeltas[i + 1] is how long the sample at i lasted.
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    if (node.callFrame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    busy += ms;
    const k = keyOf(node);
    add(self.fn, k.fn, ms);
    add(self.file, k.file, ms);
    add(self.pkg, k.pkg, ms);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const fn = keyOf(byId.get(id)).fn;
      if (!seen.has(fn)) (seen.add(fn), add(incl, fn, ms));
    }
  }
  const top = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([k, v]) => ({ ms_per_op: +(v / n).toFixed(3), share: `${((100 * v) / busy).toFixed(1)}%`, what: k }));
  const ours = new Map([...incl].filter(([k]) => / (worker|shared)\//.test(k)));
  return {
    busy_ms_per_op: +(busy / n).toFixed(2),
    idle_ms: +idle.toFixed(0),
    self_by_package: top(self.pkg),
    self_by_file: top(self.file),
    self_by_function: top(self.fn),
    inclusive_by_function: top(incl),
    inclusive_this_repository: top(ours),
  };
}

const step = (what) => process.stderr.write(`edge-profile: ${what}\n`);
const dir = mkdtempSync(join(tmpdir(), "tessera-edge-profile-"));
step("starting the local network");
const net = await startLocalNetwork({ stateDir: dir, edge: benchEdge(), chain: false, solana: false, bitcoin: false, log: () => {} });
try {
  const cfg = await ensureLocalOrg({ baseUrl: edgeUrl(net), bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  if (process.env.PROFILE_GOVERNED) await governLocalOrg(net, cfg);
  const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  step("creating a wallet");
  const wallet = await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "edge profile" } });
  const permission = await dfns.permissions.createPermission({ body: { name: "edge-profile no-op", operations: ["Wallets:Read"] } });
  const hash = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;
  let k = 0;
  const ops = {
    sign: async () => {
      const r = await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hash() } });
      if (r.status !== "Signed") throw new Error(`status ${r.status}`);
    },
    noop: () => dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: `noop ${k++}` } }),
    read: () => dfns.wallets.getWallet({ walletId: wallet.id }),
  };
  step("warming up");
  // Warm the JIT and the presignature pool (refilled after each signature, off the request path).
  for (let i = 0; i < 15; i++) {
    await ops.sign();
    await ops.noop();
  }
  await new Promise((r) => setTimeout(r, 1500));

  step("connecting to the inspector");
  // The Worker's isolate: under workerd direct (Miniflare's inspector proxy) the list also holds
  // Miniflare's own services (entry, assets router, …); under wrangler dev it is the only one.
  const targets = await (await fetch(`http://127.0.0.1:${net.inspectorPort}/json`)).json();
  const target = targets.find((t) => String(t.id).startsWith("core:user:")) ?? targets[0];
  const session = await cdp(target.webSocketDebuggerUrl);
  step("inspector connected");
  const scripts = new Map();
  session.on("Debugger.scriptParsed", (p) => scripts.set(p.scriptId, p));
  await session.send("Debugger.enable");
  await new Promise((r) => setTimeout(r, 500));
  await session.send("Debugger.disable"); // only the scripts' URLs and source maps were wanted
  const locate = sourceMapper(scripts);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
  // The workerd with the inspector runs the Worker and its Durable Objects; under wrangler dev
  // (TESSERA_EDGE_RUNTIME=wrangler-dev) a second one is wrangler's dev proxy in front of it (not part of a deployment).
  const workerds = net.pids().api.filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").includes("workerd"));
  const workerd = workerds.find((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector"));
  const proxy = workerds.find((pid) => pid !== workerd);

  const report = { date: new Date().toISOString(), n: N, sampling_interval_us: INTERVAL_US, governed: Boolean(process.env.PROFILE_GOVERNED), ops: {} };
  for (const op of OPS) {
    // First unprofiled (the sampler's own cost is not small), then the same again under it.
    const plain0 = processCpuMs(workerd);
    const plainProxy0 = proxy ? processCpuMs(proxy) : 0;
    const tp = performance.now();
    for (let i = 0; i < N; i++) await ops[op]();
    const plainWall = performance.now() - tp;
    await new Promise((r) => setTimeout(r, 300));
    const plain = { cpu: processCpuMs(workerd) - plain0, proxy: proxy ? processCpuMs(proxy) - plainProxy0 : 0 };
    const load = loadavg()[0];
    await session.send("Profiler.start");
    const cpu0 = processCpuMs(workerd);
    const proxy0 = proxy ? processCpuMs(proxy) : 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await ops[op]();
    const wall = performance.now() - t0;
    // The last request's batched audit line and presignature refill run after its answer.
    await new Promise((r) => setTimeout(r, 300));
    const cpu = processCpuMs(workerd) - cpu0;
    const proxyCpu = proxy ? processCpuMs(proxy) - proxy0 : 0;
    const { profile } = await session.send("Profiler.stop");
    if (OUT) (mkdirSync(OUT, { recursive: true }), writeFileSync(join(OUT, `${op}.cpuprofile`), JSON.stringify(profile)));
    const s = summarise(profile, locate, N);
    report.ops[op] = {
      load_average_1m: +load.toFixed(2),
      unprofiled: { wall_ms_per_op: +(plainWall / N).toFixed(1), workerd_cpu_ms_per_op: +(plain.cpu / N).toFixed(1), dev_proxy_cpu_ms_per_op: +(plain.proxy / N).toFixed(1) },
      profiled: { wall_ms_per_op: +(wall / N).toFixed(1), workerd_cpu_ms_per_op: +(cpu / N).toFixed(1), dev_proxy_cpu_ms_per_op: +(proxyCpu / N).toFixed(1), js_sampled_ms_per_op: s.busy_ms_per_op },
      ...s,
    };
    console.log(`\n== ${op}: ${N} ops, load ${load.toFixed(2)}`);
    console.log(`unprofiled: workerd CPU (/proc) ${(plain.cpu / N).toFixed(1)} ms/op, wrangler's dev proxy ${(plain.proxy / N).toFixed(1)} ms/op, wall ${(plainWall / N).toFixed(1)} ms/op`);
    console.log(`profiled:   workerd CPU (/proc) ${(cpu / N).toFixed(1)} ms/op, JS sampled ${s.busy_ms_per_op} ms/op (wall clock between samples: includes time the thread was descheduled), wall ${(wall / N).toFixed(1)} ms/op`);
    for (const [title, rows] of [
      ["self time by package", s.self_by_package],
      ["self time by file", s.self_by_file],
      ["self time by function", s.self_by_function],
      ["inclusive time by function", s.inclusive_by_function],
      ["inclusive time, this repository's functions (worker/, shared/)", s.inclusive_this_repository],
    ]) {
      console.log(`-- ${title} (ms per op, share of JS busy time)`);
      for (const r of rows) console.log(`${String(r.ms_per_op.toFixed(3)).padStart(8)}  ${r.share.padStart(6)}  ${r.what}`);
    }
  }
  await session.send("Profiler.disable");
  session.close();
  if (OUT) writeFileSync(join(OUT, "summary.json"), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
