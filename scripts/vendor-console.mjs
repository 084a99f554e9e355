// Copies the ES module build of @simplewebauthn/browser (the exact version package.json pins) into
// console/vendor/, where the Worker serves it with the rest of the console: the console loads no
// code from anywhere else. Runs on `npm install` (postinstall) and before the console's browser
// test; plain Node, no dependencies. When the copy is already exact it writes nothing, so a
// running `wrangler dev` (which watches console/) is not disturbed.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Only what a browser runs (no .d.ts, source maps or package.json). */
const served = (path) => !/\.d\.ts(\.map)?$|\.map$|package\.json$/.test(path);

/** @param {string} dir @returns {string[]} files under dir, relative to it */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** @param {Map<string, string>} wanted destination-relative path → source path @param {string} directory */
function upToDate(wanted, directory) {
  if (!existsSync(directory)) return false;
  const present = filesUnder(directory);
  if (present.length !== wanted.size || present.some((f) => !wanted.has(f))) return false;
  return present.every((f) => readFileSync(join(directory, f)).equals(readFileSync(/** @type {string} */ (wanted.get(f)))));
}

/** @returns {{ version: string, directory: string, copied: boolean }} what is vendored, where, and whether it had to be copied */
export function vendorConsoleLibraries() {
  const pkg = join(root, "node_modules/@simplewebauthn/browser");
  if (!existsSync(join(pkg, "esm/index.js"))) throw new Error("@simplewebauthn/browser is not installed: run npm install");
  const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  const directory = join(root, "console/vendor/simplewebauthn-browser");
  const wanted = new Map(filesUnder(join(pkg, "esm")).filter(served).map((f) => [f, join(pkg, "esm", f)]));
  // The licence travels with the code.
  wanted.set("LICENSE.md", join(pkg, "LICENSE.md"));
  if (upToDate(wanted, directory)) return { version, directory, copied: false };
  rmSync(directory, { recursive: true, force: true });
  for (const [to, from] of wanted) {
    mkdirSync(dirname(join(directory, to)), { recursive: true });
    cpSync(from, join(directory, to));
  }
  return { version, directory, copied: true };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { version, directory, copied } = vendorConsoleLibraries();
  console.log(`console: @simplewebauthn/browser ${version} ${copied ? "copied to" : "already in"} ${relative(root, directory)}/`);
}
