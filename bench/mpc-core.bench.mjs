// The MPC core's own cost, all parties in one process, no network: per-party compute of a
// 2-of-3 DKLs23 ECDSA signature, DKG and refresh time, FROST signing, and bytes each party
// sends per signature — beside single-key @noble/curves signing measured in the same run.
// Writes bench/results/mpc-core.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { secp256k1, schnorr } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";

register();
const { initMpc, Ceremony, peekHeader, randomSessionId } = await import("../wasm/index.ts");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const N_SIGN = Number(process.env.BENCH_N ?? 60);
const N_DKG = Number(process.env.BENCH_DKG ?? 3);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3) };
};

/** Runs ceremonies like runLocally, but times each party's own calls and counts its bytes. */
function runTimed(ceremonies) {
  const byParty = new Map(ceremonies.map((c) => [c.me, c]));
  const cpu = new Map(ceremonies.map((c) => [c.me, 0]));
  const sent = new Map(ceremonies.map((c) => [c.me, 0]));
  const queue = [];
  const push = (me, msgs) => {
    for (const m of msgs) sent.set(me, sent.get(me) + m.length);
    queue.push(...msgs);
  };
  for (const c of ceremonies) {
    const t = performance.now();
    const out = c.start();
    cpu.set(c.me, cpu.get(c.me) + performance.now() - t);
    push(c.me, out);
  }
  while (queue.length) {
    const m = queue.shift();
    const to = peekHeader(m).to;
    const c = byParty.get(to);
    const t = performance.now();
    const out = c.receive(m);
    cpu.set(to, cpu.get(to) + performance.now() - t);
    push(to, out);
  }
  return { cpu, sent };
}

function keygen(scheme, n = 3, t = 2) {
  const sessionId = randomSessionId();
  const parties = Array.from({ length: n }, (_, i) => i + 1);
  const cs = parties.map((me) => Ceremony.keygen({ scheme, sessionId, me, parties, threshold: t }));
  const t0 = performance.now();
  const { cpu } = runTimed(cs);
  return { shares: cs.map((c) => c.keyShare()), wall: performance.now() - t0, perParty: [...cpu.values()] };
}

await initMpc();
const digest = new Uint8Array(32).fill(7);

// Baseline: single-key signing with @noble/curves, same process, same run.
const sk = secp256k1.utils.randomSecretKey();
const edSk = ed25519.utils.randomSecretKey();
const base = { secp256k1: [], schnorr: [], ed25519: [] };
for (let i = 0; i < 200 + N_SIGN * 4; i++) {
  let t = performance.now();
  secp256k1.sign(digest, sk, { prehash: false });
  if (i >= 200) base.secp256k1.push(performance.now() - t);
  t = performance.now();
  schnorr.sign(digest, sk);
  if (i >= 200) base.schnorr.push(performance.now() - t);
  t = performance.now();
  ed25519.sign(digest, edSk);
  if (i >= 200) base.ed25519.push(performance.now() - t);
}
const baseline = { noble_secp256k1_sign: stats(base.secp256k1), noble_schnorr_sign: stats(base.schnorr), noble_ed25519_sign: stats(base.ed25519) };

// ECDSA DKG 2-of-3.
const dkg = [];
const dkgPerParty = [];
let ecdsa;
for (let i = 0; i < N_DKG; i++) {
  const r = keygen("ecdsa-secp256k1");
  dkg.push(r.wall);
  dkgPerParty.push(...r.perParty);
  ecdsa = r.shares;
}

// ECDSA signing: per-party compute and bytes.
const signPerParty = [];
const signWall = [];
let bytesPerParty = 0;
for (let i = 0; i < N_SIGN + 5; i++) {
  const signId = randomSessionId();
  const cs = [1, 2].map((p) => Ceremony.sign({ share: ecdsa[p - 1], sessionId: signId, signers: [1, 2], message: digest }));
  const t0 = performance.now();
  const { cpu, sent } = runTimed(cs);
  if (i < 5) continue; // warm-up
  signWall.push(performance.now() - t0);
  signPerParty.push(...cpu.values());
  bytesPerParty = Math.max(...sent.values());
  cs.forEach((c) => c.free());
}

