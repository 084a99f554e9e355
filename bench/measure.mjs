// Measurements several benchmarks take the same way, so their figures stay comparable.
import { readFileSync } from "node:fs";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** The same-run baseline: `n` single-key @noble/curves secp256k1 signatures of random digests, ms each, after 200 unmeasured to warm the JIT. */
export function nobleSecp256k1SignMs(n) {
  const sk = secp256k1.utils.randomSecretKey();
  const ms = [];
  for (let i = 0; i < 200 + n; i++) {
    const d = crypto.getRandomValues(new Uint8Array(32));
    const t = performance.now();
    secp256k1.sign(d, sk, { prehash: false });
    if (i >= 200) ms.push(performance.now() - t);
  }
  return ms;
}

/** CPU time (user + system) a process has used so far, in ms (from /proc/<pid>/stat, 100 Hz ticks); null once it is gone. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * The edge's processes by what they are, from a network's pids().api (scripts/local-network.ts):
 * "workerd", the one running the Worker and its Durable Objects (the one with the V8 inspector);
 * under wrangler dev also "wrangler dev proxy (workerd)", the dev proxy in front of it that no
 * deployment has; and the Node processes that started them. Every one of them takes CPU from the
 * same cores, so a bench counts them all.
 */
export function edgeProcesses(pids) {
  const out = {};
  for (const pid of pids) {
    let comm;
    let args;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone meanwhile
    }
    if (comm.includes("workerd")) {
      out[args.some((a) => a.startsWith("--inspector")) ? "workerd" : "wrangler dev proxy (workerd)"] = pid;
    } else if (comm.startsWith("node")) {
      const script = args.find((a) => /\.(m?js|ts)$/.test(a)) ?? "";
      const name = script.endsWith("edge-workerd.mjs")
        ? "edge-workerd.mjs (node)"
        : script.endsWith("bin/wrangler.js")
          ? "wrangler launcher (node)"
          : script.includes("wrangler-dist")
            ? "wrangler (node)"
            : `edge node ${pid}`;
      out[name] = pid;
    } else out[`edge ${comm} ${pid}`] = pid;
  }
  return out;
}

/**
 * Where a bench sends its API requests: the Worker's own socket when the edge is one workerd
 * (LocalNetwork.workerUrl), so the figures hold what a deployed Worker spends and not Miniflare's
 * entry Worker and assets router in front of it (≈ 0.6 ms of CPU per request, three per API
 * signature); otherwise the network's API address.
 */
export function edgeUrl(net) {
  return net.workerUrl ?? net.apiUrl;
}

/** What ran the edge, for a result's runtime line (LocalNetwork.edge). */
export function edgeRuntime(edge) {
  return edge === "wrangler-dev"
    ? "wrangler dev --local (local workerd behind wrangler's dev proxy, a second workerd)"
    : "local workerd serving the Worker as `wrangler deploy` bundles it (scripts/edge-workerd.mjs: one workerd process, no dev proxy)";
}

/**
 * How the benches run the edge (NetworkOptions.edge): as a deployment runs it, the deploy bundle in
 * one workerd process with nothing in front — what the targets are about. The figures of
 * `wrangler dev` (its proxy workerd, inspector and watcher cost CPU no deployment spends) are one
 * TESSERA_EDGE_RUNTIME=wrangler-dev away, for comparison.
 */
export function benchEdge() {
  return process.env.TESSERA_EDGE_RUNTIME === "wrangler-dev" ? "wrangler-dev" : "workerd";
}
