// The whole local network as real processes: three share-holder nodes (regions eu, us, ap), an
// anvil chain, a Solana validator (scripts/solana-validator.ts: litesvm behind standard JSON-RPC),
// a Bitcoin regtest btcd (scripts/btcd/regtest.ts: mines by itself)
// and the edge API in local workerd — under `wrangler dev`, or as a deployment runs it: the bundle
// `wrangler deploy` uploads, served by one workerd process (scripts/edge-workerd.mjs; NetworkOptions.edge). Used by `npm start` (fixed ports, state kept under .tessera/), by the
// end-to-end tests (free ports, a temp folder) and by the benchmarks.
//
// Secrets are generated once per state folder and kept there (mode 600): the edge's
// authorization key and libp2p seed, the bootstrap secret, and each node's identity and
// key-encryption key (written by `mpc-node init`). Nothing is shared through the repository.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createPublicKey, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { freePort } from "../mpc-node/src/dev/local-cluster.js";
import { ensureBtcd } from "./btcd/install.mjs";
import { regtestUrl, startRegtest } from "./btcd/regtest.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MPC_NODE = join(root, "mpc-node/bin/mpc-node.mjs");
const WRANGLER = join(root, "node_modules/.bin/wrangler");
const EDGE_WORKERD = join(root, "scripts/edge-workerd.mjs");
const ANVIL = join(root, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
const SOLANA_VALIDATOR = join(root, "scripts/solana-validator.ts");

export const REGIONS = ["eu", "us", "ap"] as const;
export const ANVIL_CHAIN_ID = 31337;

export interface NetworkOptions {
  stateDir: string;
  /** Fixed ports (npm start) or 0 for free ones (tests). */
  apiPort?: number;
  chainPort?: number;
  nodeBasePort?: number;
  /** Start anvil too (default true). */
  chain?: boolean;
  /** Start the local Solana validator too (default true); fixed port or 0 for a free one. */
  solana?: boolean;
  solanaPort?: number;
  /** Start the local Bitcoin node (btcd regtest, scripts/btcd/regtest.ts) too (default true); fixed RPC port or 0 for a free one. */
  bitcoin?: boolean;
  bitcoinPort?: number;
  /** Milliseconds per Solana slot (default 400, as on the real clusters). */
  solanaSlotMs?: number;
  threshold?: number;
  /**
   * The edge↔node hop over TLS (wss): a self-signed certificate for 127.0.0.1 is made in the
   * state folder, the nodes listen on "/tls/ws" with it, and workerd trusts it
   * (NODE_EXTRA_CA_CERTS, which miniflare hands to workerd).
   */
  tls?: boolean;
  /**
   * How the edge API runs, both in local workerd with the same Worker code, Durable Object classes
   * (SQLite, persisted under the state folder's wrangler/) and vars:
   * - "workerd": what a deployment runs. `wrangler deploy --dry-run --outdir` bundles the Worker
   *   as a deploy would (once per network; restartApi reuses it) and scripts/edge-workerd.mjs
   *   serves that bundle from one workerd process (Miniflare's API, options from wrangler.toml as
   *   `wrangler dev` reads them). Clients connect to workerd itself.
   * - "wrangler-dev": `wrangler dev --local`, which puts its dev proxy in front of the Worker: a
   *   second workerd process and one more loopback hop per request, ≈ 2 ms of CPU for a bare
   *   request and ≈ 7 ms per API signature (bench/results/edge-cpu.json), absent from any
   *   deployment; it rebuilds from source on every (re)start.
   * Default: TESSERA_EDGE_RUNTIME from the environment, else "wrangler-dev" (the benches pass
   * "workerd": bench/measure.mjs benchEdge). Coordinator processes
   * (`coordinators` > 0) always run under `wrangler dev`: they find each other through its dev registry.
   */
  edge?: EdgeRuntime;
  /** Extra --var settings for the edge API (e.g. POLICY_USD_PRICES for policy tests). */
  vars?: Record<string, string>;
  /**
   * Serve the ShareHolders coordinator objects from this many workerd processes of their own
   * instead of the API's (default 0: one process for everything, as `wrangler dev` runs it).
   * Cloudflare runs each object on a machine it picks; locally one workerd process runs every
   * object on one thread. Each process is a `wrangler dev` session of its own worker script
   * (tessera-coordinator-<n>, the same code), bound to the API's script and the API to it
   * through a dev registry in the state folder; which process holds which object is
   * TESSERA_COORDINATOR_PLACEMENT (worker/src/signing/share-holders.ts). For bench/coordinator-shards.
   */
  coordinators?: number;
  /**
   * Benchmarks: the local port `from` ("edge" or a node's region) dials to reach node `to`'s
   * `port` (its TCP port for nodes, its websocket port for the edge) — e.g. a proxy that delays
   * the hop (bench/wan.bench.mjs). Default: the port itself.
   */
  route?: (from: string, to: string, port: number) => Promise<number>;
  log?: (source: string, line: string) => void;
}

export type EdgeRuntime = "workerd" | "wrangler-dev";

export interface LocalNetwork {
  apiUrl: string;
  /**
   * The Worker's own socket (edge "workerd" only, else null): the same Worker and Durable Objects
   * as apiUrl, without the two Workers Miniflare puts in front of it in the same workerd process
   * (its entry Worker and the assets router for /console/), which stand in for Cloudflare's front
   * end and cost no deployed Worker CPU (≈ 0.6 ms per request here). The benches measure the edge
   * through it (bench/measure.mjs edgeUrl); the console and everything else use apiUrl.
   */
  workerUrl: string | null;
  /** How the edge API runs now (NetworkOptions.edge; "wrangler-dev" while coordinator processes run). */
  edge: EdgeRuntime;
  chainUrl: string | null;
  /** The local Solana validator's JSON-RPC (network SolanaLocal), when started. */
  solanaUrl: string | null;
  /** The local btcd's JSON-RPC with its credentials (network BitcoinRegtest), when started. */
  bitcoinUrl: string | null;
  stateDir: string;
  nodes: { region: string; peerId: string; dir: string; configPath: string; process: ChildProcess }[];
  bootstrapSecret: string;
  stop(): Promise<void>;
  /** Stops one node (SIGKILL) or starts it again: for fault tests. */
  killNode(region: string): Promise<void>;
  startNode(region: string): Promise<void>;
  /**
   * Stops the edge API and starts it again on the same port with the same state folder: for fault
   * tests. `crash` SIGKILLs the edge's processes (wrangler or scripts/edge-workerd.mjs, and the
   * workerd under it) instead of SIGTERM; `vars` changes --var settings from then on (e.g. a bench
   * comparing two configurations), `env` the edge's environment (e.g. NODE_EXTRA_CA_CERTS),
   * `coordinators` the coordinator processes (NetworkOptions.coordinators).
   */
  restartApi(o?: { crash?: boolean; vars?: Record<string, string>; env?: Record<string, string>; coordinators?: number }): Promise<void>;
  /** The edge's V8 inspector (Miniflare's inspector proxy, or wrangler dev --inspector-port): GET /json lists its Worker targets (the Worker's id is core:user:tessera under workerd), for profilers (bench/edge-profile.mjs). */
  inspectorPort: number;
  /**
   * Process ids of the edge API (the Node process that started it — scripts/edge-workerd.mjs or
   * wrangler — and what it started: one workerd, or two under wrangler dev), of each coordinator
   * process's session (NetworkOptions.coordinators; same shape), of anvil and of the Solana validator.
   */
  pids(): { api: number[]; coordinators: number[][]; chain: number | null; solana: number | null };
}

/**
 * Gives every node the org's root of trust out of band (`mpc-node orgs add`), as an operator
 * would: the public key of the root service account whose private key the caller holds, and the
 * org's immutable all-operations permission. From then on the nodes believe about the org only
 * what its governance log, signed under that root, says. Idempotent.
 */
export async function governLocalOrg(net: Pick<LocalNetwork, "nodes">, cfg: { baseUrl: string; orgId: string; authToken: string; privateKeyPem: string }): Promise<void> {
  // SPKI DER in hex: one argument, no line breaks.
  const rootKey = createPublicKey(cfg.privateKeyPem).export({ type: "spki", format: "der" }).toString("hex");
  const res = await fetch(`${cfg.baseUrl}/permissions`, { headers: { authorization: `Bearer ${cfg.authToken}` } });
  if (!res.ok) throw new Error(`cannot list permissions: ${res.status} ${await res.text()}`);
  const root = ((await res.json()) as { items: { id: string; isImmutable?: boolean }[] }).items.find((p) => p.isImmutable);
  if (!root) throw new Error("the org has no immutable root permission");
  // One process per node, all at once (each loads the TypeScript CLI).
  await Promise.all(
    net.nodes.map(
      (n) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [MPC_NODE, "orgs", "add", cfg.orgId, "--root", rootKey, "--root-permission", root.id, "--config", n.configPath], { stdio: ["ignore", "ignore", "pipe"] });
          let stderr = "";
          child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
          child.on("error", reject);
          child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`mpc-node orgs add (${n.region}) failed: ${stderr}`))));
        }),
    ),
  );
}

