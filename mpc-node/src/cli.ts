// `mpc-node` — the share-holder daemon's command line.
//
//   mpc-node init --dir <dir> --region <r> [--host 127.0.0.1] [--tcp-port 4100] [--ws-port 4101] [--admin-port 9464]
//   mpc-node start --config <file>
//   mpc-node info --config <file>
//   mpc-node join verify --request <file> [--index n]   (an operator's signed join request → config entries)
//   mpc-node status --config <file>             (peers, keys, last ceremonies, bans; live when running)
//   mpc-node kek rotate --config <file> [--out <file>]   (node stopped: re-seal every share under a new KEK)
//   mpc-node audit verify --config <file>        (this node's log against its recorded head)
//   mpc-node audit verify --export <file>        (an exported log, against the peer id inside)
//   mpc-node audit verify ... --against <peer export>[,<peer export>…]
//                                                (and against the heads of this log that other nodes
//                                                 signed into their own logs: a rewritten or truncated
//                                                 chain no longer contains them)
//   mpc-node audit export --config <file> [--out <file>]
//   mpc-node orgs add <orgId> --root <public key: PEM file, PEM text or SPKI hex> [--root-permission <id>] --config <file>
//   mpc-node orgs show <orgId> --config <file>
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { peerIdFromString } from "@libp2p/peer-id";
import { bytesToHex } from "@noble/hashes/utils.js";
import { parsePublicKeyPem } from "../../shared/src/dfns/public-key.js";
import { spkiHex } from "../../shared/src/governance/log.js";
import { loadConfig } from "./config.js";
import { GovernanceBook } from "./governance/book.js";
import { faultFromEnv } from "./dev/faults.js";
import { configEntries, createJoinRequest, verifyJoinRequest } from "../../shared/src/governance/join-request.js";
import { rotateKek } from "./operations/kek-rotation.js";
import { nodeStatus, type NodeStatus } from "./operations/status.js";
import { createIdentity, createKek, loadIdentity } from "./secrets.js";
import { readAuditLines, verifyAuditText, type AuditLine } from "./storage/audit-log.js";
import { NodeStore } from "./storage/node-store.js";
import { ShareVault } from "./storage/share-vault.js";

export const EXPORT_FORMAT = "tessera.mpc-node.audit-export.v1";

class UsageError extends Error {}

function flags(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument ${a}`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${a} needs a value`);
    // A repeated flag (--against a --against b) collects its values, comma-separated.
    const key = a.slice(2);
    out.set(key, out.has(key) ? `${out.get(key)},${value}` : value);
    i++;
  }
  return out;
}

function need(f: Map<string, string>, name: string): string {
  const v = f.get(name);
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

const USAGE = `usage:
  mpc-node init --dir <dir> --region <region> [--host 127.0.0.1] [--tcp-port 0] [--ws-port 0] [--admin-port <p>] [--advertise <public name>]
  mpc-node join verify --request <join-request.json> [--index <party number>]
  mpc-node start --config <file>
  mpc-node info --config <file>
  mpc-node status --config <file>
  mpc-node kek rotate --config <file> [--out <file>]
  mpc-node audit verify (--config <file> | --export <file>) [--against <peer export>[,<peer export>…]]
  mpc-node audit export --config <file> [--out <file>]

  mpc-node orgs add <orgId> --root <public key PEM file | PEM | SPKI hex> [--root-permission <permissionId>] --config <file>
      the org's root of trust, learned out of band from the edge: everything else this node
      believes about the org follows from governance entries signed under it
  mpc-node orgs show <orgId> --config <file>`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "init":
        return await init(flags(rest));
      case "start":
        return await start(flags(rest));
      case "info":
        return info(flags(rest));
      case "status":
        return await status(flags(rest));
      case "join": {
        const [sub, ...more] = rest;
        if (sub === "verify") return joinVerify(flags(more));
        throw new UsageError("join needs verify");
      }
      case "kek": {
        const [sub, ...more] = rest;
        if (sub === "rotate") return kekRotate(flags(more));
        throw new UsageError("kek needs rotate");
      }
      case "audit": {
        const [sub, ...more] = rest;
        if (sub === "verify") return auditVerify(flags(more));
        if (sub === "export") return auditExport(flags(more));
        throw new UsageError("audit needs verify or export");
      }
      case "orgs": {
        const [sub, orgId, ...more] = rest;
        if (!orgId || orgId.startsWith("--")) throw new UsageError("orgs needs an org id");
        if (sub === "add") return orgsAdd(orgId, flags(more));
        if (sub === "show") return await orgsShow(orgId, flags(more));
        throw new UsageError("orgs needs add or show");
      }
      default:
        throw new UsageError(command ? `unknown command ${command}` : "no command");
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`mpc-node: ${(e as Error).message}\n`);
    return 1;
  }
}

