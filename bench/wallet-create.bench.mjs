// Wallet creation through the unmodified @dfns/sdk (createWallet: 3 HTTP requests, the user action
// included) against the local network (the edge in local workerd + three mpc-node processes, 2-of-3), by kind:
//   - a fresh key: a distributed key generation across the three node processes (ECDSA DKLs23,
//     and FROST Ed25519), with the raw DKG time each node measured (its audit entry's ceremonyMs);
//   - signingKey.deriveFrom: a child of an org master key (no ceremony: each node checks the user's
//     request, derives the child from its own share and records {master, path});
//   - signingKey.id: another network's wallet on an existing key (no node round trip);
// beside a signed no-op change through the same SDK (layers 1–2 only) and single-key @noble/curves
// signing from the same run. Bytes per wallet at each node: page growth of its SQLite database per
// wallet, and the row's own bytes. The machine is shared: the 1-minute load average is recorded.
// Writes bench/results/wallet-create.json.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { register } from "tsx/esm/api";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { benchEdge, edgeUrl, edgeRuntime, nobleSecp256k1SignMs } from "./measure.mjs";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { startLocalNetwork } = await import("../scripts/local-network.ts");
const { ensureLocalOrg } = await import("../worker/src/admin/local-bootstrap.mjs");
const N = Number(process.env.BENCH_N ?? 40);
const KEYGENS = Number(process.env.BENCH_KEYGENS ?? 3);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
};
const timed = async (f) => {
  const t = performance.now();
  const out = await f();
  return [performance.now() - t, out];
};

const dir = mkdtempSync(join(tmpdir(), "tessera-bench-wallets-"));
const loadAtStart = +loadavg()[0].toFixed(2);
const net = await startLocalNetwork({ stateDir: dir, edge: benchEdge(), chain: false });
/** Each node's database and audit log, from its config. */
const nodes = ["eu", "us", "ap"].flatMap((region) => {
  try {
    const configPath = join(dir, "nodes", region, "config.json");
    const cfg = JSON.parse(readFileSync(configPath, "utf8"));
    const dataDir = resolve(dirname(configPath), cfg.dataDir);
    return [{ region, database: join(dataDir, "node.db"), audit: join(dataDir, "audit.jsonl") }];
  } catch {
    return [];
  }
});
const dbBytes = (file) => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare("PRAGMA page_count").get().page_count * db.prepare("PRAGMA page_size").get().page_size;
  } finally {
    db.close();
  }
};
const sql = (file, q) => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(q).get();
  } finally {
    db.close();
  }
};
/** The raw DKG time every node measured for each keygen (audit entries with a ceremony, not derivations). */
const dkgCeremonyMs = (scheme) =>
  nodes.flatMap((n) =>
    readFileSync(n.audit, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).entry ?? JSON.parse(l))
      .filter((e) => e.type === "ceremony" && e.kind === "keygen" && e.outcome === "ok" && e.scheme === scheme && !e.derivedFrom && e.timings?.ceremonyMs !== undefined)
      .map((e) => e.timings.ceremonyMs),
  );