// ECDSA presignatures (wasm/vendor/dkls23-core/PRESIGN.md): presigning ahead of time, then the
// one-round online signature; per-party compute of each, every signature checked with noble.
const presignPerParty = [];
const onlinePerParty = [];
let onlineBytesPerParty = 0;
const ecdsaKey = ecdsa[0].publicKey();
for (let i = 0; i < N_SIGN + 5; i++) {
  const presignId = randomSessionId();
  const presignatureIds = [randomSessionId()];
  const pcs = [1, 2].map((p) => Ceremony.presign({ share: ecdsa[p - 1], sessionId: presignId, signers: [1, 2], presignatureIds }));
  const pre = runTimed(pcs);
  const presignatures = pcs.map((c) => c.presignatures()[0]);
  pcs.forEach((c) => c.free());
  const signId = randomSessionId();
  const ocs = [1, 2].map((p, k) => Ceremony.signPresigned({ share: ecdsa[p - 1], sessionId: signId, signers: [1, 2], message: digest, presignature: presignatures[k] }));
  const online = runTimed(ocs);
  const sig = ocs[0].signature();
  if (!secp256k1.verify(sig.signature, digest, ecdsaKey, { prehash: false })) throw new Error("a signature from a presignature does not verify");
  ocs.forEach((c) => c.free());
  if (i < 5) continue;
  presignPerParty.push(...pre.cpu.values());
  onlinePerParty.push(...online.cpu.values());
  onlineBytesPerParty = Math.max(...online.sent.values());
}

// Refresh 2-of-3 (all three parties).
const refresh = [];
for (let i = 0; i < Math.max(1, N_DKG - 1); i++) {
  const sessionId = randomSessionId();
  const cs = ecdsa.map((share) => Ceremony.refresh({ share, sessionId, parties: [1, 2, 3] }));
  const t0 = performance.now();
  runTimed(cs);
  refresh.push(performance.now() - t0);
}

// FROST.
const frost = {};
for (const scheme of ["frost-ed25519", "frost-bip340"]) {
  const k = keygen(scheme);
  const perParty = [];
  let bytes = 0;
  for (let i = 0; i < N_SIGN * 2; i++) {
    const signId = randomSessionId();
    const cs = [1, 3].map((p) => Ceremony.sign({ share: k.shares[p - 1], sessionId: signId, signers: [1, 3], message: digest }));
    const { cpu, sent } = runTimed(cs);
    perParty.push(...cpu.values());
    bytes = Math.max(...sent.values());
    cs.forEach((c) => c.free());
  }
  frost[scheme] = { dkg_wall_ms: +k.wall.toFixed(1), sign_per_party: stats(perParty), bytes_sent_per_party_per_signature: bytes, share_bytes: k.shares[0].export().length };
}

