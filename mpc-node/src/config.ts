// The node's configuration file (JSON), validated with zod. Paths are relative to the file's own
// folder. Peers and edges are listed explicitly: the connection gater admits nobody else.
//
// {
//   "region": "eu",
//   "dataDir": ".",                       // node.db (keys, sealed shares, bans, replay cache) and audit.jsonl
//   "identityFile": "peer.key",           // the Ed25519 peer key (libp2p protobuf), mode 600
//   "kekFile": "kek.secret",              // base64 32-byte key-encryption key, mode 600 (or env TESSERA_MPC_KEK)
//   "listen": { "tcp": "/ip4/0.0.0.0/tcp/4100", "ws": "/ip4/0.0.0.0/tcp/4101/ws" },   // or ".../tls/ws" with "tls"
//   "tls": { "certFile": "tls/cert.pem", "keyFile": "tls/key.pem" },                  // optional: wss for the edge
//   "peers": [ { "peerId": "12D3Koo…", "multiaddrs": ["/ip4/10.0.0.2/tcp/4100"], "region": "us" } ],
//   "edges": [ { "id": "edge-1", "authorizationKey": "<32-byte Ed25519 public key, hex>", "peerIds": ["12D3Koo…"] } ],
//   "timeouts": { "signMs": 30000, "keygenMs": 300000 },
//   "authorization": { "maxLifetimeMs": 300000, "clockSkewMs": 30000, "userActionMaxAgeMs": 300000, "rpId": "localhost",
//                      "policyPrices": { "Ethereum": "3150.25" } },
//   "evmChainIds": { "Anvil": 31337 },
//   "relay": { "serve": false, "listenVia": [] },   // circuit relay v2, see below
//   "admin": { "listen": "127.0.0.1:9464" },        // optional: GET /metrics and /status
//   "maxSessions": 256,
//   "audit": { "fsync": true }
// }
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { multiaddr } from "@multiformats/multiaddr";
import { z } from "zod";
import { keyIdText, peerIdText } from "../../shared/src/mpc/authorization.js";

const multiaddrText = z.string().refine((s) => {
  try {
    multiaddr(s);
    return true;
  } catch {
    return false;
  }
}, "must be a multiaddr");

const region = z.string().regex(/^[A-Za-z0-9-]{1,32}$/, "must be a short label like eu or us-east");

export const nodeConfigSchema = z.strictObject({
  region,
  dataDir: z.string().min(1).default("."),
  identityFile: z.string().min(1).default("peer.key"),
  kekFile: z.string().min(1).optional(),
  listen: z.strictObject({ tcp: multiaddrText, ws: multiaddrText.optional() }),
  peers: z.array(z.strictObject({ peerId: peerIdText, multiaddrs: z.array(multiaddrText).min(1).max(8), region })).max(64),
  edges: z.array(z.strictObject({ id: keyIdText, authorizationKey: z.string().regex(/^[0-9a-f]{64}$/, "must be a 32-byte Ed25519 public key in hex"), peerIds: z.array(peerIdText).max(64) })).max(16),
  timeouts: z.strictObject({ signMs: z.int().min(100).max(600_000).default(30_000), keygenMs: z.int().min(1_000).max(3_600_000).default(300_000) }).prefault({}),
  authorization: z
    .strictObject({
      maxLifetimeMs: z.int().min(1_000).max(3_600_000).optional(),
      clockSkewMs: z.int().min(0).max(600_000).optional(),
      userActionMaxAgeMs: z.int().min(1_000).max(3_600_000).optional(),
      rpId: z.string().min(1).max(253).optional(),
      /** USD per whole unit for the org's amount rules, keyed like the edge's POLICY_USD_PRICES ("Network", "Network:contract"). */
      policyPrices: z.record(z.string().min(1).max(200), z.string().regex(/^[0-9]{1,40}(\.[0-9]{1,40})?$/, "must be a decimal price")).optional(),
    })
    .prefault({}),
  evmChainIds: z.record(z.string().min(1).max(64), z.int().positive()).prefault({}),
  // Circuit relay v2 (libp2p): `serve` relays between the configured peers and edges (a node
  // with a public address); `listenVia` makes this node reachable through those relays (a node
  // behind NAT), e.g. "/dns4/eu.example/tcp/4100/p2p/12D3Koo…eu". Peers then list this node at
  // "<relay address>/p2p-circuit".
  relay: z.strictObject({ serve: z.boolean().default(false), listenVia: z.array(multiaddrText).max(8).default([]) }).prefault({}),
  // TLS for the websocket listener the edge dials over the internet ("/…/tcp/4101/tls/ws"):
  // PEM certificate chain and private key, paths relative to this file. Noise still runs inside.
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  // The admin endpoint: GET /metrics (Prometheus) and /status; loopback or a monitoring network.
  admin: z.strictObject({ listen: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|localhost):\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:9464") }).optional(),
  maxSessions: z.int().min(1).max(10_000).default(256),
  audit: z.strictObject({ fsync: z.boolean().default(true) }).prefault({}),
});
export type NodeConfig = z.infer<typeof nodeConfigSchema>;

export interface LoadedConfig extends NodeConfig {
  /** Absolute paths, resolved against the config file's folder. */
  paths: { config: string; dataDir: string; identity: string; kek: string | null; database: string; audit: string; tls: { cert: string; key: string } | null };
}

export function loadConfig(path: string): LoadedConfig {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read config ${file}: ${(e as Error).message}`);
  }
  const parsed = nodeConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`config ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  const secureWs = parsed.data.listen.ws !== undefined && /\/(tls\/ws|wss)$/.test(parsed.data.listen.ws);
  if (secureWs && !parsed.data.tls) throw new Error(`config ${file} is invalid: listen.ws is a TLS websocket address but "tls" (certFile, keyFile) is missing`);
  const base = dirname(file);
  const dataDir = resolve(base, parsed.data.dataDir);
  return {
    ...parsed.data,
    paths: {
      config: file,
      dataDir,
      identity: resolve(base, parsed.data.identityFile),
      kek: parsed.data.kekFile ? resolve(base, parsed.data.kekFile) : null,
      database: resolve(dataDir, "node.db"),
      audit: resolve(dataDir, "audit.jsonl"),
      tls: parsed.data.tls ? { cert: resolve(base, parsed.data.tls.certFile), key: resolve(base, parsed.data.tls.keyFile) } : null,
    },
  };
}
