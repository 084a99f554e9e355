// `npx tessera`: the CLI drives the API through the official SDK with .tessera/local.json.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { freePort } from "../../mpc-node/src/dev/local-cluster.js";
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

  it("shows a long operation's stages on stderr; --json keeps both streams for scripts; exit 1 when the API refuses", async () => {
    // No share holders are configured for this API: the request gets as far as the key generation.
    const failed = await run(process.execPath, [bin, "--config", config, "wallets", "create", "--network", "KeyECDSA"]).catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    const stages = (failed as { stderr: string }).stderr.split("\n");
    const at = (re: RegExp) => stages.findIndex((l) => re.test(l));
    expect(at(/^… asking the API for a user-action challenge \[\d+\.\d s\]$/)).toBe(0);
    expect(at(/^… the challenge describes POST \/wallets and nothing else: signing it with your credential/)).toBe(1);
    expect(at(/^… the share holders are generating the key together/)).toBe(2);
    expect(at(/^error (409|503): /)).toBeGreaterThan(2);

    const quiet = await run(process.execPath, [bin, "--config", config, "--json", "wallets", "create", "--network", "KeyECDSA"]).catch((e: { code: number; stderr: string; stdout: string }) => e);
    expect(quiet).toMatchObject({ code: 1 });
    expect((quiet as { stderr: string }).stderr).not.toMatch(/^…/m);
    const listed = await run(process.execPath, [bin, "--config", config, "--json", "wallets", "list"]);
    expect(JSON.parse(listed.stdout)).toEqual({ items: [] });
    expect(listed.stderr).toBe("");
  });

  it("--text prints for people: a table with a header for lists", async () => {
    const out = await run(process.execPath, [bin, "--config", config, "--text", "audit"]);
    const [header, ...rows] = out.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s{2,}/);
    expect(rows.length).toBeGreaterThan(0);
    expect(() => JSON.parse(out.stdout)).toThrow();
  });

  it("exits 4 when the API cannot be reached", async () => {
    const unreachable = join(dir, "unreachable.json");
    const saved = JSON.parse(readFileSync(config, "utf8")) as Record<string, unknown>;
    writeFileSync(unreachable, JSON.stringify({ ...saved, baseUrl: `http://127.0.0.1:${await freePort()}` }));
    const err = await run(process.execPath, [bin, "--config", unreachable, "wallets", "list"]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 4 });
    expect((err as { stderr: string }).stderr).toMatch(/the API could not be reached \(ECONNREFUSED\)/);
  });

  it("refuses unknown commands and missing arguments with usage and exit code 2", async () => {
    await expect(run(process.execPath, [bin, "--config", config, "frobnicate"])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [bin, "--config", config, "sign"])).rejects.toMatchObject({ code: 2 });
  });
});