// The same Rust compiled natively (wasm/examples/native_core.rs), run right after in this run:
// the "ratio to native" of the wasm build. Needs a host cargo (Debian's); skipped without one.
function native() {
  const run = spawnSync("cargo", ["run", "--quiet", "--release", "--locked", "--example", "native_core", "--", String(N_SIGN), "1"], {
    cwd: join(root, "wasm"),
    encoding: "utf8",
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}`, RUSTFLAGS: "" },
  });
  if (run.status !== 0) return { skipped: `cargo run --example native_core failed: ${(run.stderr || run.error?.message || "").trim().slice(-300)}` };
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}
const nativeCore = native();

const ecdsaSign = stats(signPerParty);
const result = {
  benchmark: "mpc-core",
  date: new Date().toISOString(),
  runtime: `Node ${process.versions.node}, wasm/pkg, one process, no network`,
  load_average_1m: +loadavg()[0].toFixed(2),
  baseline,
  native_core: nativeCore,
  ecdsa_2of3: {
    sign_per_party: ecdsaSign,
    sign_wall_both_parties: stats(signWall),
    bytes_sent_per_party_per_signature: bytesPerParty,
    presign_per_party: stats(presignPerParty),
    online_from_presignature_per_party: stats(onlinePerParty),
    online_from_presignature_rounds: 1,
    online_from_presignature_bytes_sent_per_party: onlineBytesPerParty,
    dkg_wall_all_parties: stats(dkg),
    dkg_per_party: stats(dkgPerParty),
    refresh_wall_all_parties: stats(refresh),
  },
  frost,
  // What each node keeps per wallet: the key share (sealed with AES-GCM, + 29 bytes) and a key record
  // row of a few hundred bytes. An ECDSA (DKLs23) share carries the OT correlations of every pair.
  storage_bytes_per_wallet_per_node: {
    ecdsa_secp256k1_dkg_wallet: ecdsa[0].export().length + 29,
    frost_ed25519_dkg_wallet: frost["frost-ed25519"].share_bytes + 29,
    frost_bip340_dkg_wallet: frost["frost-bip340"].share_bytes + 29,
    note: "share export + sealing overhead, key record row not counted; a wallet derived from a master key (deriveFrom) keeps no share: see bench/results/wallet-create.json",
  },
  ratios: {
    ecdsa_sign_per_party_vs_noble_secp256k1: +(ecdsaSign.p50_ms / baseline.noble_secp256k1_sign.p50_ms).toFixed(1),
    ecdsa_online_from_presignature_per_party_vs_noble_secp256k1: +(stats(onlinePerParty).p50_ms / baseline.noble_secp256k1_sign.p50_ms).toFixed(1),
    ...(nativeCore.sign_per_party_p50_ms
      ? {
          ecdsa_sign_per_party_wasm_vs_native: +(ecdsaSign.p50_ms / nativeCore.sign_per_party_p50_ms).toFixed(2),
          ecdsa_dkg_per_party_wasm_vs_native: +(stats(dkgPerParty).p50_ms / nativeCore.dkg_per_party_p50_ms).toFixed(2),
        }
      : {}),
    frost_ed25519_sign_per_party_vs_noble_ed25519: +(frost["frost-ed25519"].sign_per_party.p50_ms / baseline.noble_ed25519_sign.p50_ms).toFixed(1),
    frost_bip340_sign_per_party_vs_noble_schnorr: +(frost["frost-bip340"].sign_per_party.p50_ms / baseline.noble_schnorr_sign.p50_ms).toFixed(1),
  },
  targets: {
    ecdsa_sign_per_party_p50_le_5ms: ecdsaSign.p50_ms <= 5,
    // All three parties on this one thread, one after another (≈ 3× a party's compute): stricter than
    // the target, which is the DKG across three node processes (wallet-create's raw_dkg figure).
    ecdsa_dkg_2of3_all_parties_one_thread_le_2s: stats(dkg).p50_ms <= 2000,
  },
};

mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/mpc-core.json"), JSON.stringify(result, null, 2) + "\n");
const b = baseline.noble_secp256k1_sign.p50_ms;
console.log(`baseline  noble secp256k1 sign p50 ${b} ms, schnorr ${baseline.noble_schnorr_sign.p50_ms} ms, ed25519 ${baseline.noble_ed25519_sign.p50_ms} ms`);
console.log(`ECDSA 2-of-3 sign, per party  p50 ${ecdsaSign.p50_ms} ms  p99 ${ecdsaSign.p99_ms} ms  (${result.ratios.ecdsa_sign_per_party_vs_noble_secp256k1}x noble)  target <= 5 ms: ${result.targets.ecdsa_sign_per_party_p50_le_5ms ? "met" : "NOT met"}`);
if (nativeCore.sign_per_party_p50_ms) console.log(`native (same Rust, x86-64): sign per party p50 ${nativeCore.sign_per_party_p50_ms} ms, DKG per party ${nativeCore.dkg_per_party_p50_ms} ms; wasm/native ${result.ratios.ecdsa_sign_per_party_wasm_vs_native} (sign), ${result.ratios.ecdsa_dkg_per_party_wasm_vs_native} (DKG)`);
else console.log(`native core: ${nativeCore.skipped}`);
console.log(`ECDSA presigning per party p50 ${result.ecdsa_2of3.presign_per_party.p50_ms} ms; online signature from a presignature per party p50 ${result.ecdsa_2of3.online_from_presignature_per_party.p50_ms} ms (1 round, ${onlineBytesPerParty} bytes sent per party)`);
console.log(`ECDSA 2-of-3 sign, both parties wall p50 ${result.ecdsa_2of3.sign_wall_both_parties.p50_ms} ms; ${bytesPerParty} bytes sent per party per signature`);
console.log(`ECDSA 2-of-3 DKG, all parties p50 ${result.ecdsa_2of3.dkg_wall_all_parties.p50_ms} ms (per party ${result.ecdsa_2of3.dkg_per_party.p50_ms} ms)  all on one thread <= 2 s: ${result.targets.ecdsa_dkg_2of3_all_parties_one_thread_le_2s ? "yes" : "no"} (the target is across node processes: wallet-create)`);
console.log(`ECDSA 2-of-3 refresh, all parties p50 ${result.ecdsa_2of3.refresh_wall_all_parties.p50_ms} ms`);
console.log(`bytes per wallet per node: ${JSON.stringify(result.storage_bytes_per_wallet_per_node)}`);
for (const [s, f] of Object.entries(frost)) console.log(`${s} sign per party p50 ${f.sign_per_party.p50_ms} ms, ${f.bytes_sent_per_party_per_signature} bytes; DKG ${f.dkg_wall_ms} ms`);
