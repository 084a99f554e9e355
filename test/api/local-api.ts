// Starts the edge API as `npm start` does — `wrangler dev --local` (workerd on loopback) — on a
// free port with its state in a fresh temporary directory, and a bootstrap secret for this run.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../mpc-node/src/dev/local-cluster.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

export interface LocalApi {
  baseUrl: string;
  port: number;
  bootstrapSecret: string;
  stop(): Promise<void>;
}


/** `vars(port)`: extra `--var`s, e.g. WEBAUTHN_ORIGINS naming the port a browser will use. */
export async function startLocalApi(options: { vars?: (port: number) => Record<string, string> } = {}): Promise<LocalApi> {
  const port = await freePort();
  const extraVars = Object.entries(options.vars?.(port) ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const stateDir = mkdtempSync(join(tmpdir(), "tessera-api-"));
  const bootstrapSecret = randomBytes(24).toString("base64url");
  const child: ChildProcess = spawn(
    join(root, "node_modules/.bin/wrangler"),
    [
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
      "--var",
      `TESSERA_BOOTSTRAP_SECRET:${bootstrapSecret}`,
      ...extraVars,
    ],
    {
      cwd: root,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_UPDATE_NOTIFIER: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready after 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited with ${code}:\n${output}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    bootstrapSecret,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
