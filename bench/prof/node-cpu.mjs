// Where a share holder's CPU goes per participation, outside the MPC core. Three real mpc-node
// processes (each under `node --cpu-prof` unless NO_PROF=1), a coordinator in this process, a
// 2-of-3 ECDSA key, then N signatures the way the edge makes them with presignature pools:
// for each, one presigning ceremony (the pool refill) and one online signature from it, the
// signer pair rotating. Reports each node's CPU per participation (/proc; a participation =
// one presign + one online signature), the core's own CPU for the same two ceremonies per party
// (both parties in this process, no network), the difference (the node's overhead), and, from
// the profiles, self time by package/folder and by function inside the measured window.
//
//   N=150 node bench/prof/node-cpu.mjs            # profiles in $OUT (default /tmp/prof-node-cpu)
//   NO_PROF=1 N=300 node bench/prof/node-cpu.mjs  # figures only
//   MODE=sign  ...                               # plain three-round signatures instead (no presignatures)
//   MODE=online ...                              # the online signature only: presignatures made before the
//                                                # measured window, signatures assembled at the coordinator
//                                                # from the signers' partials (as the edge does)
//
// Summaries again later: node bench/prof/summarize.mjs $OUT/<file>.cpuprofile 40 --window $OUT/window.json --by-package
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { register } from "tsx/esm/api";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { processCpuMs } from "../measure.mjs";

