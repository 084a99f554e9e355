// Threshold signing through the share-holder nodes: three `mpc-node` processes on loopback (TCP
// between nodes, WebSockets from the coordinator, as the edge's Durable Object dials them), a
// 2-of-3 ECDSA (DKLs23) key, and the coordinator client in this process. Beside, from the same
// run and the same key: in-process signing (both parties' shares in this process, messages
// passed in memory — the MPC core alone) and single-key @noble/curves signing.
//
//   libp2p, sequential     one signature at a time, pairs rotating; latency p50/p99 as the
//                          coordinator sees it (authorization checks on both nodes, rounds over
//                          TCP, audit fsync, result verified with noble)
//   libp2p, 32 concurrent  32 sessions in flight at once; signatures per second
//   presigned online       the path the edge takes with a presignature pool: presignatures made
//                          beforehand (not measured), then one-round signatures, assembled at the
//                          coordinator from the signers' partials; latency, and node CPU per
//                          participation beside the core's own CPU for the online round, so the
//                          difference is the node layer's overhead (checks, claim + presignature
//                          spend + group commit, round statements, audit line, libp2p)
//   FROST ed25519          the same path with a scheme whose rounds cost a few ms: mostly the
//                          node layer's own overhead
//   presigned path         as the edge signs when its pools are full: presigning ceremonies of a
//                          batch of k presignatures (BENCH_PRESIGN_BATCH, default 8, the edge's
//                          default) and one online round per signature; node CPU per
//                          participation (presigning amortised + online signature) against the
//                          core's own CPU for the same work, and the same with k = 1 (one
//                          presignature per ceremony, as before batches) for comparison
//   in-process             runLocally() over the same shares (no network, no checks, no disk)
//   noble single key       secp256k1.sign of the same digests
//
// Writes bench/results/mpc-node.json. BENCH_N sets the sequential sample size (default 200).
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

register();
// Opening the nodes' stores uses node:sqlite, which warns once that it is experimental.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (/SQLite/.test(typeof w === "string" ? w : w?.message ?? "") ? undefined : emitWarning(w, ...rest));
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { LocalEdge } = await import("../mpc-node/src/dev/local-edge.ts");
const { createCoordinatorHost, startLocalCluster } = await import("../mpc-node/src/dev/local-cluster.ts");
const { MpcCoordinator } = await import("../shared/src/mpc/coordinator.ts");
const { Ceremony, KeyShare, initMpc, presignLocally, randomSessionId, runLocally } = await import("../wasm/index.ts");
const { NodeStore } = await import("../mpc-node/src/storage/node-store.ts");
const { ShareVault } = await import("../mpc-node/src/storage/share-vault.ts");
const { loadKek } = await import("../mpc-node/src/secrets.ts");

const N = Number(process.env.BENCH_N ?? 200);
const WARMUP = 20;
const CONCURRENCY = 32;
const N_CONCURRENT = Math.max(CONCURRENCY * 4, N);
const PAIRS = [[1, 2], [1, 3], [2, 3]];
const PRESIGN_BATCH = Number(process.env.BENCH_PRESIGN_BATCH ?? 8);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
};
/** CPU time (user + system, ms) a process has used so far, from /proc (10 ms ticks). */
const cpuMsOf = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
/** Each node's CPU per participation over a phase where every node took part in `participations` ceremonies. */
const nodeCpu = (pids, before, participations) => {
  const per = pids.map((pid, k) => (cpuMsOf(pid) - before[k]) / participations);
  return { per_node_ms: per.map((x) => +x.toFixed(1)), mean_ms: +(per.reduce((a, b) => a + b, 0) / per.length).toFixed(1) };
};
const digestOf = (i) => sha256(new TextEncoder().encode(`bench ${i}`));

