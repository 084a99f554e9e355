import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { noteForNpmNode } from "../../scripts/node-runtime-note.mjs";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

describe("a quiet first install", () => {
  it("declares every dependency install script the lock file has (npm 11 allowScripts), so npm keeps running them", () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length))
      .sort();
    // node (the Node 22 binary), workerd, esbuild and anvil fetch platform binaries in their scripts.
    expect(withScripts).toEqual(["@foundry-rs/anvil", "esbuild", "node", "workerd"]);
    for (const name of withScripts) expect(pkg.allowScripts?.[name], name).toBe(true);
  });

  it("explains EBADENGINE when npm itself ran on an older Node, and says nothing on 22", () => {
    expect(noteForNpmNode("npm/11.19.1 node/v20.20.2 linux x64 workspaces/false")).toMatch(
      /system's Node v20\.20\.2.*EBADENGINE.*Node 22\.\d+\.\d+ from the `node` devDependency/,
    );
    expect(noteForNpmNode("npm/11.19.1 node/v22.23.3 linux x64 workspaces/false")).toBeUndefined();
    expect(noteForNpmNode(undefined)).toBeUndefined();
  });
});
