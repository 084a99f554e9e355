// Does one org's signing queue behind another's coordinator? Two organisations sign at once
// through the public API (the unmodified @dfns/sdk's generateSignature) while the ShareHolders
// coordinator objects are arranged three ways, one after another in the same run (same nodes,
// same orgs; the API restarted between arrangements, a fresh wallet per org each time):
//
//   one_object            one coordinator object for the deployment (TESSERA_COORDINATOR_SHARDS=deployment),
//                         in a workerd process of its own, carrying both orgs
//   per_org_one_process   one object per org (the default sharding), both in one coordinator process
//   per_org_processes     one object per org, each in its own coordinator process
//
// Cloudflare runs each object on a machine it picks; `wrangler dev` runs every object of a script
// in one workerd process, on one thread. So the coordinators here are served by workerd processes
// of their own (scripts/local-network.ts `coordinators`: one `wrangler dev` session per process,
// bound to the API's script through a dev registry), the API's own work (authentication,
// permissions, policy, wallets) in another, and TESSERA_COORDINATOR_PLACEMENT puts each org's
// object in its process, as placement would. Production configuration is unchanged: one class,
// one object per org by name.
//
// The machine has 2 cores for the API, the coordinators, 3 nodes and the clients: with nothing
// held back, their sum, not any coordinator, is what runs out (see the CPU per signature of each
// process in the JSON). So each arrangement is measured twice: as is ("unlimited"), and with every
// coordinator process held to SHARDS_COORDINATOR_CORES of a core by a cgroup of its own (the
// coordinator's machine made the scarce resource, as one object's machine is in production when
// one org's load grows) — there the figures show whether throughput follows the number of
// coordinator processes. Wallets are FROST ed25519 (KeyEdDSA): the nodes' part is cheap.
// Baseline from the same run: single-key @noble/curves ed25519 signing.
// Writes bench/results/coordinator-shards.json.
//
//   npm run bench -- coordinator-shards
//   SHARDS_SECONDS=12 SHARDS_CONCURRENCY=4 SHARDS_COORDINATOR_CORES=0.05 npm run bench -- coordinator-shards
//   SHARDS_COORDINATOR_CORES=0 …   (no limited runs)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { ed25519 } from "@noble/curves/ed25519.js";
import { processCpuMs } from "./measure.mjs";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startLocalNetwork, descendants } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const SECONDS = Number(process.env.SHARDS_SECONDS ?? 12);
/** Concurrent clients per org. */
const CONCURRENCY = Number(process.env.SHARDS_CONCURRENCY ?? 4);
/** CPU (in cores) each coordinator process may use in the limited runs; 0 skips them. */
const LIMIT = Number(process.env.SHARDS_COORDINATOR_CORES ?? 0.05);

const quantile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : +x.toFixed(d));
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
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

// cgroup v1 cpu controller (this machine) or v2: one group per coordinator process, CFS quota.
const cgroupRoot = existsSync("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") ? { v: 1, dir: "/sys/fs/cgroup/cpu" } : existsSync("/sys/fs/cgroup/cgroup.controllers") ? { v: 2, dir: "/sys/fs/cgroup" } : null;
const groups = [];
/** Holds `pids` to `cores` of CPU in a group of their own; false where cgroups cannot be written. */
const limitCpu = (name, pids, cores) => {
  if (!cgroupRoot) return false;
  const dir = join(cgroupRoot.dir, `tessera-bench-${process.pid}-${name}`);
  try {
    if (!existsSync(dir)) (mkdirSync(dir), groups.push(dir));
    const period = 100_000;
    if (cgroupRoot.v === 1) {
      writeFileSync(join(dir, "cpu.cfs_period_us"), String(period));
      writeFileSync(join(dir, "cpu.cfs_quota_us"), String(Math.round(cores * period)));
    } else writeFileSync(join(dir, "cpu.max"), `${Math.round(cores * period)} ${period}`);
    for (const pid of pids) writeFileSync(join(dir, "cgroup.procs"), String(pid));
    return true;
  } catch (e) {
    console.log(`cannot limit ${name} with a cgroup (${e.message}): limited runs skipped`);
    return false;
  }
};
const throttledMs = (name) => {
  if (!cgroupRoot) return null;
  try {
    const stat = readFileSync(join(cgroupRoot.dir, `tessera-bench-${process.pid}-${name}`, "cpu.stat"), "utf8");
    const ns = /throttled_time (\d+)/.exec(stat)?.[1];
    const us = /throttled_usec (\d+)/.exec(stat)?.[1];
    return ns ? Number(ns) / 1e6 : us ? Number(us) / 1e3 : null;
  } catch {
    return null;
  }
};

