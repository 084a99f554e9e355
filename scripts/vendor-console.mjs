// Copies the ES module build of @simplewebauthn/browser (the exact version package.json pins) into
// console/vendor/, where the Worker serves it with the rest of the console: the console loads no
// code from anywhere else. Runs on `npm install` (postinstall) and before the console's browser
// test; plain Node, no dependencies, safe to run again.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** @returns {{ version: string, directory: string }} what was copied, and where to */
export function vendorConsoleLibraries() {
  const pkg = join(root, "node_modules/@simplewebauthn/browser");
  if (!existsSync(join(pkg, "esm/index.js"))) throw new Error("@simplewebauthn/browser is not installed: run npm install");
  const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  const directory = join(root, "console/vendor/simplewebauthn-browser");
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  // Only what a browser runs (no .d.ts or source maps), and the licence that must travel with it.
  cpSync(join(pkg, "esm"), directory, { recursive: true, filter: (src) => !/\.d\.ts(\.map)?$|\.map$|package\.json$/.test(src) });
  cpSync(join(pkg, "LICENSE.md"), join(directory, "LICENSE.md"));
  return { version, directory };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { version, directory } = vendorConsoleLibraries();
  console.log(`console: @simplewebauthn/browser ${version} → ${directory.slice(root.length + 1)}/`);
}