/** Every live process under `pid` (from /proc), children first-level to leaves. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

// One free-port picker for every launcher: the node cluster's.
export { freePort };

interface EdgeSecrets {
  edgeId: string;
  authorizationKey: string;
  peerSeed: string;
  bootstrapSecret: string;
}

function edgeSecrets(stateDir: string): EdgeSecrets {
  const file = join(stateDir, "edge.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as EdgeSecrets;
  const s: EdgeSecrets = {
    edgeId: "edge-local",
    authorizationKey: bytesToHex(randomBytes(32)),
    peerSeed: bytesToHex(randomBytes(32)),
    bootstrapSecret: randomBytes(24).toString("base64url"),
  };
  writeFileSync(file, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
  return s;
}

/** A self-signed certificate (P-256) for 127.0.0.1 and localhost, made once per state folder. */
export function selfSignedCertificate(stateDir: string): { cert: string; key: string } {
  const dir = join(stateDir, "tls");
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const made = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=tessera local share holder", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", key, "-out", cert],
    { encoding: "utf8" },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.error?.message ?? made.stderr}`);
  return { cert, key };
}

/**
 * The Worker as `wrangler deploy` uploads it (wrangler.toml's top-level environment: one ES module
 * and its source map), built into `outdir` by wrangler itself — no bundler settings of our own
 * that could drift from a deploy's. For NetworkOptions.edge "workerd".
 */
export function buildEdgeBundle(outdir: string, log: (source: string, line: string) => void = () => {}): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    // wrangler's own entry under this Node (22, as the repository pins), not whichever is on PATH.
    const child = spawn(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--env=", "--outdir", outdir], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_UPDATE_NOTIFIER: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split("\n")) if (line.trim()) log("edge build", line);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 && existsSync(join(outdir, "index.js")) ? resolve(outdir) : reject(new Error(`wrangler deploy --dry-run failed (${code}):\n${output.slice(-4000)}`))));
  });
}

/** The script name of the `n`th coordinator process (NetworkOptions.coordinators). */
export const coordinatorScript = (n: number) => `tessera-coordinator-${n}`;

/**
 * wrangler.toml split for `count` coordinator processes, as JSON configs in the state folder: the
 * API's script, whose SHARE_HOLDERS (and SHARE_HOLDERS_<n>) are the coordinators' objects, and one
 * script per coordinator process, whose other objects are the API's. Same code, same classes.
 */
async function splitWranglerConfig(stateDir: string, count: number): Promise<{ api: string; coordinators: string[] }> {
  const { experimental_readRawConfig } = await import("wrangler");
  const raw = experimental_readRawConfig({ config: join(root, "wrangler.toml") }).rawConfig as Record<string, unknown> & {
    durable_objects: { bindings: { name: string; class_name: string; script_name?: string }[] };
    assets?: { directory: string };
  };
  const { env: _environments, ...base } = raw;
  const common = { ...base, main: join(root, String(raw.main)) };
  const dir = join(stateDir, "coordinator-configs");
  mkdirSync(dir, { recursive: true });
  const bindings = raw.durable_objects.bindings;
  const api = {
    ...common,
    ...(raw.assets ? { assets: { ...raw.assets, directory: join(root, raw.assets.directory) } } : {}),
    durable_objects: {
      bindings: bindings.flatMap((b) =>
        b.class_name !== "ShareHolders"
          ? [b]
          : Array.from({ length: count }, (_, i) => ({ name: i === 0 ? b.name : `${b.name}_${i + 1}`, class_name: b.class_name, script_name: coordinatorScript(i + 1) })),
      ),
    },
  };
  const apiFile = join(dir, "api.json");
  writeFileSync(apiFile, JSON.stringify(api, null, 2) + "\n");
  const coordinators = Array.from({ length: count }, (_, i) => {
    const file = join(dir, `${coordinatorScript(i + 1)}.json`);
    const { assets: _assets, ...withoutAssets } = common as typeof common & { assets?: unknown };
    const config = {
      ...withoutAssets,
      name: coordinatorScript(i + 1),
      durable_objects: { bindings: bindings.map((b) => (b.class_name === "ShareHolders" ? b : { ...b, script_name: String(raw.name) })) },
    };
    writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
    return file;
  });
  return { api: apiFile, coordinators };
}

interface NodeInfo {
  region: string;
  dir: string;
  configPath: string;
  peerId: string;
  tcpPort: number;
  wsPort: number;
}

async function prepareNodes(stateDir: string, basePort: number | undefined): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  for (const [i, region] of REGIONS.entries()) {
    const dir = join(stateDir, "nodes", region);
    const configPath = join(dir, "config.json");
    if (!existsSync(configPath)) {
      const tcpPort = basePort ? basePort + 2 * i : await freePort();
      const wsPort = basePort ? basePort + 2 * i + 1 : await freePort();
      const init = spawnSync(process.execPath, [MPC_NODE, "init", "--dir", dir, "--region", region, "--host", "127.0.0.1", "--tcp-port", String(tcpPort), "--ws-port", String(wsPort)], {
        encoding: "utf8",
      });
      if (init.status !== 0) throw new Error(`mpc-node init (${region}) failed: ${init.stderr}`);
    }
    const config = JSON.parse(readFileSync(configPath, "utf8")) as { listen: { tcp: string; ws?: string } };
    const info = spawnSync(process.execPath, [MPC_NODE, "info", "--config", configPath], { encoding: "utf8" });
    if (info.status !== 0) throw new Error(`mpc-node info (${region}) failed: ${info.stderr}`);
    const { peerId } = JSON.parse(info.stdout) as { peerId: string };
    const port = (ma: string | undefined) => Number(/\/tcp\/(\d+)/.exec(ma ?? "")?.[1]);
    out.push({ region, dir, configPath, peerId, tcpPort: port(config.listen.tcp), wsPort: port(config.listen.ws) });
  }
  return out;
}

/** Waits for a line matching `ready` on the child's output; rejects if it exits first. */
export function waitReady(name: string, child: ChildProcess, ready: RegExp, timeoutMs: number, log: (s: string, l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const t = setTimeout(() => finish(new Error(`${name} not ready within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      if (err) reject(err);
      else resolve();
    };
    const recent: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        log(name, line);
        recent.push(line);
        if (recent.length > 20) recent.shift();
        if (ready.test(line)) finish();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    // Its last words go into the error: "address already in use" is retried by the caller.
    child.once("exit", (code) => setTimeout(() => finish(new Error(`${name} exited with ${code} before it was ready:\n${recent.join("\n")}`)), 50));
  });
}

