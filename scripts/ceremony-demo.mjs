#!/usr/bin/env node
// node scripts/ceremony-demo.mjs [text]
//
// Starts three share-holder nodes (regions eu, us, ap) as separate processes, runs a 2-of-3 ECDSA
// keygen and a signature over SHA-256(text) through libp2p, as the edge would (a signed
// authorization carrying the user's signed request), checks the signature with @noble/curves,
// stops the nodes and prints one JSON line:
//   {"publicKey":"<33-byte hex>","digest":"<hex>","signature":"<r||s hex>","recid":0|1,"nodes":3}
// Progress goes to stderr. Needs Node 22 (re-runs itself with the project's node if started on
// an older one).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  const node22 = join(root, "node_modules/.bin/node");
  if (!existsSync(node22)) {
    console.error("ceremony-demo needs Node 22 (npm install provides it in node_modules/.bin)");
    process.exit(1);
  }
  const again = spawnSync(node22, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(again.status ?? 1);
}

const { register } = await import("tsx/esm/api");
register();
const { sha256 } = await import("@noble/hashes/sha2.js");
const { bytesToHex, hexToBytes } = await import("@noble/hashes/utils.js");
const { secp256k1 } = await import("@noble/curves/secp256k1.js");
const { LocalEdge } = await import("../mpc-node/src/dev/local-edge.ts");
const { createCoordinatorHost, startLocalCluster } = await import("../mpc-node/src/dev/local-cluster.ts");
const { MpcCoordinator } = await import("../shared/src/mpc/coordinator.ts");

const text = process.argv[2] ?? "hello from tessera";
const say = (m) => process.stderr.write(`[demo] ${m}\n`);

const edge = new LocalEdge("edge-demo");
const { host, peerId } = await createCoordinatorHost();
let cluster;
let exitCode = 0;
try {
  const t0 = performance.now();
  cluster = await startLocalCluster({ regions: ["eu", "us", "ap"], edge, coordinatorPeerIds: [peerId], auditFsync: true });
  say(`3 nodes up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${cluster.nodes.map((n) => `${n.region} ${n.peerId}`).join(", ")}`);
  const coordinator = new MpcCoordinator(host, { timeoutMs: 300_000 });

  const t1 = performance.now();
  const keyId = `key-demo-${Date.now()}`;
  const key = await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(), threshold: 2 }) });
  say(`2-of-3 ECDSA keygen in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${key.publicKey}`);

  const digest = sha256(new TextEncoder().encode(text));
  const t2 = performance.now();
  const sig = await coordinator.sign({
    nodes: cluster.addresses(),
    authorization: edge.sign({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties([1, 2]), body: { kind: "Hash", hash: `0x${bytesToHex(digest)}` } }),
  });
  say(`signed by eu + us in ${(performance.now() - t2).toFixed(0)} ms`);
  if (!secp256k1.verify(hexToBytes(sig.signature), digest, hexToBytes(key.publicKey), { prehash: false })) throw new Error("the signature does not verify");
  process.stdout.write(`${JSON.stringify({ publicKey: key.publicKey, digest: bytesToHex(digest), signature: sig.signature, recid: sig.recid, nodes: cluster.nodes.length })}\n`);
} catch (e) {
  say(`failed: ${e?.message ?? e}`);
  exitCode = 1;
} finally {
  await host.stop();
  await cluster?.stop();
}
process.exit(exitCode);
