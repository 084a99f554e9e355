// What the console test runs against: the whole local network as `npm start` runs it (the edge
// API under wrangler dev, three share-holder nodes, an anvil chain), on free ports with its
// state in a temporary folder, removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";

export interface ConsoleBackend {
  /** The API for Node-side calls (127.0.0.1). */
  apiUrl: string;
  /** The same server as the browser must name it: the passkeys' relying party is "localhost". */
  origin: string;
  chainUrl: string | null;
  bootstrapSecret: string;
  /** The share holders, to give them the org's root of trust (governLocalOrg). */
  nodes: LocalNetwork["nodes"];
  /** Recent output of the processes, for a failure's message. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Ports are picked free at run time, so on a busy machine another test may take one between the
 * pick and the listen: that one failure is retried with new ports, any other is reported.
 */
export async function startConsoleBackend(): Promise<ConsoleBackend> {
  try {
    return await startOnce();
  } catch (err) {
    if (!/EADDRINUSE|address already in use/.test((err as Error).message)) throw err;
    return startOnce();
  }
}

async function startOnce(): Promise<ConsoleBackend> {
  const stateDir = mkdtempSync(join(tmpdir(), "tessera-console-"));
  const lines: string[] = [];
  try {
    const network = await startLocalNetwork({
      stateDir,
      log: (source, line) => {
        lines.push(`[${source}] ${line}`);
        if (lines.length > 5000) lines.shift();
      },
    });
    return {
      apiUrl: network.apiUrl,
      origin: network.apiUrl.replace("127.0.0.1", "localhost"),
      chainUrl: network.chainUrl,
      bootstrapSecret: network.bootstrapSecret,
      nodes: network.nodes,
      log: () => lines.join("\n"),
      async stop() {
        await network.stop();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${lines.slice(-60).join("\n")}`);
  }
}