const edge = new LocalEdge("edge-bench", undefined, undefined, 120_000);
const { host, peerId } = await createCoordinatorHost();
const cluster = await startLocalCluster({ regions: ["eu", "us", "ap"], edge, coordinatorPeerIds: [peerId] });
try {
  const coordinator = new MpcCoordinator(host, { timeoutMs: 120_000 });
  // As the edge's coordinator runs (TESSERA_ASSEMBLE_PRESIGNED on by default).
  const assembling = new MpcCoordinator(host, { timeoutMs: 120_000, assemblePresigned: true });
  const keyId = "key-bench";
  const t0 = performance.now();
  const key = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(), threshold: 2 }) });
  const keygenMs = performance.now() - t0;

  const signOverNetwork = async (i) => {
    const digest = digestOf(i);
    const pair = PAIRS[((i % PAIRS.length) + PAIRS.length) % PAIRS.length];
    const authorization = edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` } });
    const t = performance.now();
    await coordinator.sign({ nodes: cluster.addresses(), authorization, publicKey: key.publicKey });
    return performance.now() - t;
  };

  for (let i = 0; i < WARMUP; i++) await signOverNetwork(-1 - i);
  const pids = cluster.nodes.map((n) => n.child.pid);
  const sequential = [];
  let cpuBefore = pids.map(cpuMsOf);
  for (let i = 0; i < N; i++) sequential.push(await signOverNetwork(i));
  // Pairs rotate, so each node took part in 2 of every 3 signatures.
  const ecdsaNodeCpu = nodeCpu(pids, cpuBefore, (N * 2) / 3);

  // Presigned online signatures: every presignature made first (4 presigning ceremonies at a time,
  // outside the measurement), then N one-round signatures, one at a time, pairs rotating.
  const presignatures = new Map();
  {
    const ids = [...Array.from({ length: WARMUP }, (_, i) => -1 - i), ...Array.from({ length: N }, (_, i) => i)];
    let at = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (at < ids.length) {
          const i = ids[at++];
          const parties = cluster.parties(PAIRS[((i % PAIRS.length) + PAIRS.length) % PAIRS.length]);
          presignatures.set(i, (await coordinator.presign({ nodes: cluster.addresses(), authorization: edge.presign({ keyId, parties }) })).presignatureIds[0]);
        }
      }),
    );
  }
  const signPresigned = async (i) => {
    const pair = PAIRS[((i % PAIRS.length) + PAIRS.length) % PAIRS.length];
    const authorization = edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digestOf(200_000 + i))}` }, presignature: presignatures.get(i) });
    const t = performance.now();
    const r = await assembling.sign({ nodes: cluster.addresses(), authorization, publicKey: key.publicKey });
    const ms = performance.now() - t;
    if (!secp256k1.verify(hexToBytes(r.signature), digestOf(200_000 + i), hexToBytes(key.publicKey), { prehash: false })) throw new Error("a presigned signature does not verify");
    return ms;
  };
  for (let i = -WARMUP; i < 0; i++) await signPresigned(i);
  const presigned = [];
  cpuBefore = pids.map(cpuMsOf);
  for (let i = 0; i < N; i++) presigned.push(await signPresigned(i));
  // An assembled signature comes back before the signers finish their round and audit line.
  await new Promise((r) => setTimeout(r, 500));
  const presignedNodeCpu = nodeCpu(pids, cpuBefore, (N * 2) / 3);

  // 32 sessions in flight at all times until N_CONCURRENT signatures are done.
  let next = 0;
  const concurrentLatencies = [];
  const tc = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N_CONCURRENT) {
        const i = 100_000 + next++;
        concurrentLatencies.push(await signOverNetwork(i));
      }
    }),
  );
  const concurrentSeconds = (performance.now() - tc) / 1000;

  // The presigned path as deployed: per signer pair, a presigning ceremony of k presignatures
  // whenever its pool is empty, then each signature one online round from the pool. n is a
  // multiple of 3k, so every presignature made is used and each node took part in 2/3 of them.
  const presignedPath = async (k, n) => {
    const pools = new Map(PAIRS.map((p) => [p.join(), []]));
    const before = pids.map(cpuMsOf);
    const t = performance.now();
    const latencies = [];
    for (let i = 0; i < n; i++) {
      const pair = PAIRS[i % PAIRS.length];
      const pool = pools.get(pair.join());
      if (pool.length === 0) pool.push(...(await coordinator.presign({ nodes: cluster.addresses(), authorization: edge.presign({ keyId, parties: cluster.parties(pair), count: k }) })).presignatureIds);
      const digest = digestOf(200_000 + i);
      const authorization = edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` }, presignature: pool.shift() });
      const ts = performance.now();
      await assembling.sign({ nodes: cluster.addresses(), authorization, publicKey: key.publicKey });
      latencies.push(performance.now() - ts);
    }
    // An assembled signature comes back before the signers finish their round and audit line.
    await new Promise((r) => setTimeout(r, 500));
    return { batch: k, signatures: n, seconds: +((performance.now() - t) / 1000).toFixed(2), online_latency: stats(latencies), node_cpu: nodeCpu(pids, before, (n * 2) / 3) };
  };
  const roundUp = (x, m) => Math.ceil(x / m) * m;
  await presignedPath(PRESIGN_BATCH, 3 * PRESIGN_BATCH); // warm-up
  const presignedBatched = await presignedPath(PRESIGN_BATCH, roundUp(N, 3 * PRESIGN_BATCH));
  const presignedSingle = await presignedPath(1, roundUp(N, 3));

  // FROST ed25519 over the same path: its rounds cost a few ms, so this is mostly the node layer
  // (authorization and user-action checks, replay cache and audit fsync, libp2p round trips).
  const frostKey = "key-bench-frost";
  await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties(), threshold: 2 }) });
  const frost = [];
  for (let i = -WARMUP; i < N; i++) {
    if (i === 0) cpuBefore = pids.map(cpuMsOf);
    const pair = PAIRS[((i % PAIRS.length) + PAIRS.length) % PAIRS.length];
    const authorization = edge.sign({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties(pair), body: { kind: "Hash", hash: `0x${bytesToHex(digestOf(i))}` } });
    const t = performance.now();
    await coordinator.sign({ nodes: cluster.addresses(), authorization });
    if (i >= 0) frost.push(performance.now() - t);
  }
  const frostNodeCpu = nodeCpu(pids, cpuBefore, (N * 2) / 3);

  // The same key's shares, opened from two nodes' stores with their own KEKs, signing in memory.
  await initMpc();
  const shares = cluster.nodes.slice(0, 2).map((n) => {
    const store = new NodeStore(join(n.dir, "node.db"), new ShareVault(loadKek(join(n.dir, "kek.secret"))), n.peerId);
    try {
      return KeyShare.import(store.share(keyId));
    } finally {
      store.close();
    }
  });
  const inProcess = [];
  const inProcessCpu = [];
  for (let i = 0; i < N; i++) {
    const message = digestOf(i);
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const sessionId = randomSessionId();
    const cs = shares.map((share) => Ceremony.sign({ share, sessionId, signers: [1, 2], message }));
    runLocally(cs);
    cs[0].signature();
    inProcess.push(performance.now() - t);
    const cpu = process.cpuUsage(cpu0);
    inProcessCpu.push((cpu.user + cpu.system) / 1000);
    for (const c of cs) c.free();
  }

  // The core alone for the online round: presign in memory (not measured), then the one-round
  // signature from it, CPU per party.
  const inProcessOnlineCpu = [];
  for (let i = 0; i < N; i++) {
    const sessionId = randomSessionId();
    const bytes = presignLocally(shares, [1, 2]).map((made) => made[0]);
    const message = digestOf(300_000 + i);
    const cpu0 = process.cpuUsage();
    const cs = shares.map((share, k) => Ceremony.signPresigned({ share, sessionId, signers: [1, 2], message, presignature: bytes[k] }));
    runLocally(cs);
    cs[0].signature();
    const cpu = process.cpuUsage(cpu0);
    inProcessOnlineCpu.push((cpu.user + cpu.system) / 1000 / 2);
    for (const c of cs) c.free();
  }

  // The core's own CPU per party for the presigned path: a batch of k presignatures, then k
  // online signatures, per signature.
  const coreOfPresignedPath = (k, rounds) => {
    let cpuMs = 0;
    for (let r = 0; r < rounds; r++) {
      const cpu0 = process.cpuUsage();
      const made = presignLocally(shares, [1, 2], k);
      for (let i = 0; i < k; i++) {
        const message = digestOf(300_000 + i);
        const sessionId = randomSessionId();
        const on = shares.map((share, p) => Ceremony.signPresigned({ share, sessionId, signers: [1, 2], message, presignature: made[p][i] }));
        runLocally(on);
        on[0].signature();
        for (const c of on) c.free();
      }
      const cpu = process.cpuUsage(cpu0);
      cpuMs += (cpu.user + cpu.system) / 1000;
    }
    // Two parties in this process.
    return cpuMs / (rounds * k) / 2;
  };
  const coreBatched = coreOfPresignedPath(PRESIGN_BATCH, Math.max(3, Math.ceil(N / PRESIGN_BATCH / 2)));
  const coreSingle = coreOfPresignedPath(1, Math.max(3, Math.ceil(N / 2)));

  const sk = secp256k1.utils.randomSecretKey();
  const noble = [];
  for (let i = 0; i < Math.max(N, 1000); i++) {
    const d = digestOf(i);
    const t = performance.now();
    secp256k1.sign(d, sk, { prehash: false });
    noble.push(performance.now() - t);
  }

  const result = {
    benchmark: "mpc-node",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
    setup: "3 mpc-node processes on loopback (TCP between nodes, WebSockets from the coordinator), 2-of-3 DKLs23 ECDSA, pairs rotating, audit log fsync on, authorization + user action verified by every node, signature verified by the coordinator; presigned_online: presignatures made beforehand, one-round signatures assembled at the coordinator as the edge does",
    ecdsa_keygen_ms: +keygenMs.toFixed(0),
    load_average_1m: +loadavg()[0].toFixed(2),
    libp2p_sequential: stats(sequential),
    node_cpu_ms_per_participation_ecdsa: ecdsaNodeCpu,
    node_cpu_ms_per_participation_frost_ed25519: frostNodeCpu,
    libp2p_concurrent: { concurrency: CONCURRENCY, signatures: N_CONCURRENT, seconds: +concurrentSeconds.toFixed(2), signatures_per_second: +(N_CONCURRENT / concurrentSeconds).toFixed(1), latency: stats(concurrentLatencies) },
    libp2p_sequential_frost_ed25519: stats(frost),
    presigned_online: {
      path: "as deployed: presignature spent durably, one round between the signers, signature assembled at the coordinator from the partials and verified (noble)",
      latency: stats(presigned),
      node_cpu_ms_per_participation: presignedNodeCpu,
      core_cpu_ms_per_party: stats(inProcessOnlineCpu),
      node_overhead_ms_per_participation: +(presignedNodeCpu.mean_ms - stats(inProcessOnlineCpu).mean_ms).toFixed(1),
    },
    in_process_2_of_3: stats(inProcess),
    in_process_2_of_3_cpu: stats(inProcessCpu),
    // A node's CPU per ECDSA participation minus one party's half of the in-process (core only) CPU.
    node_overhead_ms_per_participation_ecdsa_three_round: +(ecdsaNodeCpu.mean_ms - stats(inProcessCpu).mean_ms / 2).toFixed(1),
    // As deployed: presigning in batches of k (amortised) + the online signature, per participation.
    presigned_path: {
      batched: { ...presignedBatched, core_cpu_ms_per_party: +coreBatched.toFixed(2) },
      one_per_ceremony: { ...presignedSingle, core_cpu_ms_per_party: +coreSingle.toFixed(2) },
    },
    node_overhead_ms_per_participation_ecdsa: +(presignedBatched.node_cpu.mean_ms - coreBatched).toFixed(1),
    node_overhead_ms_per_participation_ecdsa_one_presignature_per_ceremony: +(presignedSingle.node_cpu.mean_ms - coreSingle).toFixed(1),
    in_process_signatures_per_second: +(1000 / stats(inProcess).mean_ms).toFixed(1),
    noble_single_key: stats(noble),
    targets: { p50_ms: 15, signatures_per_second: 100, node_cpu_ms_per_participation_outside_core: 5, presigned_online_node_overhead_ms_per_participation: 5 },
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/mpc-node.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  for (const s of shares) s.free();
} finally {
  await host.stop();
  await cluster.stop();
}
// Stray handles (libp2p timers) must not keep the runner waiting.
process.exit(0);
