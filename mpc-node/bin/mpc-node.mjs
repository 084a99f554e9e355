#!/usr/bin/env node
// `mpc-node …`: the share-holder daemon's CLI, loaded from its TypeScript source through tsx so
// the source is the only copy. Needs Node 22 (node:sqlite, libp2p 3).
import { register } from "tsx/esm/api";

// node:sqlite prints an ExperimentalWarning on first use; the daemon's stdout is JSON lines and
// its stderr is for real problems, so that one warning is dropped.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === "string" ? warning : warning?.message ?? "";
  if (/SQLite is an experimental feature/.test(text)) return;
  emitWarning(warning, ...rest);
};

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
