// The edge API served by workerd itself, as a deployment serves it: the bundle `wrangler deploy`
// uploads (built by `wrangler deploy --dry-run --outdir`, scripts/local-network.ts), run by one
// workerd process through Miniflare's API, with wrangler.toml's Durable Object classes (SQLite,
// persisted in the state folder where `wrangler dev --persist-to` keeps them), vars and console
// assets (unstable_getMiniflareWorkerOptions reads them the way wrangler dev does).
//
// What it leaves out is `wrangler dev`'s own front: a second workerd process holding its proxy
// Worker (request buffering while it reloads, live-reload injection, its inspector proxy), one more
// loopback HTTP hop per request, and the dev-only middleware wrangler wraps the Worker in. None of
// that exists in a deployment, and it cost a request ≈ 2–7 ms of CPU on the same cores the edge
// needs (bench/results/edge-cpu.json). Clients connect to workerd's own socket: this Node process
// only started it, relays the Worker's console output, and hosts Miniflare's inspector proxy.
//
//   node scripts/edge-workerd.mjs <config.json>
//   config: { bundleDir, port, workerPort?, inspectorPort, persistTo, vars: { NAME: "value" } } (secrets: mode 600)
//
// Prints "Ready on http://127.0.0.1:<port>" once it serves. Stops workerd on SIGTERM/SIGINT and
// when its parent goes away (its stdin closes), so an edge never outlives the network that
// started it.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

// wrangler.toml's top-level environment (the one `wrangler dev` runs): bindings, Durable Object
// classes with SQLite, compatibility date and flags, module rules, the assets router's config.
const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"), "");

// The deploy bundle as one ES module. Its sourceURL makes the inspector name it by its file, so a
// profiler finds index.js.map beside it (bench/edge-profile.mjs), as under wrangler dev.
const entry = join(config.bundleDir, "index.js");
const contents = `${readFileSync(entry, "utf8")}\n//# sourceURL=${pathToFileURL(entry).href}\n`;

// The options in the shape unstable_getMiniflareWorkerOptions gives (Miniflare 4's), converted as
// wrangler dev converts its own.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: config.port,
    inspectorPort: config.inspectorPort,
    // Where `wrangler dev --persist-to <dir>` keeps state: the same Durable Object SQLite files.
    resourcePersistencePath: join(config.persistTo, "v3"),
    // The Request.cf placeholder (no network); this network has no other scripts to find.
    cf: false,
    enableDevRegistry: false,
    logRequests: false,
    log: new Log(LogLevel.WARN),
    // The Worker's console output, one line each, for the network's log.
    handleStructuredLogs: ({ level, message }) => (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${message}\n`),
    workers: [
      {
        ...workerOptions,
        // The script name wrangler dev gives it: Durable Object storage is keyed by it.
        name: "tessera",
        bindings: { ...workerOptions.bindings, ...config.vars },
        modulesRoot: config.bundleDir,
        modules: [{ type: "ESModule", path: entry, contents }],
        // The Worker's own socket besides Miniflare's: requests to it skip the entry Worker and the
        // assets router, the local stand-ins for Cloudflare's front end (LocalNetwork.workerUrl).
        ...(config.workerPort ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: config.workerPort }] } : {}),
      },
    ],
  }),
);

let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
};
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
process.stdin.on("close", () => void stop(0));
process.stdin.resume();

try {
  const url = await mf.ready;
  console.log(`Ready on ${url.origin}`);
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  await stop(1);
}
