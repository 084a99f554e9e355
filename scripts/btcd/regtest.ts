// The local Bitcoin node: btcd (built pinned by ./install.mjs) on regtest, bound to 127.0.0.1,
// with the transaction and address indexes the edge uses to find a wallet's coins. Like anvil's
// automine, it makes blocks by itself: one as soon as the mempool has a transaction (polled every
// 200 ms) and one every 10 s regardless, so transfers confirm without anyone mining by hand. On a
// fresh chain it first mines past segwit/taproot activation (checked with getblockchaininfo) and
// coinbase maturity, so the miner's faucet (./regtest-miner.ts) can pay at once.
//
//   node --import tsx scripts/btcd/regtest.ts --data <dir> [--port <p>]
//     prints "Bitcoin regtest RPC listening on http://user:pass@127.0.0.1:<p>" when ready.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../mpc-node/src/dev/local-cluster.js";
import { ensureBtcd } from "./install.mjs";
import { bitcoinRpc, MINER_ADDRESS } from "./regtest-miner.js";

/** Blocks mined on a fresh chain: past activation (active from the start on btcd's regtest, checked) and 100 for coinbase maturity. */
const INITIAL_BLOCKS = 150;

export interface Regtest {
  /** JSON-RPC URL with credentials (network BitcoinRegtest). */
  url: string;
  rpc: ReturnType<typeof bitcoinRpc>;
  stop(): Promise<void>;
}

/** The RPC credentials of the node in `dataDir`, made once and kept there (mode 600). */
export function regtestCredentials(dataDir: string): { user: string; pass: string } {
  mkdirSync(dataDir, { recursive: true });
  const credsFile = join(dataDir, "rpc.json");
  if (!existsSync(credsFile)) writeFileSync(credsFile, JSON.stringify({ user: "tessera", pass: randomBytes(16).toString("hex") }) + "\n", { mode: 0o600 });
  return JSON.parse(readFileSync(credsFile, "utf8")) as { user: string; pass: string };
}

/** The JSON-RPC URL the node in `dataDir` answers on `port` (known before it starts). */
export function regtestUrl(dataDir: string, port: number): string {
  const creds = regtestCredentials(dataDir);
  return `http://${creds.user}:${creds.pass}@127.0.0.1:${port}`;
}

export async function startRegtest(o: {
  dataDir: string;
  port?: number;
  idleBlockMs?: number;
  log?: (line: string) => void;
  /** Called with btcd's process as soon as it is spawned (a launcher that must stop it whatever happens). */
  onSpawn?: (child: ChildProcess) => void;
}): Promise<Regtest> {
  const bin = ensureBtcd();
  const creds = regtestCredentials(o.dataDir);
  const port = o.port || (await freePort());
  const url = regtestUrl(o.dataDir, port);
  const child: ChildProcess = spawn(
    bin,
    [
      "--regtest",
      `--datadir=${join(o.dataDir, "data")}`,
      `--logdir=${join(o.dataDir, "logs")}`,
      "--notls",
      `--rpcuser=${creds.user}`,
      `--rpcpass=${creds.pass}`,
      `--rpclisten=127.0.0.1:${port}`,
      "--nolisten",
      "--txindex",
      "--addrindex",
      `--miningaddr=${MINER_ADDRESS}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  o.onSpawn?.(child);
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
    for (const line of d.toString().split("\n")) if (line.trim()) o.log?.(line);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));

  const rpc = bitcoinRpc(url);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`btcd exited with ${child.exitCode}:\n${output}`);
    try {
      await rpc("getblockcount");
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`btcd not answering on 127.0.0.1:${port} within 30 s (${(e as Error).message}):\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const height = await rpc<number>("getblockcount");
  if (height < INITIAL_BLOCKS) await rpc("generate", [INITIAL_BLOCKS - height]);
  for (let extra = 0; ; extra += 144) {
    const info = await rpc<{ bip9_softforks?: Record<string, { status: string }> }>("getblockchaininfo");
    const forks = info.bip9_softforks ?? {};
    if (forks.segwit?.status === "active" && forks.taproot?.status === "active") break;
    if (extra > 2_000) throw new Error(`segwit/taproot not active after ${INITIAL_BLOCKS + extra} blocks: ${JSON.stringify(forks)}`);
    await rpc("generate", [144]);
  }

  // Blocks by themselves: whenever the mempool holds something, and every idleBlockMs anyway.
  let stopped = false;
  child.once("exit", () => (stopped = true)); // killed by a launcher: the miner stops too
  let lastBlock = Date.now();
  const idle = o.idleBlockMs ?? 10_000;
  const miner = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 200));
      if (stopped) break;
      try {
        const pool = await rpc<string[]>("getrawmempool");
        if (pool.length > 0 || Date.now() - lastBlock >= idle) {
          await rpc("generate", [1]);
          lastBlock = Date.now();
        }
      } catch {
        // btcd busy or stopping: try again on the next tick
      }
    }
  })();

  return {
    url,
    rpc,
    async stop() {
      stopped = true;
      await miner;
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const dataDir = arg("data");
  if (!dataDir) {
    console.error("usage: regtest.ts --data <dir> [--port <port>]");
    process.exit(2);
  }
  const node = await startRegtest({ dataDir, port: Number(arg("port") ?? 0) });
  console.log(`Bitcoin regtest RPC listening on ${node.url}`);
  const quit = () => void node.stop().then(() => process.exit(0));
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
}
