// One local network per test file (scripts/local-network.ts: three share-holder node processes,
// optionally anvil, the edge API under wrangler dev), an organisation on it, and the readings the
// attack and fault suites compare before and after: what the API stores (wallets, signatures,
// transfers, policies, permissions, audit entries) and what each node did (its audit log lines).
// Clients: the unmodified @dfns/sdk, and test/api/client.ts's ApiClient for the raw wire (to keep,
// replay or misuse a user action, which the SDK never lets a caller do).
import { createPrivateKey, createPublicKey, sign as nodeSign } from "node:crypto";
import http from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg, recordLocalNodes } from "../../worker/src/admin/local-bootstrap.mjs";
import { governLocalOrg, startLocalNetwork, type LocalNetwork, type NetworkOptions } from "../../scripts/local-network.js";
import { ApiClient, type KeyCredential } from "../api/client.js";

// The SDK fetches with node-fetch over Node's global agent, which keeps sockets alive; after a
// pause of a few seconds (a test blocked on a child process) the dev server has closed them and
// the next request fails with "socket hang up". One connection per request instead.
http.globalAgent = new http.Agent({ keepAlive: false });

export interface LocalConfig {
  baseUrl: string;
  orgId: string;
  authToken: string;
  credId: string;
  privateKeyPem: string;
}

export interface LogLine {
  source: string;
  line: string;
  json: Record<string, unknown> | null;
}

export interface Rig {
  net: LocalNetwork;
  dir: string;
  cfg: LocalConfig;
  dfns: DfnsApiClient;
  /** The root service account on the raw wire. */
  root: ApiClient;
  logs: LogLine[];
  stop(): Promise<void>;
}

/** A P-256 key credential from a PKCS#8 PEM, signing as the SDK's keysigner does (DER ECDSA-SHA256). */
export function pemCredential(pem: string): KeyCredential {
  const key = createPrivateKey(pem);
  return {
    algorithm: "P-256",
    publicKeyPem: createPublicKey(key).export({ type: "spki", format: "pem" }).toString(),
    sign: async (data) => new Uint8Array(nodeSign("sha256", data, key)),
  };
}

export const nodeFetch = (input: string, init?: RequestInit) => fetch(input, init);

export async function startRig(prefix: string, options: Omit<NetworkOptions, "stateDir" | "log"> = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${prefix}-`));
  const logs: LogLine[] = [];
  const log = (source: string, line: string) => {
    let json: Record<string, unknown> | null = null;
    if (line.startsWith("{")) {
      try {
        json = JSON.parse(line) as Record<string, unknown>;
      } catch {
        json = null;
      }
    }
    logs.push({ source, line, json });
    if (logs.length > 20_000) logs.splice(0, 5_000);
  };
  let net: LocalNetwork | undefined;
  try {
    net = await startLocalNetwork({ stateDir: dir, log, ...options });
    const cfg = (await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") })) as LocalConfig;
    // As npm start does: the nodes hold the org's root of trust, and judge by its governance log.
    await governLocalOrg(net, cfg);
    recordLocalNodes(join(dir, "local.json"), net.nodes);
    const dfns = sdkClient(cfg.baseUrl, cfg.authToken, cfg.credId, cfg.privateKeyPem);
    const root = new ApiClient(nodeFetch, cfg.baseUrl, cfg.authToken, cfg.credId, pemCredential(cfg.privateKeyPem));
    const n = net;
    return {
      net: n,
      dir,
      cfg,
      dfns,
      root,
      logs,
      async stop() {
        await n.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export function sdkClient(baseUrl: string, authToken: string, credId: string, privateKeyPem: string): DfnsApiClient {
  return new DfnsApiClient({ baseUrl, authToken, signer: new AsymmetricKeySigner({ credId, privateKey: privateKeyPem }) });
}

/** Lines in each share holder's own audit log (one per ceremony or refusal it saw). */
export function nodeAuditLines(net: LocalNetwork): number[] {
  return net.nodes.map((n) => {
    const config = JSON.parse(readFileSync(n.configPath, "utf8")) as { dataDir: string };
    const file = join(resolve(dirname(n.configPath), config.dataDir), "audit.jsonl");
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
  });
}

/** Resolves with the first node log line (from index `from` on) matching `pred`. */
export async function waitForLog(rig: Rig, pred: (l: LogLine) => boolean, timeoutMs = 60_000, from = 0): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  let i = from;
  for (;;) {
    for (; i < rig.logs.length; i++) if (pred(rig.logs[i]!)) return rig.logs[i]!;
    if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function refusal(p: Promise<unknown>): Promise<DfnsError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof DfnsError) return err;
  throw new Error(`expected a DfnsError, got ${err === null ? "success" : String(err)}`);
}

export async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function getJson<T = Record<string, unknown>>(client: ApiClient, path: string): Promise<T> {
  const res = await client.get(path);
  if (res.status !== 200) throw new Error(`GET ${path} ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Everything a refused request must leave alone, as the API reports it: wallets, the signature and
 * transfer requests of the given wallets, policies (with versions), pending approvals,
 * permissions and their assignments. Audit entries are left out: refusals are audited.
 */
export async function apiState(client: ApiClient, walletIds: string[]): Promise<Record<string, unknown>> {
  const ids = (xs: { items: { id: string }[] }) => xs.items.map((x) => x.id).sort();
  const out: Record<string, unknown> = {};
  out.wallets = ids(await getJson(client, "/wallets?limit=500"));
  for (const w of walletIds) {
    out[`signatures ${w}`] = (await getJson<{ items: { id: string; status: string }[] }>(client, `/wallets/${w}/signatures?limit=500`)).items.map((s) => s.id).sort();
    out[`transfers ${w}`] = (await getJson<{ items: { id: string }[] }>(client, `/wallets/${w}/transfers?limit=100`)).items.map((t) => t.id).sort();
  }
  out.policies = (await getJson<{ items: { id: string; version?: number; status: string }[] }>(client, "/v2/policies?limit=100")).items.map((p) => `${p.id}@${p.version ?? ""}:${p.status}`).sort();
  out.approvals = (await getJson<{ items: { id: string; status: string }[] }>(client, "/v2/policy-approvals?limit=100")).items.map((a) => `${a.id}:${a.status}`).sort();
  const permissions = (await getJson<{ items: { id: string; operations: string[]; status?: string; name: string }[] }>(client, "/permissions?limit=100")).items;
  out.permissions = permissions.map((p) => `${p.id}:${p.name}:${p.status ?? ""}:${[...p.operations].sort().join(",")}`).sort();
  for (const p of permissions) out[`assignments ${p.id}`] = ids(await getJson(client, `/permissions/${p.id}/assignments`));
  return out;
}
