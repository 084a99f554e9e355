// Runs every benchmark (bench/*.bench.mjs) one after another, each in its own Node 22 process,
// so one benchmark's warm JIT or heap does not colour the next one's figures.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file}`);
  const run = spawnSync(process.execPath, [join(here, file)], { stdio: "inherit" });
  if (run.status !== 0) {
    failed++;
    console.error(`${file} exited with ${run.status}`);
  }
}
// Every run ends with the summary table of whatever results exist now.
spawnSync(process.execPath, [join(here, "report.mjs")], { stdio: "inherit" });
console.log(`\n${benches.length - failed} benchmarks ran, ${failed} failed; results in bench/results/`);
process.exit(failed === 0 ? 0 : 1);
