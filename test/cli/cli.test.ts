// `npx tessera`: the CLI drives the API through the official SDK with .tessera/local.json.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { startLocalApi, type LocalApi } from "../api/local-api.js";

const run = promisify(execFile);
const bin = new URL("../../cli/bin/tessera.mjs", import.meta.url).pathname;

let api: LocalApi;
let dir: string;
let config: string;
beforeAll(async () => {
  api = await startLocalApi();
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
  config = join(dir, "local.json");
  await ensureLocalOrg({ baseUrl: api.baseUrl, bootstrapSecret: api.bootstrapSecret, file: config });
}, 120_000);
afterAll(async () => {
  await api?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tessera = async (...args: string[]) => JSON.parse((await run(process.execPath, [bin, "--config", config, ...args])).stdout) as Record<string, unknown>;

describe("tessera CLI", () => {
  it("invite creates a user with the root permission and prints the passkey registration link", async () => {
    const out = await tessera("invite", "alice@example.com");
    const link = new URL(String(out.registrationLink));
    expect(link.hostname).toBe("localhost");
    expect(link.pathname).toBe("/console/register");
    expect(link.searchParams.get("username")).toBe("alice@example.com");
    expect(link.searchParams.get("code")).toMatch(/.{6,}/);
    expect(link.searchParams.get("org")).toMatch(/^or-/);
    // The audit trail holds both signed user actions, with their evidence.
    const audit = (await tessera("audit")) as { items: { action: { method: string; path: string } }[] };
    const paths = audit.items.map((i) => `${i.action.method} ${i.action.path}`);
    expect(paths).toContain("POST /auth/users");
    expect(paths.some((p) => /^POST \/permissions\/pm-[^/]+\/assignments$/.test(p))).toBe(true);
  });

  it("refuses unknown commands and missing arguments with usage and exit code 2", async () => {
    await expect(run(process.execPath, [bin, "--config", config, "frobnicate"])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [bin, "--config", config, "sign"])).rejects.toMatchObject({ code: 2 });
  });
});