register();
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (/SQLite/.test(typeof w === "string" ? w : w?.message ?? "") ? undefined : emitWarning(w, ...rest));
const OUT = process.env.OUT ?? "/tmp/prof-node-cpu";
const N = Number(process.env.N ?? 150);
const MODE = process.env.MODE ?? "presign";
const PROF = !process.env.NO_PROF;
if (PROF) rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
// The nodes inherit NODE_OPTIONS at spawn; this process was started without it.
if (PROF) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${OUT} --cpu-prof-interval=${process.env.PROF_INTERVAL ?? 200}`.trim();
const { LocalEdge } = await import("../../mpc-node/src/dev/local-edge.ts");
const { createCoordinatorHost, startLocalCluster } = await import("../../mpc-node/src/dev/local-cluster.ts");
const { MpcCoordinator } = await import("../../shared/src/mpc/coordinator.ts");
const { Ceremony, KeyShare, initMpc, presignLocally, randomSessionId, runLocally } = await import("../../wasm/index.ts");
const { NodeStore } = await import("../../mpc-node/src/storage/node-store.ts");
const { ShareVault } = await import("../../mpc-node/src/storage/share-vault.ts");
const { loadKek } = await import("../../mpc-node/src/secrets.ts");

const PAIRS = [[1, 2], [1, 3], [2, 3]];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const digestOf = (i) => sha256(new TextEncoder().encode(`prof ${i}`));

const edge = new LocalEdge("edge-prof", undefined, undefined, 120_000);
const { host, peerId } = await createCoordinatorHost();
const cluster = await startLocalCluster({ regions: ["eu", "us", "ap"], edge, coordinatorPeerIds: [peerId] });
delete process.env.NODE_OPTIONS;
let result;
const pidsByRegion = {};
try {
  const coordinator = new MpcCoordinator(host, { timeoutMs: 120_000, assemblePresigned: MODE === "online" });
  const keyId = "key-prof";
  const key = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(), threshold: 2 }) });
  // MODE=online: every presignature of the run made up front, outside the measured window.
  const ready = new Map();
  if (MODE === "online") {
    const ids = [...Array.from({ length: 30 }, (_, i) => -1 - i), ...Array.from({ length: N }, (_, i) => i)];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < ids.length) {
          const i = ids[next++];
          const parties = cluster.parties(PAIRS[((i % 3) + 3) % 3]);
          ready.set(i, (await coordinator.presign({ nodes: cluster.addresses(), authorization: edge.presign({ keyId, parties }) })).presignatureIds[0]);
        }
      }),
    );
  }
  const one = async (i) => {
    const pair = PAIRS[((i % 3) + 3) % 3];
    const parties = cluster.parties(pair);
    let presignature = ready.get(i);
    if (MODE === "presign") presignature = (await coordinator.presign({ nodes: cluster.addresses(), authorization: edge.presign({ keyId, parties }) })).presignatureIds[0];
    const authorization = edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties, body: { kind: "Hash", hash: `0x${bytesToHex(digestOf(i))}` }, ...(presignature ? { presignature } : {}) });
    await coordinator.sign({ nodes: cluster.addresses(), authorization, publicKey: key.publicKey });
    return pair;
  };
  for (let i = 0; i < 30; i++) await one(-1 - i);
  const pids = cluster.nodes.map((n) => n.child.pid);
  cluster.nodes.forEach((n) => (pidsByRegion[n.region] = n.child.pid));
  const participations = [0, 0, 0];
  const before = pids.map(processCpuMs);
  const self0 = process.cpuUsage();
  const w0 = nowUs();
  const t = performance.now();
  const latencies = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    for (const p of await one(i)) participations[p - 1]++;
    latencies.push(performance.now() - s);
  }
  const seconds = (performance.now() - t) / 1000;
  // An assembled signature returns before the signers finish their round and audit line.
  if (MODE === "online") await new Promise((r) => setTimeout(r, 500));
  const w1 = nowUs();
  const after = pids.map(processCpuMs);
  const self = process.cpuUsage(self0);
  writeFileSync(join(OUT, "window.json"), JSON.stringify({ startUs: w0, endUs: w1 }));

  // The core alone, same key, same ceremonies: two parties' shares in this process.
  await initMpc();
  const shares = cluster.nodes.slice(0, 2).map((n) => {
    const store = new NodeStore(join(n.dir, "node.db"), new ShareVault(loadKek(join(n.dir, "kek.secret"))), n.peerId);
    try {
      return KeyShare.import(store.share(keyId));
    } finally {
      store.close();
    }
  });
  const coreRuns = Math.min(N, 100);
  const c0 = process.cpuUsage();
  let o0;
  let onlineUs = 0;
  for (let i = 0; i < coreRuns; i++) {
    const message = digestOf(i);
    if (MODE === "presign" || MODE === "online") {
      const bytes = presignLocally(shares, [1, 2]).map((made) => made[0]);
      const sid2 = randomSessionId();
      // MODE=online counts the online ceremony only.
      if (MODE === "online") o0 = process.cpuUsage();
      const on = shares.map((share, k) => Ceremony.signPresigned({ share, sessionId: sid2, signers: [1, 2], message, presignature: bytes[k] }));
      runLocally(on);
      on[0].signature();
      on.forEach((c) => c.free());
      if (MODE === "online") {
        const o = process.cpuUsage(o0);
        onlineUs += o.user + o.system;
      }
    } else {
      const sid = randomSessionId();
      const cs = shares.map((share) => Ceremony.sign({ share, sessionId: sid, signers: [1, 2], message }));
      runLocally(cs);
      cs[0].signature();
      cs.forEach((c) => c.free());
    }
  }
  const c = process.cpuUsage(c0);
  const coreMsPerParty = (MODE === "online" ? onlineUs : c.user + c.system) / 1000 / coreRuns / 2;
  for (const s of shares) s.free();

  // The nodes' own timings of the measured signatures (their audit lines): checks until the
  // ceremony started (verifyMs, the claim and presignature spend synced included) and the ceremony.
  const measured = [];
  for (const n of cluster.nodes) {
    for (const line of readFileSync(join(n.dir, "audit.jsonl"), "utf8").trim().split("\n").slice(-(2 * N) / 3 | 0)) {
      const t = JSON.parse(line).entry.timings;
      if (t?.verifyMs !== undefined) measured.push(t);
    }
  }
  const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const perParticipation = Object.fromEntries(cluster.nodes.map((n, k) => [n.region, +((after[k] - before[k]) / participations[k]).toFixed(2)]));
  const mean = Object.values(perParticipation).reduce((a, b) => a + b, 0) / 3;
  const sorted = [...latencies].sort((a, b) => a - b);
  result = {
    mode: { presign: "presign + online signature per participation (the edge's pool path)", online: "online signature from a presignature per participation, assembled at the coordinator", sign: "three-round signature per participation" }[MODE],
    signatures: N,
    load_average_1m: +loadavg()[0].toFixed(2),
    profiled: PROF,
    seconds: +seconds.toFixed(2),
    latency_p50_ms: +sorted[Math.floor(sorted.length / 2)].toFixed(1),
    node_cpu_ms_per_participation: perParticipation,
    core_cpu_ms_per_party: +coreMsPerParty.toFixed(2),
    node_overhead_ms_per_participation: +(mean - coreMsPerParty).toFixed(2),
    node_timings_p50_ms: { verify_and_sync: p50(measured.map((t) => t.verifyMs)), ceremony: p50(measured.map((t) => t.ceremonyMs)), total: p50(measured.map((t) => t.totalMs)) },
    coordinator_cpu_ms_per_signature: +((self.user + self.system) / 1000 / N).toFixed(2),
  };
} finally {
  await cluster.stop();
  await host.stop();
}
console.log(JSON.stringify(result, null, 2));
if (PROF) {
  const nodePids = new Set(Object.values(pidsByRegion).map(String));
  for (const f of readdirSync(OUT).filter((f) => f.endsWith(".cpuprofile") && nodePids.has(f.split(".")[3]))) {
    console.log(`\n=== ${f}`);
    spawnSync(process.execPath, [join(import.meta.dirname, "summarize.mjs"), join(OUT, f), process.env.TOP ?? "30", "--window", join(OUT, "window.json"), "--by-package", "--no-idle"], { stdio: "inherit" });
  }
}
process.exit(0);
