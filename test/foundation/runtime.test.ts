import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("node runtime", () => {
  it("runs tests on Node 22", () => {
    expect(process.versions.node.split(".")[0]).toBe("22");
  });

  it("runs npm scripts on Node 22 (the node package on PATH)", () => {
    const out = execFileSync("npm", ["exec", "--", "node", "--version"], { encoding: "utf8" });
    expect(out.trim()).toMatch(/^v22\./);
  });
});
