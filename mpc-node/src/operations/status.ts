// `mpc-node status`: who this node is, which peers and edges it is connected to, the keys it
// holds, its last ceremonies (from its own audit log) and the bans it enforces. A running node
// answers it on its admin endpoint (live connections and sessions); a stopped one is described
// from its files, with `running: false`.
import { existsSync } from "node:fs";
import type { LoadedConfig } from "../config.js";
import { readAuditLines } from "../storage/audit-log.js";
import type { NodeStore } from "../storage/node-store.js";

export interface CeremonySummary {
  at: string | null;
  kind: string;
  keyId: string | null;
  outcome: string;
  ms: number | null;
  code?: string;
}

export interface NodeStatus {
  peerId: string;
  region: string;
  running: boolean;
  uptimeSeconds: number | null;
  addresses: string[];
  peers: { region: string; peerId: string; connected: boolean | null }[];
  edges: { id: string; connected: boolean | null }[];
  keys: { total: number; byScheme: Record<string, number> };
  activeSessions: number | null;
  lastCeremonies: CeremonySummary[];
  bans: { keyId: string; peerId: string; reason: string; at: string }[];
}

/** The node's last `n` ceremonies and refusals, newest first, from its audit log. */
export function lastCeremonies(auditPath: string, n = 10): CeremonySummary[] {
  if (!existsSync(auditPath)) return [];
  return readAuditLines(auditPath)
    .slice(-n)
    .reverse()
    .map(({ entry }) => {
      const timings = (entry.timings ?? {}) as { receivedAt?: string; totalMs?: number };
      const error = entry.error as { code?: string } | undefined;
      return {
        at: timings.receivedAt ?? null,
        kind: String(entry.kind ?? entry.type ?? "?"),
        keyId: typeof entry.keyId === "string" ? entry.keyId : null,
        outcome: String(entry.outcome ?? "?"),
        ms: typeof timings.totalMs === "number" ? timings.totalMs : null,
        ...(error?.code ? { code: error.code } : {}),
      };
    });
}

export function nodeStatus(
  config: LoadedConfig,
  peerId: string,
  store: NodeStore | null,
  live: { uptimeSeconds: number; addresses: string[]; connectedPeers: ReadonlySet<string>; activeSessions: number } | null,
): NodeStatus {
  const connected = (id: string) => (live ? live.connectedPeers.has(id) : null);
  return {
    peerId,
    region: config.region,
    running: live !== null,
    uptimeSeconds: live?.uptimeSeconds ?? null,
    addresses: live?.addresses ?? [config.listen.tcp, ...(config.listen.ws ? [config.listen.ws] : [])],
    peers: config.peers.map((p) => ({ region: p.region, peerId: p.peerId, connected: connected(p.peerId) })),
    edges: config.edges.map((e) => ({ id: e.id, connected: live ? e.peerIds.some((id) => live.connectedPeers.has(id)) : null })),
    keys: { total: store?.keyCount() ?? 0, byScheme: store?.keysByScheme() ?? {} },
    activeSessions: live?.activeSessions ?? null,
    lastCeremonies: lastCeremonies(config.paths.audit),
    bans: (store?.bans() ?? []).map((b) => ({ ...b, at: new Date(b.at).toISOString() })),
  };
}
