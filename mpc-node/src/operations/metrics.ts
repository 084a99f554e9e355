// What a running node exposes to Prometheus (text format 0.0.4): counters fed by the node's own
// log events (every ceremony ends in exactly one session-finished / session-failed / refused
// line), gauges read from the store and the libp2p host when scraped. No ids, digests or
// secrets in labels: kinds, results and refusal codes only, so the label set stays small.

/** Upper bounds of the duration histogram, in seconds: FROST signs in ms, ECDSA keygen in seconds. */
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export interface Gauges {
  keys: number;
  bans: number;
  peersConfigured: number;
  peersConnected: number;
  edgesConnected: number;
  activeSessions: number;
  uptimeSeconds: number;
}

const label = (v: string) => v.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64);

export class NodeMetrics {
  private readonly ceremonies = new Map<string, number>(); // "kind|result"
  private readonly failures = new Map<string, number>(); // "kind|code"
  private readonly refusals = new Map<string, number>(); // "kind|reason"
  private readonly durations = new Map<string, Histogram>(); // kind
  private readonly bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  /** Feeds one of the daemon's log events; others are ignored. */
  observe(event: Record<string, unknown>): void {
    const kind = label(String(event.kind ?? "unknown"));
    switch (event.event) {
      case "session-finished":
        this.bump(this.ceremonies, `${kind}|ok`);
        this.time(kind, event.ms);
        break;
      case "session-failed":
        this.bump(this.ceremonies, `${kind}|failed`);
        this.bump(this.failures, `${kind}|${label(String(event.code ?? "unknown"))}`);
        this.time(kind, event.ms);
        break;
      case "refused":
        this.bump(this.ceremonies, `${kind}|refused`);
        this.bump(this.refusals, `${kind}|${label(String(event.code ?? "unknown"))}`);
        break;
    }
  }

  private time(kind: string, ms: unknown): void {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return;
    const h = this.durations.get(kind) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    const s = ms / 1000;
    BUCKETS.forEach((b, i) => {
      if (s <= b) h.buckets[i]!++;
    });
    h.sum += s;
    h.count++;
    this.durations.set(kind, h);
  }

  /** The exposition text. */
  render(g: Gauges): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const pairs = (m: Map<string, number>, name: string, second: string) => {
      for (const [k, v] of [...m].sort()) {
        const [a, b] = k.split("|");
        out.push(`${name}{kind="${a}",${second}="${b}"} ${v}`);
      }
    };
    family("tessera_node_ceremonies_total", "counter", "Ceremonies this node answered, by kind (keygen, sign, refresh) and result (ok, failed, refused).");
    pairs(this.ceremonies, "tessera_node_ceremonies_total", "result");
    family("tessera_node_ceremony_failures_total", "counter", "Accepted ceremonies that failed, by kind and failure code (timeout, culprit, ban, unreachable, ...).");
    pairs(this.failures, "tessera_node_ceremony_failures_total", "code");
    family("tessera_node_refusals_total", "counter", "Requests refused before any round, by kind and reason (signature, expired, replayed, user-evidence, intent, banned, ...).");
    pairs(this.refusals, "tessera_node_refusals_total", "reason");
    family("tessera_node_ceremony_duration_seconds", "histogram", "Time from the authorization's arrival to the ceremony's end, by kind.");
    for (const [kind, h] of [...this.durations].sort(([a], [b]) => a.localeCompare(b))) {
      BUCKETS.forEach((b, i) => out.push(`tessera_node_ceremony_duration_seconds_bucket{kind="${kind}",le="${b}"} ${h.buckets[i]}`));
      out.push(`tessera_node_ceremony_duration_seconds_bucket{kind="${kind}",le="+Inf"} ${h.count}`);
      out.push(`tessera_node_ceremony_duration_seconds_sum{kind="${kind}"} ${+h.sum.toFixed(6)}`);
      out.push(`tessera_node_ceremony_duration_seconds_count{kind="${kind}"} ${h.count}`);
    }
    const gauge = (name: string, help: string, v: number) => (family(name, "gauge", help), out.push(`${name} ${v}`));
    gauge("tessera_node_keys", "Keys this node holds a share of.", g.keys);
    gauge("tessera_node_bans", "Peers banned for a key (peer, key pairs), from the core's evidence.", g.bans);
    gauge("tessera_node_peers_configured", "Other share holders in the configuration.", g.peersConfigured);
    gauge("tessera_node_peers_connected", "Other share holders with an open libp2p connection.", g.peersConnected);
    gauge("tessera_node_edges_connected", "Edges (coordinators) with an open libp2p connection.", g.edgesConnected);
    gauge("tessera_node_active_sessions", "Ceremonies in progress.", g.activeSessions);
    gauge("tessera_node_uptime_seconds", "Seconds since the node started.", g.uptimeSeconds);
    return `${out.join("\n")}\n`;
  }
}