const loadAtStart = +loadavg()[0].toFixed(2);
const dir = mkdtempSync(join(tmpdir(), "tessera-bench-shards-"));
const net = await startLocalNetwork({ stateDir: dir, chain: false, solana: false, bitcoin: false, coordinators: 1, vars: { TESSERA_COORDINATOR_SHARDS: "deployment" } });
try {
  const orgs = [];
  for (const name of ["org A", "org B"]) {
    const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, `${name.replace(" ", "-")}.json`), orgName: name });
    const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
    orgs.push({ name, orgId: cfg.orgId, dfns });
  }
  const placement = JSON.stringify(Object.fromEntries(orgs.map((o, i) => [`org:${o.orgId}`, i + 1])));
  const message = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;

  /** The processes whose CPU is counted: each workerd, the wranglers, the nodes, this client. */
  const processes = () => {
    const p = net.pids();
    const split = (prefix, tree) => {
      const workerd = tree.filter((pid) => comm(pid).includes("workerd"));
      return [
        { name: `${prefix} workerd`, pids: workerd },
        { name: `${prefix} wrangler`, pids: tree.filter((pid) => !workerd.includes(pid)) },
      ];
    };
    return [
      ...split("api", p.api),
      ...p.coordinators.flatMap((tree, i) => split(`coordinator ${i + 1}`, tree)),
      ...net.nodes.map((n) => ({ name: `node ${n.region}`, pids: [n.process.pid, ...descendants(n.process.pid)] })),
    ];
  };
  const cpuOf = (procs) => Object.fromEntries(procs.map((q) => [q.name, q.pids.reduce((a, pid) => a + (processCpuMs(pid) ?? 0), 0)]));

  let started = 0;
  /** One arrangement: fresh wallets, both orgs at once, CONCURRENCY closed-loop clients each, for SECONDS. */
  const measure = async ({ arrangement, coordinators, vars, limit }) => {
    // The network started in the first arrangement: every later one restarts the API and its coordinators.
    if (started++ > 0) await net.restartApi({ coordinators, vars });
    const procs = processes();
    const coordinatorPids = net.pids().coordinators.map((tree) => tree.filter((pid) => comm(pid).includes("workerd")));
    const limited = limit > 0 ? coordinatorPids.every((pids, i) => limitCpu(`coordinator-${i + 1}`, pids, limit)) : false;
    if (limit > 0 && !limited) return null;
    for (const o of orgs) {
      o.wallet = await o.dfns.wallets.createWallet({ body: { network: "KeyEdDSA", name: `shards ${o.name} ${arrangement}` } });
      for (let i = 0; i < 3; i++) await o.dfns.wallets.generateSignature({ walletId: o.wallet.id, body: { kind: "Message", message: message() } });
    }
    // What the processes spend with no request in flight (timers, keep-alives, the dev registry):
    // part of every figure below, more so the slower the run.
    const idleBefore = cpuOf(procs);
    const idleStart = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const idleMs = performance.now() - idleStart;
    const idleAfter = cpuOf(procs);
    const throttledBefore = coordinatorPids.map((_, i) => throttledMs(`coordinator-${i + 1}`));
    const cpuBefore = cpuOf(procs);
    const clientBefore = process.cpuUsage();
    const loadBefore = +loadavg()[0].toFixed(2);
    const t0 = performance.now();
    const deadline = t0 + SECONDS * 1000;
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
    const wallMs = performance.now() - t0;
    const cpuAfter = cpuOf(procs);
    const client = process.cpuUsage(clientBefore);
    const seconds = wallMs / 1000;
    const orgsOut = perOrg.map(({ org, latencies, errors }) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      return { org, signatures: latencies.length, signatures_per_second: round(latencies.length / seconds), p50_ms: round(quantile(sorted, 0.5)), p99_ms: round(quantile(sorted, 0.99)), errors: errors.length, first_errors: [...new Set(errors)].slice(0, 3) };
    });
    const signatures = orgsOut.reduce((a, o) => a + o.signatures, 0);
    const total = round(signatures / seconds);
    const cpu = { ...Object.fromEntries(procs.map((q) => [q.name, cpuAfter[q.name] - cpuBefore[q.name]])), "bench client (SDK)": (client.user + client.system) / 1000 };
    const perProcess = Object.entries(cpu).map(([name, ms]) => ({
      process: name,
      cpu_ms_per_signature: round(ms / Math.max(1, signatures)),
      // Share of one core this process used: 1.0 is a whole core, a single-threaded JS runtime's ceiling.
      cores_used: round(ms / wallMs, 2),
      idle_cores: name in idleAfter ? round((idleAfter[name] - idleBefore[name]) / idleMs, 3) : null,
    }));
    // Each coordinator process's ceiling: the CPU it has (its limit, else one core: one JS thread)
    // over its CPU per signature it coordinated, scaled by its share of all signatures.
    const servedBy = coordinatorPids.map((_, i) =>
      vars.TESSERA_COORDINATOR_PLACEMENT ? (orgsOut[i]?.signatures ?? 0) : i === 0 ? signatures : 0,
    );
    const coordinatorCeilings = coordinatorPids.map((_, i) => {
      const ms = cpu[`coordinator ${i + 1} workerd`];
      const perOwn = ms / Math.max(1, servedBy[i]);
      const cores = limited ? limit : 1;
      return { process: `coordinator ${i + 1} workerd`, signatures_coordinated: servedBy[i], cpu_ms_per_signature_coordinated: round(perOwn), ceiling_signatures_per_second: round(((cores * 1000) / perOwn) * (signatures / Math.max(1, servedBy[i]))) };
    });
    const cpuPerSignature = Object.values(cpu).reduce((a, b) => a + b, 0) / Math.max(1, signatures);
    const out = {
      arrangement,
      coordinator_objects: vars.TESSERA_COORDINATOR_SHARDS === "deployment" ? 1 : orgs.length,
      coordinator_processes: coordinators,
      placement: vars.TESSERA_COORDINATOR_PLACEMENT ? Object.fromEntries(orgs.map((o, i) => [o.name, `coordinator ${i + 1}`])) : Object.fromEntries(orgs.map((o) => [o.name, "coordinator 1"])),
      coordinator_cpu_limit_cores: limited ? limit : null,
      seconds: round(seconds),
      loadavg_1min_before: loadBefore,
      loadavg_1min_after: +loadavg()[0].toFixed(2),
      total_signatures_per_second: total,
      orgs: orgsOut,
      processes: perProcess,
      cpu_ms_per_signature_all_processes: round(cpuPerSignature),
      // What the 2 cores could give if nothing else ran: every process's CPU per signature, summed.
      machine_ceiling_signatures_per_second: round((cpus().length * 1000) / cpuPerSignature),
      // What the coordinators alone would allow (the lowest, each scaled up by the share it carries).
      coordinators: coordinatorCeilings,
      coordinator_ceiling_signatures_per_second: round(Math.min(...coordinatorCeilings.map((c) => c.ceiling_signatures_per_second ?? Infinity))),
      coordinator_throttled_ms: limited ? coordinatorPids.map((_, i) => round((throttledMs(`coordinator-${i + 1}`) ?? 0) - (throttledBefore[i] ?? 0), 0)) : null,
    };
    const busiest = [...perProcess].sort((a, b) => b.cores_used - a.cores_used).slice(0, 3);
    console.log(
      `${arrangement.padEnd(21)} ${coordinators} coordinator process(es)${limited ? ` at ${limit} core each` : ""}: ${String(total).padStart(5)} sig/s  ${orgsOut
        .map((o) => `${o.org} ${o.signatures_per_second}/s p50 ${o.p50_ms} ms errors ${o.errors}`)
        .join(" | ")}  coordinator ceiling ${out.coordinator_ceiling_signatures_per_second}/s, machine ${out.machine_ceiling_signatures_per_second}/s  busiest: ${busiest.map((b) => `${b.process} ${b.cores_used} cores ${b.cpu_ms_per_signature} ms/sig`).join(", ")}  load ${out.loadavg_1min_after}`,
    );
    return out;
  };

  const arrangements = [
    { arrangement: "one_object", coordinators: 1, vars: { TESSERA_COORDINATOR_SHARDS: "deployment", TESSERA_COORDINATOR_PLACEMENT: "" } },
    { arrangement: "per_org_one_process", coordinators: 1, vars: { TESSERA_COORDINATOR_SHARDS: "org", TESSERA_COORDINATOR_PLACEMENT: "" } },
    { arrangement: "per_org_processes", coordinators: 2, vars: { TESSERA_COORDINATOR_SHARDS: "org", TESSERA_COORDINATOR_PLACEMENT: placement } },
  ];
  const unlimited = {};
  for (const a of arrangements) unlimited[a.arrangement] = await measure({ ...a, limit: 0 });
  const limited = {};
  if (LIMIT > 0) for (const a of arrangements) limited[a.arrangement] = await measure({ ...a, limit: LIMIT });
  const ceilingRatio = (r) =>
    r?.one_object && r?.per_org_processes ? round(r.per_org_processes.coordinator_ceiling_signatures_per_second / Math.max(0.1, r.one_object.coordinator_ceiling_signatures_per_second), 2) : null;
  const ratio = (r) => (r?.one_object && r?.per_org_processes ? round(r.per_org_processes.total_signatures_per_second / Math.max(0.1, r.one_object.total_signatures_per_second), 2) : null);

  const result = {
    benchmark: "coordinator-shards",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", loadavg_at_start: loadAtStart, loadavg_at_end: +loadavg()[0].toFixed(2) },
    runtime: `the API in one wrangler dev --local session (one workerd process); the ShareHolders coordinators in 1 or 2 further sessions (one workerd process each, a worker script of their own bound through a dev registry); 3 mpc-node processes (2-of-3 FROST ed25519 over libp2p); two orgs, ${CONCURRENCY} closed-loop @dfns/sdk clients each, generateSignature kind Message, a fresh wallet per org per arrangement`,
    arrangements: {
      one_object: "one ShareHolders object for the deployment, in one coordinator process, carrying both orgs",
      per_org_one_process: "one ShareHolders object per org, both in one coordinator process",
      per_org_processes: "one ShareHolders object per org, each in its own coordinator process",
    },
    seconds_per_arrangement: SECONDS,
    baseline_noble_ed25519_signatures_per_second: baseline.signatures_per_second,
    unlimited,
    coordinator_cpu_limited: LIMIT > 0 && Object.keys(limited).length > 0 ? { cores_per_coordinator_process: LIMIT, ...limited } : null,
    // Measured throughput, and the coordinators' own ceilings from their CPU per signature (steadier on a busy machine).
    speedup_per_org_processes_over_one_object: { unlimited: ratio(unlimited), coordinator_cpu_limited: ratio(limited) },
    coordinator_ceiling_ratio_per_org_processes_over_one_object: { unlimited: ceilingRatio(unlimited), coordinator_cpu_limited: ceilingRatio(limited) },
    errors: [...Object.values(unlimited), ...Object.values(limited)].filter(Boolean).flatMap((r) => r.orgs).reduce((a, o) => a + o.errors, 0),
  };
  console.log(
    `per-org processes / one object: ${result.speedup_per_org_processes_over_one_object.unlimited}× unlimited, ${result.speedup_per_org_processes_over_one_object.coordinator_cpu_limited ?? "-"}× with each coordinator process held to ${LIMIT} core (baseline one noble key: ${baseline.signatures_per_second}/s)`,
  );
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/coordinator-shards.json"), JSON.stringify(result, null, 2) + "\n");
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
  // The groups are empty once their processes are gone.
  for (const g of groups) {
    for (let i = 0; i < 20 && existsSync(g); i++) {
      try {
        rmdirSync(g);
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}
