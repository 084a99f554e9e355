// Rotating the key-encryption key (KEK) that seals the node's shares at rest. With the node
// stopped: a new random KEK is written beside the old one ("<kekFile>.next", mode 600), every
// share (current and retired) is re-sealed under it in one database transaction, then the new
// file replaces the old (rename). A crash at any point leaves a state `rotateKek` finishes on
// its next run: it checks which of the two keys opens the shares. The old KEK is gone afterwards;
// backups of node.db taken before the rotation still need it (see docs/operating-a-node.md).
//
// When the KEK comes from TESSERA_MPC_KEK instead of a file, the new KEK is written to `out`
// and the operator puts it into the secret store that sets the variable.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { LoadedConfig } from "../config.js";
import { KEK_ENV, loadKek } from "../secrets.js";
import { NodeStore } from "../storage/node-store.js";
import { ShareVault } from "../storage/share-vault.js";
import { runningPid } from "./node-lock.js";

export interface RotationResult {
  keys: number;
  retired: number;
  kek: string;
  resumed: boolean;
}

function writeSecret(path: string, kek: Uint8Array): void {
  writeFileSync(path, `${Buffer.from(kek).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  const fd = openSync(path, "r");
  fsyncSync(fd);
  closeSync(fd);
}

function syncDir(path: string): void {
  const fd = openSync(dirname(path), "r");
  fsyncSync(fd);
  closeSync(fd);
}

/** Whether `kek` opens every share in the store (true for an empty store). */
function opensAll(config: LoadedConfig, peerId: string, kek: Uint8Array): boolean {
  const store = new NodeStore(config.paths.database, new ShareVault(kek), peerId);
  try {
    store.resealAll(new ShareVault(kek)); // opens each share; re-sealing under the same key is harmless
    return true;
  } catch {
    return false;
  } finally {
    store.close();
  }
}

export function rotateKek(config: LoadedConfig, peerId: string, o: { out?: string; env?: NodeJS.ProcessEnv } = {}): RotationResult {
  const env = o.env ?? process.env;
  const pid = runningPid(config);
  if (pid !== null) throw new Error(`the node is running (pid ${pid}); stop it before rotating its key-encryption key`);

  if (env[KEK_ENV]) {
    if (!o.out) throw new Error(`the key-encryption key comes from ${KEK_ENV}: pass --out <file> for the new one, then put it in ${KEK_ENV}`);
    const next = new Uint8Array(randomBytes(32));
    writeSecret(o.out, next);
    const store = new NodeStore(config.paths.database, new ShareVault(loadKek(null, env)), peerId);
    try {
      return { ...store.resealAll(new ShareVault(next)), kek: o.out, resumed: false };
    } finally {
      store.close();
    }
  }

  const kekPath = config.paths.kek;
  if (!kekPath) throw new Error(`no key-encryption key configured (kekFile or ${KEK_ENV})`);
  const nextPath = `${kekPath}.next`;
  let resumed = false;
  if (existsSync(nextPath)) {
    // An earlier rotation stopped part-way: finish it if the shares are already under the new key.
    const next = loadKek(nextPath, {});
    if (opensAll(config, peerId, next) && !opensAll(config, peerId, loadKek(kekPath, {}))) {
      renameSync(nextPath, kekPath);
      syncDir(kekPath);
      const store = new NodeStore(config.paths.database, new ShareVault(next), peerId);
      const counts = { keys: store.keyCount(), retired: 0 };
      store.close();
      return { ...counts, kek: kekPath, resumed: true };
    }
    rmSync(nextPath);
    resumed = true;
  }
  const current = loadKek(kekPath, {});
  const next = new Uint8Array(randomBytes(32));
  writeSecret(nextPath, next);
  const store = new NodeStore(config.paths.database, new ShareVault(current), peerId);
  let counts: { keys: number; retired: number };
  try {
    counts = store.resealAll(new ShareVault(next));
  } catch (e) {
    rmSync(nextPath, { force: true });
    throw e;
  } finally {
    store.close();
  }
  renameSync(nextPath, kekPath);
  syncDir(kekPath);
  if (readFileSync(kekPath, "utf8").trim() !== Buffer.from(next).toString("base64")) throw new Error("the new key-encryption key was not written");
  return { ...counts, kek: kekPath, resumed };
}
