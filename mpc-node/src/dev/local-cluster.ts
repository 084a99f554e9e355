// A few share-holder nodes as real processes on loopback, for tests, the demo and the benchmark:
// each is initialised with the real CLI (`mpc-node init`), configured to know the others and the
// local edge, started with `mpc-node start`, and always killed at the end. Ports are picked free
// at run time. Also creates the coordinator's own libp2p host (WebSockets, as a Durable Object
// would use).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { webSockets } from "@libp2p/websockets";
import { bytesToHex } from "@noble/hashes/utils.js";
import { createLibp2p, type Libp2p } from "libp2p";
import type { Party } from "../../../shared/src/mpc/authorization.js";
import type { ShareHolderAddress } from "../../../shared/src/mpc/coordinator.js";
import { installQuietNoiseFrameDecoding } from "../../../shared/src/mpc/noise-frame-decoder.js";
import { installHalfWindowUpdates } from "../../../shared/src/mpc/yamux-window.js";
import type { LocalEdge } from "./local-edge.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const MPC_NODE_BIN = join(root, "mpc-node/bin/mpc-node.mjs");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    // Last resort if the caller forgets (or crashes): no node outlives this process.
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
}

export interface LogLine {
  event?: string;
  [k: string]: unknown;
}

export class ClusterNode {
  child: ChildProcess | null = null;
  readonly logs: LogLine[] = [];
  stderr = "";
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(
    readonly region: string,
    readonly dir: string,
    readonly peerId: string,
    readonly tcpPort: number,
    readonly wsPort: number,
  ) {}

  get configPath(): string {
    return join(this.dir, "config.json");
  }

  get address(): ShareHolderAddress {
    return { peerId: this.peerId, region: this.region, multiaddrs: [`/ip4/127.0.0.1/tcp/${this.wsPort}/ws`] };
  }

  /** Starts `mpc-node start`; resolves once it logged "ready". */
  async start(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) throw new Error(`${this.region} is already running`);
    const child = spawn(process.execPath, [MPC_NODE_BIN, "start", "--config", this.configPath], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    this.child = child;
    const firstLine = this.logs.length;
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { event: "text", text };
        }
        this.logs.push(line);
        for (const w of [...this.waiters]) {
          if (w.pred(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) => child.once("exit", (code, sig) => reject(new Error(`${this.region} exited (${code ?? sig}) before it was ready:\n${this.stderr}`))));
    exited.catch(() => {});
    await Promise.race([this.waitForLog((l) => l.event === "ready", timeoutMs, firstLine), exited]);
  }

  /** Resolves with the first log line (past, from line `from` on, or future) matching `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    const seen = this.logs.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { pred, resolve: (l: LogLine) => (clearTimeout(t), resolve(l)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.region}: no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  /** SIGKILL and wait for the process to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await gone;
  }

  /** SIGTERM (graceful), then SIGKILL after a while. */
  async stop(graceMs = 3_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT");
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(t);
  }

  /** Runs the CLI against this node's config (audit verify, info, …). */
  cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [MPC_NODE_BIN, ...args, "--config", this.configPath], { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
}

/** Runs the CLI in its own process and collects its output. */
export function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MPC_NODE_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}

export interface LocalCluster {
  nodes: ClusterNode[];
  root: string;
  parties(indices?: number[]): Party[];
  addresses(): ShareHolderAddress[];
  stop(): Promise<void>;
}

/**
 * Creates and starts `regions.length` nodes that know each other and accept `edge` (its
 * authorization key, and `coordinatorPeerIds` as the peers allowed to open ceremonies).
 */
export async function startLocalCluster(o: {
  regions: string[];
  edge: LocalEdge;
  coordinatorPeerIds: string[];
  timeouts?: { signMs?: number; keygenMs?: number };
  evmChainIds?: Record<string, number>;
  auditFsync?: boolean;
  /** Give each node an admin endpoint (GET /metrics, /status) on a free loopback port. */
  admin?: boolean;
}): Promise<LocalCluster> {
  const base = mkdtempSync(join(tmpdir(), "tessera-nodes-"));
  const nodes: ClusterNode[] = [];
  try {
    // `mpc-node init` for every node at once (each is a separate process).
    const created = await Promise.all(
      o.regions.map(async (region) => {
        const dir = join(base, region);
        const tcpPort = await freePort();
        const wsPort = await freePort();
        const init = await runCli(["init", "--dir", dir, "--region", region, "--tcp-port", String(tcpPort), "--ws-port", String(wsPort)]);
        if (init.status !== 0) throw new Error(`mpc-node init failed: ${init.stderr}`);
        const { peerId } = JSON.parse(init.stdout) as { peerId: string };
        return new ClusterNode(region, dir, peerId, tcpPort, wsPort);
      }),
    );
    nodes.push(...created);
    for (const n of nodes) {
      const config = JSON.parse(readFileSync(n.configPath, "utf8")) as Record<string, unknown>;
      config.peers = nodes.filter((m) => m !== n).map((m) => ({ peerId: m.peerId, multiaddrs: [`/ip4/127.0.0.1/tcp/${m.tcpPort}`], region: m.region }));
      config.edges = [{ id: o.edge.edgeId, authorizationKey: bytesToHex(o.edge.publicKey), peerIds: o.coordinatorPeerIds }];
      config.timeouts = { signMs: o.timeouts?.signMs ?? 30_000, keygenMs: o.timeouts?.keygenMs ?? 300_000 };
      if (o.evmChainIds) config.evmChainIds = o.evmChainIds;
      if (o.auditFsync === false) config.audit = { fsync: false };
      if (o.admin) config.admin = { listen: `127.0.0.1:${await freePort()}` };
      writeFileSync(n.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    }
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
  return {
    nodes,
    root: base,
    parties: (indices) => nodes.map((n, i) => ({ index: i + 1, peerId: n.peerId })).filter((p) => !indices || indices.includes(p.index)),
    addresses: () => nodes.map((n) => n.address),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The coordinator's libp2p node: WebSockets only, dialling out, like a Durable Object. */
export async function createCoordinatorHost(privateKey?: PrivateKey): Promise<{ host: Libp2p; peerId: string }> {
  const key = privateKey ?? (await generateKeyPair("Ed25519"));
  // The same transport behaviour as the edge's peer (worker/src/signing/edge-peer.ts).
  installHalfWindowUpdates();
  installQuietNoiseFrameDecoding();
  const host = await createLibp2p({
    privateKey: key,
    addresses: { listen: [] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Nodes busy in an ECDSA keygen answer keep-alive pings late; that must not cut the session.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionGater: { denyDialMultiaddr: () => false },
  });
  return { host, peerId: peerIdFromPrivateKey(key).toString() };
}
