// One daemon per data folder: `node.pid` holds the running daemon's process id. Offline
// operations that change the store (key-encryption key rotation) refuse to run beside it. A
// file left by a crashed daemon names a dead (or unrelated) process and is ignored.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadedConfig } from "../config.js";

const lockPath = (config: LoadedConfig) => join(config.paths.dataDir, "node.pid");

/** The pid of a live daemon on this data folder, or null. */
export function runningPid(config: LoadedConfig): number | null {
  const path = lockPath(config);
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return null;
  }
  // After a crash the id may have been reused by an unrelated process: on Linux, only a process
  // running mpc-node counts.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("mpc-node") ? pid : null;
  } catch {
    return process.platform === "linux" ? null : pid;
  }
}

/** Claims the data folder for this process; throws if another live daemon holds it. */
export function claimDataDir(config: LoadedConfig): () => void {
  const other = runningPid(config);
  if (other !== null) throw new Error(`another mpc-node (pid ${other}) runs on ${config.paths.dataDir}`);
  writeFileSync(lockPath(config), `${process.pid}\n`, { mode: 0o600 });
  return () => rmSync(lockPath(config), { force: true });
}