/**
 * Starts the network. Ports picked free at run time can be taken by another process between
 * the pick and the listen (tests start several networks at once on a busy machine): when that
 * happens to a network whose node folders this call created, it is retried with new ports.
 */
export async function startLocalNetwork(o: NetworkOptions): Promise<LocalNetwork> {
  // Only the node folders are made again on a retry: their ports were picked here. Ports the
  // caller fixed (API, chain) are kept; a fixed port that is taken fails again, as it should.
  const fresh = !existsSync(join(o.stateDir, "nodes")) && o.nodeBasePort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNetworkOnce(o);
    } catch (e) {
      const portRace = /EADDRINUSE|address already in use/i.test((e as Error).message);
      if (!fresh || !portRace || attempt >= 3) throw e;
      (o.log ?? (() => {}))("network", `port taken while starting (attempt ${attempt}); retrying with new ports`);
      rmSync(join(o.stateDir, "nodes"), { recursive: true, force: true });
      rmSync(join(o.stateDir, "wrangler"), { recursive: true, force: true });
    }
  }
}

async function startNetworkOnce(o: NetworkOptions): Promise<LocalNetwork> {
  const log = o.log ?? (() => {});
  mkdirSync(o.stateDir, { recursive: true });
  const secrets = edgeSecrets(o.stateDir);
  const edgePeerId = peerIdFromPrivateKey(await generateKeyPairFromSeed("Ed25519", hexToBytes(secrets.peerSeed))).toString();
  const edgePublicKey = bytesToHex(ed25519.getPublicKey(hexToBytes(secrets.authorizationKey)));
  const nodes = await prepareNodes(o.stateDir, o.nodeBasePort);

  const tls = o.tls ? selfSignedCertificate(o.stateDir) : null;
  // Every node knows the others (tcp) and accepts exactly this edge.
  const via = (from: string, to: string, port: number) => (o.route ? o.route(from, to, port) : Promise.resolve(port));
  for (const n of nodes) {
    const config = JSON.parse(readFileSync(n.configPath, "utf8")) as Record<string, unknown> & { listen: { tcp: string; ws?: string } };
    if (tls) {
      config.listen.ws = `/ip4/127.0.0.1/tcp/${n.wsPort}/tls/ws`;
      config.tls = { certFile: tls.cert, keyFile: tls.key };
    }
    config.peers = await Promise.all(nodes.filter((m) => m !== n).map(async (m) => ({ peerId: m.peerId, multiaddrs: [`/ip4/127.0.0.1/tcp/${await via(n.region, m.region, m.tcpPort)}`], region: m.region })));
    config.edges = [{ id: secrets.edgeId, authorizationKey: edgePublicKey, peerIds: [edgePeerId] }];
    config.evmChainIds = { Anvil: ANVIL_CHAIN_ID };
    // The nodes value amounts for the org's policies with their own prices: here, the edge's.
    const prices = o.vars?.POLICY_USD_PRICES ? (JSON.parse(o.vars.POLICY_USD_PRICES) as Record<string, string | number>) : {};
    const authorization = (config.authorization ?? {}) as Record<string, unknown>;
    config.authorization = { ...authorization, policyPrices: Object.fromEntries(Object.entries(prices).map(([k, v]) => [k, String(v)])) };
    writeFileSync(n.configPath, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  }

  const edge: EdgeRuntime = o.edge ?? (process.env.TESSERA_EDGE_RUNTIME === "workerd" ? "workerd" : "wrangler-dev");
  let coordinatorCount = o.coordinators ?? 0;
  // Built once per network, beside the nodes' start; every (re)start of the edge serves it.
  let bundle: Promise<string> | null = null;
  const edgeBundle = () => {
    bundle ??= buildEdgeBundle(join(o.stateDir, "edge-bundle"), log);
    return bundle;
  };
  if (edge === "workerd" && coordinatorCount === 0) edgeBundle().catch(() => undefined); // awaited when the edge starts

  const children: { name: string; child: ChildProcess }[] = [];
  const running = new Map<string, ChildProcess>();
  const startNode = async (region: string) => {
    const n = nodes.find((m) => m.region === region);
    if (!n) throw new Error(`no node ${region}`);
    const child = spawn(process.execPath, [MPC_NODE, "start", "--config", n.configPath], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push({ name: `node ${region}`, child });
    running.set(region, child);
    await waitReady(`node ${region}`, child, /"event":"ready"/, 30_000, log);
  };
  const stop = async () => {
    const alive = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    // What each launcher started (wrangler's or edge-workerd.mjs's workerd), taken now: a launcher
    // killed before it stopped its workerd must not leave that workerd serving.
    const under = alive.flatMap(({ child }) => descendants(child.pid!));
    for (const { child } of [...alive].reverse()) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 800));
    for (const { child } of alive) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const pid of under) {
      try {
        if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  };

  try {
    // btcd starts beside everything else (it mines its first blocks meanwhile): its URL is known
    // before it answers, and the network is returned only once it does.
    let bitcoinUrl: string | null = null;
    let bitcoinReady: Promise<void> = Promise.resolve();
    if (o.bitcoin !== false) {
      ensureBtcd(); // built once per machine (about a minute), then cached in .cache/btcd
      const port = o.bitcoinPort || (await freePort());
      const dataDir = join(o.stateDir, "btcd");
      bitcoinUrl = regtestUrl(dataDir, port);
      // btcd is this process's child (like anvil), its miner a loop here: nothing is left running
      // when the network stops, however it stops.
      bitcoinReady = startRegtest({ dataDir, port, log: (line) => log("bitcoin", line), onSpawn: (child) => children.push({ name: "bitcoin", child }) }).then(() => undefined);
      bitcoinReady.catch(() => undefined); // awaited before the network is returned; a failure surfaces there
    }

    let chainUrl: string | null = null;
    let chainChild: ChildProcess | undefined;
    if (o.chain !== false) {
      const chainPort = o.chainPort || (await freePort());
      const anvil = spawn(ANVIL, ["--host", "127.0.0.1", "--port", String(chainPort), "--state", join(o.stateDir, "anvil-state.json")], { stdio: ["ignore", "pipe", "pipe"] });
      children.push({ name: "chain", child: anvil });
      chainChild = anvil;
      await waitReady("chain", anvil, /Listening on/, 30_000, log);
      chainUrl = `http://127.0.0.1:${chainPort}`;
    }

    let solanaUrl: string | null = null;
    let solanaChild: ChildProcess | undefined;
    if (o.solana !== false) {
      const port = o.solanaPort || (await freePort());
      const args = ["--import", "tsx", SOLANA_VALIDATOR, "--port", String(port), "--state", join(o.stateDir, "solana-state.bin"), "--slot-ms", String(o.solanaSlotMs ?? 400)];
      solanaChild = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      children.push({ name: "solana", child: solanaChild });
      await waitReady("solana", solanaChild, /JSON-RPC listening on/, 30_000, log);
      solanaUrl = `http://127.0.0.1:${port}`;
    }

    await Promise.all(nodes.map((n) => startNode(n.region)));

    const apiPort = o.apiPort || (await freePort());
    const workerPort = edge === "workerd" && coordinatorCount === 0 ? await freePort() : null;
    const shareHolders = {
      threshold: o.threshold ?? 2,
      nodes: await Promise.all(nodes.map(async (n, i) => ({ index: i + 1, peerId: n.peerId, multiaddrs: [`/ip4/127.0.0.1/tcp/${await via("edge", n.region, n.wsPort)}/${tls ? "tls/ws" : "ws"}`], region: n.region }))),
    };
    const vars: Record<string, string> = {
      TESSERA_BOOTSTRAP_SECRET: secrets.bootstrapSecret,
      TESSERA_SHARE_HOLDERS: JSON.stringify(shareHolders),
      TESSERA_EDGE_AUTH_KEY: secrets.authorizationKey,
      TESSERA_EDGE_PEER_SEED: secrets.peerSeed,
      TESSERA_EDGE_ID: secrets.edgeId,
      WEBAUTHN_ORIGINS: [apiPort, ...(workerPort ? [workerPort] : [])].map((p) => `http://localhost:${p},http://127.0.0.1:${p}`).join(","),
      ...(chainUrl ? { ANVIL_RPC_URL: chainUrl } : {}),
      ...(solanaUrl ? { SOLANA_LOCAL_RPC_URL: solanaUrl } : {}),
      ...(bitcoinUrl ? { BITCOIN_REGTEST_RPC_URL: bitcoinUrl } : {}),
      ...o.vars,
    };
    const apiEnv: Record<string, string> = tls ? { NODE_EXTRA_CA_CERTS: tls.cert } : {};
    const inspectorPort = await freePort();
    let api: ChildProcess;
    let coordinatorSessions: ChildProcess[] = [];
    /** One `wrangler dev` session: the API's (no config: wrangler.toml) or a coordinator process's. */
    const session = async (name: string, s: { config?: string; port: number; inspector: number; persist: string; registry?: string }) => {
      const child = spawn(
        WRANGLER,
        [
          "dev",
          "--local",
          ...(s.config ? ["--config", s.config] : []),
          "--ip",
          "127.0.0.1",
          "--port",
          String(s.port),
          "--inspector-port",
          String(s.inspector),
          "--persist-to",
          s.persist,
          "--show-interactive-dev-session=false",
          ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
        ],
        {
          cwd: root,
          env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...(s.registry ? { WRANGLER_REGISTRY_PATH: s.registry } : {}), ...apiEnv },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      children.push({ name, child });
      await waitReady(name, child, /Ready on/, 60_000, log);
      return child;
    };
    /** The deploy bundle served by one workerd process (NetworkOptions.edge "workerd"). */
    const direct = async (name: string, s: { port: number; inspector: number; persist: string }) => {
      // The vars carry the edge's secrets: a file only this user reads, not a command line.
      const config = join(o.stateDir, "edge-workerd.json");
      writeFileSync(config, JSON.stringify({ bundleDir: await edgeBundle(), port: s.port, workerPort, inspectorPort: s.inspector, persistTo: s.persist, vars }), { mode: 0o600 });
      // stdin stays open: the edge stops when this process goes, however it goes.
      const child = spawn(process.execPath, [EDGE_WORKERD, config], { cwd: root, env: { ...process.env, ...apiEnv }, stdio: ["pipe", "pipe", "pipe"] });
      children.push({ name, child });
      await waitReady(name, child, /Ready on/, 60_000, log);
      return child;
    };
    const startApi = async () => {
      if (coordinatorCount === 0) {
        const persist = join(o.stateDir, "wrangler");
        api = edge === "workerd" ? await direct("api", { port: apiPort, inspector: inspectorPort, persist }) : await session("api", { port: apiPort, inspector: inspectorPort, persist });
        coordinatorSessions = [];
        return;
      }
      // This network's own registry: other networks on the machine run scripts named "tessera" too.
      const registry = join(o.stateDir, "dev-registry");
      const configs = await splitWranglerConfig(o.stateDir, coordinatorCount);
      coordinatorSessions = await Promise.all(
        configs.coordinators.map(async (config, i) =>
          session(`coordinator ${i + 1}`, { config, port: await freePort(), inspector: await freePort(), persist: join(o.stateDir, `wrangler-${coordinatorScript(i + 1)}`), registry }),
        ),
      );
      api = await session("api", { config: configs.api, port: apiPort, inspector: inspectorPort, persist: join(o.stateDir, "wrangler"), registry });
    };
    await startApi();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await bitcoinReady;

    return {
      apiUrl,
      get workerUrl() {
        return workerPort && coordinatorCount === 0 ? `http://127.0.0.1:${workerPort}` : null;
      },
      get edge() {
        return coordinatorCount === 0 ? edge : "wrangler-dev";
      },
      chainUrl,
      solanaUrl,
      bitcoinUrl,
      stateDir: o.stateDir,
      nodes: nodes.map((n) => ({ region: n.region, peerId: n.peerId, dir: n.dir, configPath: n.configPath, process: running.get(n.region)! })),
      bootstrapSecret: secrets.bootstrapSecret,
      inspectorPort,
      stop,
      killNode: async (region) => {
        const child = running.get(region);
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await gone;
      },
      startNode,
      restartApi: async (r = {}) => {
        for (const child of [api, ...coordinatorSessions]) {
          if (child.exitCode !== null || child.signalCode !== null) continue;
          const under = descendants(child.pid!);
          const gone = new Promise((res) => child.once("exit", res));
          if (r.crash) {
            for (const pid of [child.pid!, ...under]) {
              try {
                process.kill(pid, "SIGKILL");
              } catch {
                // already gone
              }
            }
          } else child.kill("SIGTERM");
          await gone;
          // The launcher's workerd must be gone too before the port is taken again.
          const deadline = Date.now() + 10_000;
          while (under.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
          for (const pid of under) if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
        }
        Object.assign(vars, r.vars);
        Object.assign(apiEnv, r.env);
        if (r.coordinators !== undefined) coordinatorCount = r.coordinators;
        await startApi();
      },
      pids: () => {
        const tree = (child: ChildProcess) => (child.exitCode === null && child.signalCode === null ? [child.pid!, ...descendants(child.pid!)] : []);
        return { api: tree(api), coordinators: coordinatorSessions.map(tree), chain: chainChild?.pid ?? null, solana: solanaChild?.pid ?? null };
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
