#!/usr/bin/env node
// Builds btcd — the local Bitcoin full node (Go) — pinned, into a project-local folder, once:
//   GOBIN=.cache/btcd/<version> go install github.com/btcsuite/btcd@<version>
// The Go module proxy verifies the module against sum.golang.org, so the build is the published
// source of that tag. Later calls find the binary and return at once. Go comes from PATH, $GO, or
// /usr/local/go/bin/go.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BTCD_VERSION = "v0.24.2";
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const BTCD_DIR = join(root, ".cache/btcd", BTCD_VERSION);
export const BTCD_BIN = join(BTCD_DIR, "btcd");

function goBinary() {
  const candidates = [process.env.GO, "go", "/usr/local/go/bin/go", "/usr/lib/go/bin/go"].filter(Boolean);
  for (const c of candidates) {
    const r = spawnSync(c, ["version"], { stdio: "ignore" });
    if (r.status === 0) return c;
  }
  throw new Error("btcd is built from source with Go, and no Go toolchain was found (PATH, $GO, /usr/local/go/bin/go). Install Go ≥ 1.22 (Debian: apt-get install golang-go).");
}

/** The path of the pinned btcd binary, building it first when missing (about a minute). */
export function ensureBtcd({ quiet = false } = {}) {
  if (existsSync(BTCD_BIN)) return BTCD_BIN;
  const go = goBinary();
  // Build into a scratch folder and move the binary in place: parallel callers (test workers)
  // never see a half-written file, and the last one to finish simply replaces it with the same bytes.
  const scratch = `${BTCD_DIR}.build-${process.pid}`;
  mkdirSync(scratch, { recursive: true });
  if (!quiet) console.error(`building btcd ${BTCD_VERSION} with ${go} (once; about a minute)…`);
  try {
    execFileSync(go, ["install", `github.com/btcsuite/btcd@${BTCD_VERSION}`], {
      stdio: quiet ? "ignore" : ["ignore", "inherit", "inherit"],
      env: {
        ...process.env,
        GOBIN: scratch,
        // Module and build caches inside the project as well, so nothing outside it is required to be writable.
        GOPATH: process.env.GOPATH ?? join(root, ".cache/go"),
        GOCACHE: process.env.GOCACHE ?? join(root, ".cache/go-build"),
        GOFLAGS: "-modcacherw",
        CGO_ENABLED: "0",
      },
    });
    mkdirSync(BTCD_DIR, { recursive: true });
    renameSync(join(scratch, "btcd"), BTCD_BIN);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return BTCD_BIN;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(ensureBtcd());
}
