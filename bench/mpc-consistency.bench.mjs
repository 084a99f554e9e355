// What the defences against a malicious share holder cost (issue 17): three share-holder engines
// (the real CeremonyEngine with real SQLite stores, sealed shares, audit logs and the wasm core) in
// this process, messages passed through setImmediate, so the figures are the ceremony and the node
// layer without network latency. In the same run:
//
//   keygen with the confirmation round      echo of every signed broadcast statement + comparison
//                                           of every party's public key package, before storing
//   keygen without it                       the engine's benchmark-only `confirmRound: false`
//   signing (either setting)                signing has no extra round; every message is still
//                                           signed and checked (node key statements)
//   statement sign + verify                 one message's Ed25519 cost (node:crypto)
//   noble single key                        ed25519.sign, the baseline every benchmark prints
//
// Writes bench/results/mpc-consistency.json. BENCH_N sets the signing sample size (default 100).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";

register();
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (/SQLite/.test(typeof w === "string" ? w : w?.message ?? "") ? undefined : emitWarning(w, ...rest));
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { initMpc } = await import("../wasm/index.ts");
const { CeremonyEngine } = await import("../mpc-node/src/ceremony/engine.ts");
const { RoundSigner } = await import("../mpc-node/src/ceremony/round-signer.ts");
const { systemClock } = await import("../mpc-node/src/ceremony/session.ts");
const { LocalEdge } = await import("../mpc-node/src/dev/local-edge.ts");
const { AuditLog } = await import("../mpc-node/src/storage/audit-log.ts");
const { NodeStore } = await import("../mpc-node/src/storage/node-store.ts");
const { ShareVault } = await import("../mpc-node/src/storage/share-vault.ts");

const N = Number(process.env.BENCH_N ?? 100);
const N_KEYGEN_FROST = Number(process.env.BENCH_N_KEYGEN ?? 30);
const N_KEYGEN_ECDSA = Number(process.env.BENCH_N_KEYGEN_ECDSA ?? 4);
await initMpc();

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(2) };
};

const edge = new LocalEdge("edge-bench", undefined, undefined, 120_000);
const dirs = [];

async function network(confirmRound) {
  const keys = await Promise.all([0, 1, 2].map(() => generateKeyPair("Ed25519")));
  const ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
  const engines = new Map();
  const nodes = ids.map((peerId, i) => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-bench-cons-"));
    dirs.push(dir);
    const seed = keys[i].raw.subarray(0, 32);
    const store = new NodeStore(join(dir, "node.db"), new ShareVault(randomBytes(32)), peerId);
    const audit = new AuditLog(join(dir, "audit.jsonl"), seed, store, false);
    const engine = new CeremonyEngine({
      self: { peerId, region: `r${i}` },
      peers: new Map(ids.filter((p) => p !== peerId).map((p) => [p, { region: "peer" }])),
      edgeKeys: new Map([[edge.edgeId, edge.publicKey]]),
      signTimeoutMs: 30_000,
      keygenTimeoutMs: 120_000,
      store,
      audit,
      nodeKey: seed,
      clock: systemClock,
      confirmRound,
      transport: { send: (to, frame) => setImmediate(() => engines.get(to)?.receiveFrame(peerId, frame)) },
    });
    engines.set(peerId, engine);
    return { peerId, engine, store, audit };
  });
  const parties = (idx = [1, 2, 3]) => idx.map((index) => ({ index, peerId: ids[index - 1] }));
  const run = (kind, signed) => Promise.all(nodes.filter((n) => signed.authorization.parties.some((p) => p.peerId === n.peerId)).map((n) => n.engine.run(kind, signed, "bench", { accepted: () => {} })));
  const ok = (frames) => {
    for (const f of frames) if (f.type !== "result") throw new Error(JSON.stringify(f));
    return frames;
  };
  return {
    async keygen(keyId, scheme) {
      const t = performance.now();
      ok(await run("keygen", edge.keygen({ keyId, scheme, parties: parties(), threshold: 2 })));
      return performance.now() - t;
    },
    async sign(keyId, scheme, i) {
      const hash = bytesToHex(randomBytes(32));
      const pair = [[1, 2], [1, 3], [2, 3]][((i % 3) + 3) % 3];
      const t = performance.now();
      ok(await run("sign", edge.sign({ keyId, scheme, parties: parties(pair), body: { kind: "Hash", hash: `0x${hash}` } })));
      return performance.now() - t;
    },
    close() {
      for (const n of nodes) {
        n.engine.close();
        n.audit.close();
        n.store.close();
      }
    },
  };
}

const figures = {};
try {
  const net = { with: await network(true), without: await network(false) };
  for (const mode of ["with", "without"]) await net[mode].keygen(`warm-${mode}`, "frost-ed25519");
  // Interleaved, so both settings see the same machine load.
  const kg = { with: { frost: [], ecdsa: [] }, without: { frost: [], ecdsa: [] } };
  for (let i = 0; i < N_KEYGEN_FROST; i++) for (const mode of ["with", "without"]) kg[mode].frost.push(await net[mode].keygen(`f-${mode}-${i}`, "frost-ed25519"));
  for (let i = 0; i < N_KEYGEN_ECDSA; i++) for (const mode of ["with", "without"]) kg[mode].ecdsa.push(await net[mode].keygen(`e-${mode}-${i}`, "ecdsa-secp256k1"));
  const sg = { with: { frost: [], ecdsa: [] }, without: { frost: [], ecdsa: [] } };
  for (let i = -10; i < N; i++) {
    for (const mode of ["with", "without"]) {
      const f = await net[mode].sign(`f-${mode}-0`, "frost-ed25519", i);
      const e = await net[mode].sign(`e-${mode}-0`, "ecdsa-secp256k1", i);
      if (i >= 0) {
        sg[mode].frost.push(f);
        sg[mode].ecdsa.push(e);
      }
    }
  }
  for (const mode of ["with", "without"]) {
    figures[`${mode}_confirmation_round`] = {
      keygen_frost_ed25519: stats(kg[mode].frost),
      keygen_ecdsa_dkls23: stats(kg[mode].ecdsa),
      sign_frost_ed25519: stats(sg[mode].frost),
      sign_ecdsa_dkls23: stats(sg[mode].ecdsa),
    };
    net[mode].close();
  }
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const signer = new RoundSigner(randomBytes(32));
const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
const statement = randomBytes(145);
const per = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  const sig = signer.sign(statement);
  signer.verify(peer, statement, sig);
  per.push(performance.now() - t);
}
const sk = ed25519.utils.randomSecretKey();
const noble = [];
for (let i = 0; i < 1000; i++) {
  const m = randomBytes(32);
  const t = performance.now();
  ed25519.sign(m, sk);
  noble.push(performance.now() - t);
}

const result = {
  benchmark: "mpc-consistency",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
  setup: "3 CeremonyEngines in one process (real wasm core, SQLite stores, sealed shares, audit logs without fsync), messages via setImmediate; 2-of-3; with and without the keygen/refresh confirmation round, interleaved in one run",
  // with minus without, p50: what the confirmation round adds (signing has no extra round).
  confirmation_round_cost_p50_ms: Object.fromEntries(
    Object.keys(figures.with_confirmation_round).map((k) => [k, +(figures.with_confirmation_round[k].p50_ms - figures.without_confirmation_round[k].p50_ms).toFixed(2)]),
  ),
  ...figures,
  statement_sign_and_verify: stats(per),
  noble_single_key_ed25519: stats(noble),
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/mpc-consistency.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
process.exit(0);
