// A running share-holder node: configuration, secrets, store, audit log, ceremony engine and
// libp2p host put together. Logs one JSON object per line on stdout (events, never secrets).
import { mkdirSync, readFileSync } from "node:fs";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { initMpc } from "../../wasm/index.js";
import { defaultChainIdOf } from "../../shared/src/mpc/intent.js";
import { CeremonyEngine } from "./ceremony/engine.js";
import { systemClock } from "./ceremony/session.js";
import { loadConfig, type LoadedConfig } from "./config.js";
import { corruptFrame, corruptMessage, type FaultMode } from "./dev/faults.js";
import { createHost } from "./network/host.js";
import { RoundLinks } from "./network/round-links.js";
import { registerProtocols } from "./network/service.js";
import { startAdminServer } from "./operations/admin-server.js";
import { NodeMetrics } from "./operations/metrics.js";
import { claimDataDir } from "./operations/node-lock.js";
import { nodeStatus } from "./operations/status.js";
import { loadIdentity, loadKek } from "./secrets.js";
import { AuditLog } from "./storage/audit-log.js";
import { groupCommit } from "./storage/group-commit.js";
import { GovernanceBook } from "./governance/book.js";
import { NodeStore } from "./storage/node-store.js";
import { ShareVault } from "./storage/share-vault.js";

export interface RunningNode {
  peerId: string;
  region: string;
  addresses: string[];
  config: LoadedConfig;
  stop(): Promise<void>;
}

export type Logger = (event: Record<string, unknown>) => void;

/** Waits until the host listens through `count` relays (their reservations), at most 30 s. */
async function relayReservation(host: Libp2p, count: number, log: Logger): Promise<void> {
  const circuits = () => host.getMultiaddrs().filter((a) => a.toString().includes("/p2p-circuit")).length;
  const deadline = Date.now() + 30_000;
  while (circuits() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (circuits() < count) log({ event: "relay-unreachable", reserved: circuits(), wanted: count });
}

export const jsonLinesLogger: Logger = (event) => {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
};

export async function startNode(configPath: string, opts: { log?: Logger; fault?: FaultMode | null } = {}): Promise<RunningNode> {
  const startedAt = Date.now();
  const metrics = new NodeMetrics();
  const sink = opts.log ?? jsonLinesLogger;
  // Every event also feeds the metrics (ceremonies, failures, refusals, durations).
  const log: Logger = (event) => {
    metrics.observe(event);
    sink(event);
  };
  const config = loadConfig(configPath);
  mkdirSync(config.paths.dataDir, { recursive: true, mode: 0o700 });
  const release = claimDataDir(config);
  const identity = loadIdentity(config.paths.identity);
  const vault = new ShareVault(loadKek(config.paths.kek));
  await initMpc();

  const store = new NodeStore(config.paths.database, vault, identity.peerId);
  const audit = new AuditLog(config.paths.audit, identity.signingSeed, store, config.audit.fsync ? "group" : false);
  // Group commits of the store's write-ahead log and of the audit log: one disk sync for every
  // ceremony that asked meanwhile, off the event loop (storage/group-commit.ts); the engine awaits
  // them before it releases anything that depends on what was written.
  const durable = config.audit.fsync ? { store: groupCommit(() => store.syncToDisk()), audit: groupCommit(() => audit.sync()) } : null;
  const nodePeers = new Set(config.peers.map((p) => p.peerId));
  const edgePeers = new Set(config.edges.flatMap((e) => e.peerIds));
  const host = await createHost({
    privateKey: identity.privateKey,
    listen: [config.listen.tcp, ...(config.listen.ws ? [config.listen.ws] : [])],
    nodePeers,
    edgePeers,
    relay: config.relay,
    ...(config.paths.tls ? { tls: { cert: readFileSync(config.paths.tls.cert, "utf8"), key: readFileSync(config.paths.tls.key, "utf8") } } : {}),
  });
  // Behind NAT, the node is reachable once a relay holds a reservation for it: ready means reachable.
  if (config.relay.listenVia.length > 0) await relayReservation(host, config.relay.listenVia.length, log);

  // The engine and the links need each other; the links report unreachable peers to the engine.
  let engine: CeremonyEngine | undefined;
  const links = new RoundLinks(host, config.peers, (peerId, reason) => {
    log({ event: "peer-unreachable", peer: peerId, reason });
    engine?.peerUnreachable(peerId, reason);
  });
  const chainIds = config.evmChainIds;
  engine = new CeremonyEngine({
    self: { peerId: identity.peerId, region: config.region },
    peers: new Map(config.peers.map((p) => [p.peerId, { region: p.region }])),
    edgeKeys: new Map(config.edges.map((e) => [e.id, hexToBytes(e.authorizationKey)])),
    signTimeoutMs: config.timeouts.signMs,
    keygenTimeoutMs: config.timeouts.keygenMs,
    authorization: config.authorization,
    chainIdOf: (network) => (Object.hasOwn(chainIds, network) ? chainIds[network] : defaultChainIdOf(network)),
    maxSessions: config.maxSessions,
    governance: new GovernanceBook(store, config.authorization.rpId ?? "localhost"),
    store,
    audit,
    ...(durable ? { durable } : {}),
    nodeKey: identity.signingSeed,
    clock: systemClock,
    transport: { send: (peer, frame) => links.send(peer, opts.fault ? corruptFrame(opts.fault, frame) : frame) },
    ...(opts.fault ? { deviation: { core: (_m: unknown, message: Uint8Array) => corruptMessage(opts.fault!, message) } } : {}),
    log,
  });
  await registerProtocols({ host, engine, nodePeers, edgePeers, log });

  // An expired authorization is refused on its expiry alone, so its nonce can be forgotten.
  const prune = setInterval(() => store.pruneNonces(Date.now() - 24 * 3_600_000), 3_600_000);
  prune.unref();

  const live = () => {
    const connectedPeers = new Set(host.getConnections().map((c) => c.remotePeer.toString()));
    return { uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), addresses: host.getMultiaddrs().map((a) => a.toString()), connectedPeers, activeSessions: engine.activeSessions };
  };
  const admin = config.admin
    ? await startAdminServer(config.admin.listen, {
        status: () => nodeStatus(config, identity.peerId, store, live()),
        metrics: () => {
          const l = live();
          return metrics.render({
            keys: store.keyCount(),
            bans: store.bans().length,
            peersConfigured: nodePeers.size,
            peersConnected: [...nodePeers].filter((p) => l.connectedPeers.has(p)).length,
            edgesConnected: [...edgePeers].filter((p) => l.connectedPeers.has(p)).length,
            activeSessions: l.activeSessions,
            uptimeSeconds: l.uptimeSeconds,
          });
        },
      })
    : null;

  const addresses = host.getMultiaddrs().map((a) => a.toString());
  log({ event: "ready", peerId: identity.peerId, region: config.region, addresses, keys: store.keyCount(), ...(config.admin ? { admin: config.admin.listen } : {}), ...(opts.fault ? { fault: opts.fault } : {}) });

  let stopped = false;
  return {
    peerId: identity.peerId,
    region: config.region,
    addresses,
    config,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(prune);
      admin?.close();
      engine.close();
      links.close();
      await host.stop();
      // A sync still running must finish before the files it syncs are closed.
      await Promise.all([durable?.store(), durable?.audit()]).catch(() => {});
      audit.close();
      store.close();
      release();
      log({ event: "stopped" });
    },
  };
}