async function init(f: Map<string, string>): Promise<number> {
  const dir = resolve(need(f, "dir"));
  const region = need(f, "region");
  const host = f.get("host") ?? "127.0.0.1";
  const tcpPort = Number(f.get("tcp-port") ?? 0);
  const wsPort = Number(f.get("ws-port") ?? 0);
  const adminPort = Number(f.get("admin-port") ?? 0);
  if (!Number.isInteger(tcpPort) || !Number.isInteger(wsPort) || !Number.isInteger(adminPort)) throw new UsageError("ports must be integers");
  const configPath = join(dir, "config.json");
  if (existsSync(configPath) || existsSync(join(dir, "peer.key"))) throw new Error(`${dir} already holds a node; refusing to overwrite its identity`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const peerId = await createIdentity(join(dir, "peer.key"));
  createKek(join(dir, "kek.secret"));
  const advertise = f.get("advertise") ?? host;
  const ip = host.includes(":") ? "ip6" : "ip4";
  const config = {
    region,
    dataDir: ".",
    identityFile: "peer.key",
    kekFile: "kek.secret",
    listen: { tcp: `/${ip}/${host}/tcp/${tcpPort}`, ws: `/${ip}/${host}/tcp/${wsPort}/ws` },
    peers: [],
    edges: [],
    timeouts: { signMs: 30_000, keygenMs: 300_000 },
    ...(adminPort ? { admin: { listen: `127.0.0.1:${adminPort}` } } : {}),
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  loadConfig(configPath); // what init writes must load
  // The join request names the addresses others dial: --advertise (a public name or address)
  // when the node listens on 0.0.0.0 or sits behind a load balancer.
  const at = (port: number, suffix = "") => `/${/^[0-9.]+$/.test(advertise) ? "ip4" : advertise.includes(":") ? "ip6" : "dns4"}/${advertise}/tcp/${port}${suffix}`;
  if (tcpPort === 0 || wsPort === 0) {
    print({ peerId, region, config: configPath, listen: config.listen });
    process.stderr.write("no join request: pass --tcp-port and --ws-port (the addresses others dial) to get one\n");
    return 0;
  }
  const joinRequest = createJoinRequest({ peerId, signingSeed: loadIdentity(join(dir, "peer.key")).signingSeed, region, nodes: [at(tcpPort)], edge: [at(wsPort, "/ws")] });
  writeFileSync(join(dir, "join-request.json"), `${JSON.stringify(joinRequest, null, 2)}\n`);
  print({ peerId, region, config: configPath, listen: config.listen, joinRequest: join(dir, "join-request.json") });
  process.stderr.write(`send ${join(dir, "join-request.json")} to the org's administrator: it names this node and is signed by its key (no secret in it)\n`);
  return 0;
}

async function start(f: Map<string, string>): Promise<number> {
  // A stray rejection in a library callback must not take a share holder down mid-ceremony:
  // report it and keep serving (sessions have their own timeouts).
  process.on("unhandledRejection", (e) => process.stderr.write(`mpc-node: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`));
  // Loaded here only: libp2p and the wasm core are what `start` needs, and the other commands
  // (info, status, audit, kek, join) start in a fraction of the time without them.
  const { startNode } = await import("./daemon.js");
  const node = await startNode(need(f, "config"), { fault: faultFromEnv() });
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await node.stop();
  return 0;
}

function openStore(f: Map<string, string>): NodeStore {
  const config = loadConfig(need(f, "config"));
  const { peerId } = loadIdentity(config.paths.identity);
  mkdirSync(config.paths.dataDir, { recursive: true });
  // Governance needs no share: a vault key that opens nothing is enough.
  return new NodeStore(config.paths.database, new ShareVault(new Uint8Array(32)), peerId);
}

function orgsAdd(orgId: string, f: Map<string, string>): number {
  const root = need(f, "root");
  const text = existsSync(root) ? readFileSync(root, "utf8") : root;
  const key = /^[0-9a-f]+$/.test(text.trim()) ? text.trim() : spkiHex(text);
  if (!key || !parsePublicKeyPem(key.length > 0 && /^[0-9a-f]+$/.test(key) ? spkiPem(key) : text)) throw new Error("--root is not a usable public key");
  const store = openStore(f);
  try {
    store.addGovernedOrg(orgId, [key], f.get("root-permission") ?? null, Date.now());
  } finally {
    store.close();
  }
  print({ orgId, roots: [key], rootPermission: f.get("root-permission") ?? null });
  return 0;
}

async function orgsShow(orgId: string, f: Map<string, string>): Promise<number> {
  const store = openStore(f);
  try {
    const state = await new GovernanceBook(store).state(orgId);
    if (!state) throw new Error(`org ${orgId} has no root of trust on this node`);
    print({ orgId, head: state.head, roots: state.roots, identities: Object.keys(state.identities).length, permissions: Object.keys(state.permissions).length });
  } finally {
    store.close();
  }
  return 0;
}

/** SPKI hex back to a PEM, to check it parses. */
function spkiPem(hex: string): string {
  const b64 = Buffer.from(hex, "hex").toString("base64");
  return `-----BEGIN PUBLIC KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

function info(f: Map<string, string>): number {
  const config = loadConfig(need(f, "config"));
  const { peerId } = loadIdentity(config.paths.identity);
  const store = existsSync(config.paths.database) ? new NodeStore(config.paths.database, new ShareVault(new Uint8Array(32)), peerId) : null;
  print({ peerId, region: config.region, listen: config.listen, peers: config.peers.length, edges: config.edges.length, keys: store?.keyCount() ?? 0, bans: store?.bans() ?? [] });
  store?.close();
  return 0;
}

/** A running node's own view (its admin endpoint), else what its files say. */
async function status(f: Map<string, string>): Promise<number> {
  const config = loadConfig(need(f, "config"));
  if (config.admin) {
    try {
      const res = await fetch(`http://${config.admin.listen}/status`, { signal: AbortSignal.timeout(3_000) });
      if (res.ok) {
        print((await res.json()) as NodeStatus);
        return 0;
      }
    } catch {
      // not running (or not answering): describe it from its files below
    }
  }
  const { peerId } = loadIdentity(config.paths.identity);
  // Only counts, bans and the audit log are read; shares are never opened.
  const store = existsSync(config.paths.database) ? new NodeStore(config.paths.database, new ShareVault(new Uint8Array(32)), peerId) : null;
  try {
    print(nodeStatus(config, peerId, store, null));
  } finally {
    store?.close();
  }
  return 0;
}

