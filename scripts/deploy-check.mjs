// The production deploy, minus the upload: `wrangler deploy --dry-run --env production` bundles
// the Worker exactly as a deploy would, into a temporary directory; this then measures what
// Cloudflare would receive against its limits and exits non-zero when a limit is exceeded.
// Run by .ci/run; `node scripts/deploy-check.mjs` locally.
//
// Limits (developers.cloudflare.com/workers/platform/limits): a Worker's script, all modules
// together, at most 3 MiB gzip-compressed on the Free plan and 10 MiB on Paid, 64 MiB before
// compression; a static asset at most 25 MiB; 20,000 asset files per version on Free.
// We hold the Worker to the Free plan's 3 MiB so it deploys on either plan.
//
// The wasm MPC core: counted when the bundle contains it. Today the edge verifies every result
// with @noble/curves and the core runs in the nodes, so it is not bundled; the check also
// reports the size with the core added, and fails if even that would not fit, so moving the
// core to the edge can never surprise a deploy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const root = join(import.meta.dirname, "..");
const MiB = 1024 * 1024;
const LIMITS = { workerGzip: 3 * MiB, workerRaw: 64 * MiB, assetFile: 25 * MiB, assetFiles: 20_000 };

/** @param {string} dir @returns {string[]} */
const filesUnder = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (n, of) => `${((100 * n) / of).toFixed(1)} %`;

const outdir = mkdtempSync(join(tmpdir(), "tessera-deploy-"));
try {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--env", "production", "--outdir", outdir], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  // What is uploaded: every module wrangler wrote, not its source maps or its README.
  const modules = filesUnder(outdir).filter((f) => !/\.map$|README\.md$/.test(f));
  const bytes = Buffer.concat(modules.map((f) => readFileSync(f)));
  const raw = bytes.length;
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const bundledWasm = modules.filter((f) => f.endsWith(".wasm"));
  const core = readFileSync(join(root, "wasm/pkg/tessera_mpc_bg.wasm"));
  const withCore = bundledWasm.length > 0 ? gzip : gzipSync(Buffer.concat([bytes, core]), { level: 9 }).length;

  const assets = filesUnder(join(root, "console"));
  const largestAsset = Math.max(...assets.map((f) => statSync(f).size));

  const report = {
    modules: modules.map((f) => relative(outdir, f)),
    workerBytes: raw,
    workerGzipBytes: gzip,
    wasmCoreBundled: bundledWasm.length > 0,
    workerWithWasmCoreGzipBytes: withCore,
    assetFiles: assets.length,
    largestAssetBytes: largestAsset,
    limits: LIMITS,
  };
  const failures = [];
  if (gzip > LIMITS.workerGzip) failures.push(`Worker ${kib(gzip)} gzip > ${kib(LIMITS.workerGzip)}`);
  if (raw > LIMITS.workerRaw) failures.push(`Worker ${kib(raw)} uncompressed > ${kib(LIMITS.workerRaw)}`);
  if (withCore > LIMITS.workerGzip) failures.push(`Worker with the wasm core ${kib(withCore)} gzip > ${kib(LIMITS.workerGzip)}`);
  if (largestAsset > LIMITS.assetFile) failures.push(`an asset of ${kib(largestAsset)} > ${kib(LIMITS.assetFile)}`);
  if (assets.length > LIMITS.assetFiles) failures.push(`${assets.length} asset files > ${LIMITS.assetFiles}`);

  console.log(`deploy (dry run, env production): Worker ${kib(gzip)} gzip of ${kib(LIMITS.workerGzip)} (${pct(gzip, LIMITS.workerGzip)}), ${kib(raw)} uncompressed of ${kib(LIMITS.workerRaw)}`);
  console.log(
    bundledWasm.length > 0
      ? `  wasm core: bundled (${bundledWasm.map((f) => relative(outdir, f)).join(", ")})`
      : `  wasm core: not bundled (the edge verifies with @noble/curves); with it added ${kib(withCore)} gzip (${pct(withCore, LIMITS.workerGzip)})`,
  );
  console.log(`  console assets: ${assets.length} files of ${LIMITS.assetFiles}, largest ${kib(largestAsset)} of ${kib(LIMITS.assetFile)}`);
  console.log(JSON.stringify(report));
  if (failures.length > 0) {
    console.error(`deploy check failed: ${failures.join("; ")}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
