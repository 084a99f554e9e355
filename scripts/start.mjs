// `npm start`: the whole local network in one command — the edge API (wrangler dev, local workerd),
// the share-holder nodes and an anvil chain. State lives under .tessera/ so a second start keeps it.
// Ctrl-C stops everything.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stateDir = join(root, ".tessera");
mkdirSync(stateDir, { recursive: true });

const API_PORT = Number(process.env.TESSERA_API_PORT ?? 8787);
const CHAIN_PORT = Number(process.env.TESSERA_CHAIN_PORT ?? 8545);
const children = [];

function launch(name, command, args, { env = {}, readyLine } = {}) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push({ name, child });
  return new Promise((resolve, reject) => {
    let settled = false;
    const onData = (chunk) => {
      const text = chunk.toString();
      for (const line of text.split("\n")) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
      if (!settled && readyLine && readyLine.test(text)) {
        settled = true;
        resolve(child);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`${name} exited with ${code} before it was ready`));
      } else if (!stopping) {
        console.error(`[${name}] exited with ${code}`);
      }
    });
    if (!readyLine) {
      settled = true;
      resolve(child);
    }
  });
}

let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping…");
  for (const { child } of children.reverse()) if (child.exitCode === null) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

const started = Date.now();
try {
  const anvilBin = join(root, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
  await launch("chain", anvilBin, ["--host", "127.0.0.1", "--port", String(CHAIN_PORT), "--state", join(stateDir, "anvil-state.json")], {
    readyLine: /Listening on/,
  });

  const nodeCli = join(root, "mpc-node/bin/mpc-node.mjs");
  if (!existsSync(nodeCli)) console.log("[nodes] share-holder nodes: not built yet (mpc-node/)");

  await launch(
    "api",
    join(root, "node_modules/.bin/wrangler"),
    ["dev", "--local", "--ip", "127.0.0.1", "--port", String(API_PORT), "--persist-to", join(stateDir, "wrangler"), "--show-interactive-dev-session=false"],
    { env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" }, readyLine: /Ready on/ },
  );

  const res = await fetch(`http://127.0.0.1:${API_PORT}/`);
  if (!res.ok) throw new Error(`API answered ${res.status}`);

  console.log(`
Tessera local network ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  API    http://127.0.0.1:${API_PORT}
  chain  http://127.0.0.1:${CHAIN_PORT} (anvil, chain id 31337)
  state  ${stateDir}

Try it:
  curl http://127.0.0.1:${API_PORT}/
Ctrl-C stops everything; the next npm start keeps all state.`);
} catch (err) {
  console.error(`start failed: ${err.message}`);
  await stopAll(1);
}
