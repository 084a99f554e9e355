// A real anvil (@foundry-rs/anvil, pinned) on a free loopback port, for Node tests.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const ANVIL_BIN = join(root, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");

export interface Anvil {
  url: string;
  port: number;
  /** JSON-RPC straight to anvil (test set-up: funding, mining control, balances). */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

export async function startAnvil(extraArgs: string[] = []): Promise<Anvil> {
  const child: ChildProcess = spawn(ANVIL_BIN, ["--host", "127.0.0.1", "--port", "0", ...extraArgs], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil not listening after 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with ${code}:\n${output}`));
    });
  });
  return {
    ...anvilAt(`http://127.0.0.1:${port}`),
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** JSON-RPC to an anvil someone else started (e.g. the local network's chain). */
export function anvilAt(url: string): Pick<Anvil, "url" | "rpc"> {
  let id = 1;
  return {
    url,
    async rpc<T>(method: string, params: unknown[] = []): Promise<T> {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: id++, method, params }) });
      const body = (await res.json()) as { result?: T; error?: { message: string } };
      if (body.error) throw new Error(`${method}: ${body.error.message}`);
      return body.result as T;
    },
  };
}
