// API overhead of layers 1–2 (authentication, user-action signing, permissions, audit) per request,
// measured over loopback HTTP against the Worker in local workerd (as deployed: the deploy bundle
// in one workerd, bench/measure.mjs benchEdge; TESSERA_EDGE_RUNTIME=wrangler-dev for wrangler
// dev), beside a baseline from the same run: the bare hello route (GET /, no auth), so loopback +
// runtime cost cancels out. Then the edge's CPU per operation (workerd, from /proc, operations run
// one after another), the figure a loaded machine inflates least. Writes bench/results/api-auth.json.
//
//   baseline            GET /                      no layer runs
//   authenticated read  GET /permissions/:id       JWT verify + org DO revocation check + permit + audit write + handler
//   user action         POST /auth/action/init, POST /auth/action (the two requests that obtain
//                       X-DFNS-USERACTION for a signature request; CPU only)
//   signed change       POST /auth/action/init, POST /auth/action, PUT /permissions/:id
//                       (the three requests an @dfns/sdk user-action call costs; timed as one;
//                       the PUT also appends to the org's governance log)
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { benchEdge, edgeUrl, edgeProcesses, edgeRuntime, processCpuMs } from "./measure.mjs";

register();
const { startLocalNetwork } = await import("../scripts/local-network.ts");

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WARMUP = 30;
const N_READ = Number(process.env.BENCH_N ?? 400);
const N_SIGNED = Math.max(50, Math.floor(N_READ / 4));

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3) };
}

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function ok(res) {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res.json();
}

const stateDir = mkdtempSync(join(tmpdir(), "tessera-bench-auth-"));
const net = await startLocalNetwork({ stateDir, edge: benchEdge(), chain: false, solana: false, bitcoin: false, log: () => {} });
const api = { base: edgeUrl(net), secret: net.bootstrapSecret };
const loadAtStart = +loadavg()[0].toFixed(2);
try {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const boot = await ok(
    await fetch(`${api.base}/admin/bootstrap`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ serviceAccount: { publicKey: publicKey.export({ type: "spki", format: "pem" }) } }),
    }),
  );
  const auth = { authorization: `Bearer ${boot.serviceAccount.accessToken}`, "content-type": "application/json" };
  const key = createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }));
  const permission = await (async () => {
    // The first signed call also creates the permission the signed-change loop updates.
    const body = JSON.stringify({ name: "bench", operations: ["Wallets:Read"] });
    return ok(await signedCall("POST", "/permissions", body));
  })();

  async function userAction(method, path, body) {
    const init = await ok(
      await fetch(`${api.base}/auth/action/init`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ userActionPayload: body, userActionHttpMethod: method, userActionHttpPath: path, userActionServerKind: "Api" }),
      }),
    );
    const clientData = Buffer.from(JSON.stringify({ type: "key.get", challenge: init.challenge }));
    const firstFactor = {
      kind: "Key",
      credentialAssertion: { credId: boot.serviceAccount.credId, clientData: clientData.toString("base64url"), signature: sign(undefined, clientData, key).toString("base64url") },
    };
    const { userAction } = await ok(
      await fetch(`${api.base}/auth/action`, { method: "POST", headers: auth, body: JSON.stringify({ challengeIdentifier: init.challengeIdentifier, firstFactor }) }),
    );
    return userAction;
  }

  async function signedCall(method, path, body) {
    return fetch(`${api.base}${path}`, { method, headers: { ...auth, "x-dfns-useraction": await userAction(method, path, body) }, body });
  }

  const baseline = [];
  const read = [];
  const signed = [];
  for (let i = 0; i < WARMUP; i++) {
    await ok(await fetch(`${api.base}/`));
    await ok(await fetch(`${api.base}/permissions`, { headers: auth }));
  }
  // Interleaved, so drift (GC, JIT, disk) affects every series alike.
  for (let i = 0; i < N_READ; i++) {
    baseline.push(await time(async () => ok(await fetch(`${api.base}/`))));
    read.push(await time(async () => ok(await fetch(`${api.base}/permissions/${permission.id}`, { headers: auth }))));
    if (i % Math.floor(N_READ / N_SIGNED) === 0) {
      signed.push(await time(async () => ok(await signedCall("PUT", `/permissions/${permission.id}`, JSON.stringify({ name: `bench ${i}` })))));
    }
  }
  // CPU per operation of the edge's workerd (the Worker and its Durable Objects), each operation
  // N_CPU times in a row, with the last one's batched audit line given time to be written.
  const workerd = edgeProcesses(net.pids().api).workerd;
  const N_CPU = Math.max(50, Math.floor(N_READ / 2));
  const cpu = {};
  const CPU_OPS = {
    hello: async () => ok(await fetch(`${api.base}/`)),
    authenticated_read: async () => ok(await fetch(`${api.base}/permissions/${permission.id}`, { headers: auth })),
    user_action_2_requests: () => userAction("POST", "/wallets/wa-00000-00000-0000000000/signatures", JSON.stringify({ kind: "Hash", hash: `0x${"ab".repeat(32)}` })),
    signed_change_3_requests: async () => ok(await signedCall("PUT", `/permissions/${permission.id}`, JSON.stringify({ name: `cpu ${Math.random()}` }))),
  };
  for (const [name, op] of Object.entries(CPU_OPS)) {
    const before = processCpuMs(workerd);
    for (let i = 0; i < N_CPU; i++) await op();
    await new Promise((r) => setTimeout(r, 200));
    cpu[name] = +((processCpuMs(workerd) - before) / N_CPU).toFixed(2);
  }
  const b = stats(baseline);
  const r = stats(read);
  const s = stats(signed);
  const result = {
    benchmark: "api-auth",
    date: new Date().toISOString(),
    runtime: `${edgeRuntime(net.edge)}, loopback HTTP, Node 22 fetch client, sequential requests`,
    load_average_1m_start: loadAtStart,
    load_average_1m_end: +loadavg()[0].toFixed(2),
    baseline_hello: b,
    authenticated_read: r,
    signed_change_3_requests: s,
    overhead: {
      authenticated_read_p50_ms: +(r.p50_ms - b.p50_ms).toFixed(3),
      authenticated_read_p99_ms: +(r.p99_ms - b.p99_ms).toFixed(3),
      signed_change_p50_ms: +(s.p50_ms - b.p50_ms).toFixed(3),
      signed_change_p99_ms: +(s.p99_ms - b.p99_ms).toFixed(3),
    },
    edge_cpu_ms_per_op: cpu,
    edge_cpu_note: "CPU time of the edge's workerd process (Worker + every Durable Object) per operation, from /proc (10 ms ticks averaged over the operations); the hello figure is what any request costs before a layer runs",
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/api-auth.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  await net.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