function joinVerify(f: Map<string, string>): number {
  const path = need(f, "request");
  const index = Number(f.get("index") ?? 0);
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new UsageError("--index must be the node's party number (1-255)");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const verdict = verifyJoinRequest(raw);
  if (!verdict.ok) {
    print({ ok: false, reason: verdict.reason });
    return 1;
  }
  const { peer, shareHolder } = configEntries(verdict.request, index);
  print({ ok: true, peerId: verdict.request.peerId, region: verdict.request.region, issuedAt: verdict.request.issuedAt, peersEntry: peer, ...(index ? { shareHoldersEntry: shareHolder } : {}) });
  return 0;
}

function kekRotate(f: Map<string, string>): number {
  const config = loadConfig(need(f, "config"));
  const { peerId } = loadIdentity(config.paths.identity);
  const out = f.get("out");
  const r = rotateKek(config, peerId, out ? { out: resolve(out) } : {});
  print({ ok: true, resealed: { keys: r.keys, retired: r.retired }, kek: r.kek, ...(r.resumed ? { resumed: true } : {}) });
  return 0;
}

function auditVerify(f: Map<string, string>): number {
  const exported = f.get("export");
  if (exported) {
    const [headerLine, ...lines] = readFileSync(exported, "utf8").split("\n");
    const header = JSON.parse(headerLine ?? "{}") as { format?: string; peerId?: string; head?: { seq: number; hash: string } | null };
    if (header.format !== EXPORT_FORMAT || !header.peerId) throw new Error(`${exported} is not an mpc-node audit export`);
    const publicKey = peerIdFromString(header.peerId).publicKey?.raw;
    if (!publicKey) throw new Error(`peer id ${header.peerId} does not embed its public key`);
    const text = lines.join("\n");
    return report(againstPeers(verifyAuditText(text, publicKey, header.head ?? null), text, header.peerId, f.get("against")), header.peerId);
  }
  const config = loadConfig(need(f, "config"));
  const { peerId } = loadIdentity(config.paths.identity);
  const publicKey = peerIdFromString(peerId).publicKey!.raw;
  // The database only supplies the recorded head here; shares are never opened.
  const store = existsSync(config.paths.database) ? new NodeStore(config.paths.database, new ShareVault(new Uint8Array(32)), peerId) : null;
  const head = store?.auditHead() ?? null;
  store?.close();
  const text = existsSync(config.paths.audit) ? readFileSync(config.paths.audit, "utf8") : "";
  return report(againstPeers(verifyAuditText(text, publicKey, head), text, peerId, f.get("against")), peerId);
}