try {
  const cfg = await ensureLocalOrg({ baseUrl: edgeUrl(net), bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  const dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
  const permission = await dfns.permissions.createPermission({ body: { name: "bench no-op", operations: ["Wallets:Read"] } });

  // Fresh keys: ECDSA (DKLs23) and FROST Ed25519 DKGs across the three node processes.
  const ecdsaKeygen = [];
  const before = nodes.map((n) => dbBytes(n.database));
  let master;
  for (let i = 0; i < KEYGENS; i++) {
    const [ms, w] = await timed(() => dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: `dkg ${i}` } }));
    ecdsaKeygen.push(ms);
    master ??= w;
    console.log(`ECDSA DKG wallet ${i + 1}/${KEYGENS}: ${Math.round(ms)} ms`);
  }
  const afterDkg = nodes.map((n) => dbBytes(n.database));
  const frostKeygen = [];
  for (let i = 0; i < KEYGENS; i++) {
    const [ms] = await timed(() => dfns.wallets.createWallet({ body: { network: "KeyEdDSA", name: `frost ${i}` } }));
    frostKeygen.push(ms);
  }

  // deriveFrom: children of the first ECDSA key; signingKey.id: that key on other networks.
  const derivedBefore = nodes.map((n) => dbBytes(n.database));
  const derived = [];
  for (let i = 0; i < 3; i++) await dfns.wallets.createWallet({ body: { network: "EthereumSepolia", signingKey: { deriveFrom: { keyId: master.signingKey.id } } } }); // warm-up
  const derivedWarm = nodes.map((n) => dbBytes(n.database));
  for (let i = 0; i < N; i++) {
    const [ms, w] = await timed(() => dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: `derived ${i}`, signingKey: { deriveFrom: { keyId: master.signingKey.id } } } }));
    if (!w.address) throw new Error("a derived wallet without an address");
    derived.push(ms);
  }
  const derivedAfter = nodes.map((n) => dbBytes(n.database));
  const reused = [];
  for (let i = 0; i < Math.min(N, 20); i++) {
    const [ms] = await timed(() => dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: `reuse ${i}`, signingKey: { id: master.signingKey.id } } }));
    reused.push(ms);
  }
  const signedNoop = [];
  for (let i = 0; i < N; i++) {
    const [ms] = await timed(() => dfns.permissions.updatePermission({ permissionId: permission.id, body: { name: `bench no-op ${i}` } }));
    signedNoop.push(ms);
  }
  const noble = nobleSecp256k1SignMs(N);

  const perNode = (f) => Object.fromEntries(nodes.map((n, i) => [n.region, f(n, i)]));
  const rowBytes = perNode((n) => {
    const d = sql(
      n.database,
      "SELECT avg(length(key_id) + length(master_key_id) + length(path) + length(public_key) + length(org_id) + ifnull(length(wallet_id), 0) + ifnull(length(network), 0) + length(credentials) + ifnull(length(owner), 0) + 8) AS b FROM derived_keys",
    );
    const k = sql(n.database, "SELECT avg(length(share) + length(parties) + length(credentials) + length(public_key) + ifnull(length(chain_code), 0) + length(key_id) + length(org_id) + 40) AS b FROM keys WHERE scheme = 'ecdsa-secp256k1'");
    const f = sql(n.database, "SELECT avg(length(share) + length(parties) + length(credentials) + length(public_key) + length(key_id) + length(org_id) + 40) AS b FROM keys WHERE scheme = 'frost-ed25519'");
    return { derived_wallet_row: Math.round(d.b), ecdsa_dkg_wallet_row: Math.round(k.b), frost_ed25519_dkg_wallet_row: Math.round(f.b) };
  });
  const growth = perNode((n, i) => ({
    derived_wallet_db_growth: Math.round((derivedAfter[i] - derivedWarm[i]) / N),
    ecdsa_dkg_wallet_db_growth: Math.round((afterDkg[i] - before[i]) / KEYGENS),
  }));
  void derivedBefore;

  const derivedStats = stats(derived);
  const rawDkg = dkgCeremonyMs("ecdsa-secp256k1");
  const result = {
    benchmark: "wallet-create",
    date: new Date().toISOString(),
    runtime: `${edgeRuntime(net.edge)} + 3 mpc-node processes (2-of-3 over libp2p on loopback); @dfns/sdk 0.8.21 createWallet (init, action, POST /wallets), sequential`,
    edge: net.edge,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", loadavg_at_start: loadAtStart },
    load_average_1m: +loadavg()[0].toFixed(2),
    note: "the machine is shared by several developers' test runs: figures are noisy; load_average_1m is the 1-minute load at the end of the run (2 cores)",
    create_wallet_sdk: {
      derive_from_master: derivedStats,
      existing_key_signing_key_id: stats(reused),
      fresh_key_ecdsa_dkg: stats(ecdsaKeygen),
      fresh_key_frost_ed25519_dkg: stats(frostKeygen),
    },
    raw_dkg_2of3_three_node_processes: { ecdsa_ceremony_ms_per_node: stats(rawDkg.length ? rawDkg : [NaN]), note: "each node's own measure from accepting the authorization to the stored share (its audit entry's timings.ceremonyMs)" },
    baseline_signed_noop_sdk: stats(signedNoop),
    baseline_noble_secp256k1_sign: stats(noble),
    storage_bytes_per_wallet_per_node: { row_bytes: rowBytes, database_growth: growth },
    targets: {
      create_wallet_p50_ms: 300,
      create_wallet_p50_met_by_derive_from: derivedStats.p50_ms <= 300,
      raw_dkg_ms: 2000,
      raw_dkg_met: rawDkg.length > 0 && stats(rawDkg).p50_ms <= 2000,
      derived_wallet_bytes_per_node: 1024,
      derived_wallet_bytes_met: Object.values(rowBytes).every((r) => r.derived_wallet_row <= 1024),
    },
  };
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", "wallet-create.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await net.stop();
  rmSync(dir, { recursive: true, force: true });
}