/**
 * Cross-anchoring: every ceremony's messages carry each participant's audit head, and every node
 * writes the heads its peers signed into its own (signed, chained) audit entries. A node whose
 * operator rewrote or cut its log and re-signed it still verifies on its own; against its peers'
 * exports it does not: a head they recorded is missing from it or has another hash.
 */
function againstPeers(verdict: ReturnType<typeof verifyAuditText>, text: string, peerId: string, against: string | undefined): ReturnType<typeof verifyAuditText> {
  if (!verdict.ok || !against) return verdict;
  const hashes = new Map<number, string>();
  for (const l of text.split("\n")) {
    if (!l) continue;
    const line = JSON.parse(l) as AuditLine;
    hashes.set(line.seq, line.hash);
  }
  let checked = 0;
  for (const file of against.split(",").filter(Boolean)) {
    const [headerLine, ...rest] = readFileSync(file, "utf8").split("\n");
    const header = JSON.parse(headerLine ?? "{}") as { format?: string; peerId?: string; head?: { seq: number; hash: string } | null };
    if (header.format !== EXPORT_FORMAT || !header.peerId) throw new Error(`${file} is not an mpc-node audit export`);
    const peerKey = peerIdFromString(header.peerId).publicKey?.raw;
    if (!peerKey) throw new Error(`peer id ${header.peerId} does not embed its public key`);
    // The witness's own log must verify first: its word is only as good as its signed chain.
    const own = verifyAuditText(rest.join("\n"), peerKey, header.head ?? null);
    if (!own.ok) throw new Error(`${file}: the witness's own log does not verify (${own.reason})`);
    for (const l of rest) {
      if (!l) continue;
      const line = JSON.parse(l) as AuditLine;
      const head = (line.entry.peerHeads as Record<string, { seq: number; hash: string }> | undefined)?.[peerId];
      if (!head) continue;
      checked++;
      const mine = hashes.get(head.seq);
      if (mine === undefined) {
        return { ok: false, entries: verdict.entries, line: head.seq, reason: `${header.peerId} recorded this node's entry ${head.seq} (its entry ${line.seq}), but the log ends at entry ${verdict.entries}: truncated` };
      }
      if (mine !== head.hash) {
        return { ok: false, entries: verdict.entries, line: head.seq, reason: `${header.peerId} recorded entry ${head.seq} with hash ${head.hash.slice(0, 16)}… (its entry ${line.seq}); this log has ${mine.slice(0, 16)}…: rewritten` };
      }
    }
  }
  return { ...verdict, anchors: checked } as ReturnType<typeof verifyAuditText>;
}

function report(verdict: ReturnType<typeof verifyAuditText>, peerId: string): number {
  if (verdict.ok) {
    print({ ok: true, peerId, entries: verdict.entries, head: verdict.head, ...("anchors" in verdict ? { anchors: verdict.anchors } : {}) });
    return 0;
  }
  print({ ok: false, peerId, entries: verdict.entries, line: verdict.line, reason: verdict.reason });
  return 1;
}

function auditExport(f: Map<string, string>): number {
  const config = loadConfig(need(f, "config"));
  const { peerId } = loadIdentity(config.paths.identity);
  const lines: AuditLine[] = readAuditLines(config.paths.audit);
  const last = lines.at(-1);
  const header = {
    format: EXPORT_FORMAT,
    peerId,
    publicKey: bytesToHex(peerIdFromString(peerId).publicKey!.raw),
    region: config.region,
    exportedAt: new Date().toISOString(),
    head: last ? { seq: last.seq, hash: last.hash } : null,
  };
  const raw = existsSync(config.paths.audit) ? readFileSync(config.paths.audit, "utf8") : "";
  const text = `${JSON.stringify(header)}\n${raw}`;
  const out = f.get("out");
  if (out) {
    writeFileSync(out, text);
    print({ ok: true, out, entries: lines.length });
  } else {
    process.stdout.write(text);
  }
  return 0;
}

