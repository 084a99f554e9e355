// What a share holder's own checks cost per signature, beside the MPC core's cost, in one run:
//
//   checks, ungoverned   verifyAuthorization for a sign request of an org without a root at the
//                        node: edge signature, user's credential signature, challenge decoding and
//                        age cap, intent recomputation, replay claim (in memory)
//   checks, governed     the same request under the org's governance head: plus syncing the
//                        request's governance feed (200 entries the node already holds, skipped),
//                        head agreement, the derived session id, the owner's credential per the log
//   checks, governed +   the same, the org's log also holding 4 policies (a Block on another wallet,
//     policies           a RequestApproval with a quorum of 2, a count and an amount velocity on
//                        this wallet, the amount one NoAction): the node's own policy evaluation, verifying the 2 approvers'
//                        signed decisions, and the velocity decision over a carried usage log of
//                        50 records of which 25 are this node's own (shared/src/policy/at-nodes.ts)
//   added by governance  governed − ungoverned (target: ≤ 3 ms CPU per node per signature)
//   added by policies    governed + policies − ungoverned (same target)
//   core, per party      one DKLs23 2-of-3 ECDSA signature with runLocally, divided by two parties
//   noble single key     secp256k1.sign of the same digest (the baseline of every benchmark)
//
// CPU time per call (process.cpuUsage), in this process. Writes bench/results/node-checks.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

register();
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (w, ...rest) => (/SQLite/.test(typeof w === "string" ? w : w?.message ?? "") ? undefined : emitWarning(w, ...rest));
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { LocalEdge, newLocalUser } = await import("../mpc-node/src/dev/local-edge.ts");
const { approvalIdFor, usageRequestIdOf } = await import("../shared/src/policy/at-nodes.ts");
const { canonicalJson } = await import("../shared/src/mpc/canonical-json.ts");
const { verifyAuthorization, credentialKeyId } = await import("../shared/src/mpc/authorization.ts");
const { applyEntry, entryHash, genesis } = await import("../shared/src/governance/log.ts");
const { GovernanceBook } = await import("../mpc-node/src/governance/book.ts");
const { NodeStore } = await import("../mpc-node/src/storage/node-store.ts");
const { ShareVault } = await import("../mpc-node/src/storage/share-vault.ts");
const { Ceremony, initMpc, randomSessionId, runLocally } = await import("../wasm/index.ts");

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = 30;
const ENTRIES = 200;
const PEERS = ["12D3KooWAeHaPCnhjjLzfoxyngGHbREYxKKA2VJZMLzqnspGsVeC", "12D3KooWEfaiJpcT976MjjRgVRG2K8FVDoa9Y7CZwx4LnHnfrxg6", "12D3KooWAECNLP3TqP7LEki5oxsYbnFn6ZbnM7Lw4EFjWe1cqVPc"];
const parties = PEERS.map((peerId, i) => ({ index: i + 1, peerId }));

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3) };
};
const cpuMs = async (f) => {
  const before = process.cpuUsage();
  await f();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
};

// An org whose root is the user's key, with a log of ENTRIES permissions created by the root.
const edge = new LocalEdge("edge-bench", undefined, undefined, 120_000);
const user = edge.user;
const dir = mkdtempSync(join(tmpdir(), "tessera-node-checks-"));
const store = new NodeStore(join(dir, "node.db"), new ShareVault(new Uint8Array(32)), PEERS[0]);
store.addGovernedOrg(user.orgId, [credentialKeyId(user.publicKeyPem)], null, Date.now());
let state = genesis(user.orgId, [credentialKeyId(user.publicKeyPem)]);
const entries = [];
for (let i = 0; i < ENTRIES; i++) {
  const body = { name: `p${i}`, operations: ["Wallets:Read"] };
  const entry = { orgId: user.orgId, index: state.head.length, prev: state.head.hash, evidence: edge.userAction("POST", "/permissions", body), effect: { type: "PermissionCreated", permissionId: `pm-${i}`, operations: body.operations }, at: new Date().toISOString() };
  const applied = await applyEntry(state, entry);
  if (!applied.ok) throw new Error(applied.reason);
  state = applied.state;
  entries.push(entry);
}
store.appendGovernanceEntries(user.orgId, entries.map((e) => ({ index: e.index, entry: JSON.stringify(e), hash: entryHash(e) })));
const book = new GovernanceBook(store);
const head = (await book.state(user.orgId)).head;

const key = { keyId: "key-bench", scheme: "ecdsa-secp256k1", threshold: 2, parties, orgId: user.orgId, walletId: "wa-bench", network: "EthereumSepolia", derivationPath: null, credentials: [credentialKeyId(user.publicKeyPem)], owner: user.subject };
const ungovernedKey = { ...key, orgId: `${user.orgId}-plain`, owner: null };
const edgeKeys = new Map([[edge.edgeId, edge.publicKey]]);
const context = (k, governed) => ({
  edgeKeys,
  self: PEERS[0],
  expectedKind: "sign",
  now: Date.now(),
  key: (id) => (id === k.keyId ? k : undefined),
  isBanned: () => false,
  claim: () => ({ ok: true }),
  ...(governed ? { governance: (orgId) => book.state(orgId) } : {}),
});
const request = (i, governed) => {
  const signed = edge.sign({ keyId: key.keyId, walletId: key.walletId, scheme: "ecdsa-secp256k1", parties: parties.slice(0, 2), body: { kind: "Hash", hash: `0x${bytesToHex(sha256(new TextEncoder().encode(`bench ${i}`)))}` }, user: governed ? user : { ...user, orgId: ungovernedKey.orgId } });
  return governed ? edge.governed(signed, head) : signed;
};

async function measure(governed) {
  const xs = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const signed = request(i, governed);
    const ms = await cpuMs(async () => {
      if (governed) {
        const synced = await book.sync(user.orgId, entries);
        if (!synced.ok) throw new Error(synced.reason);
      }
      const r = await verifyAuthorization(signed, context(governed ? key : ungovernedKey, governed));
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    });
    if (i >= WARMUP) xs.push(ms);
  }
  return stats(xs);
}

const ungoverned = await measure(false);
const governed = await measure(true);

// The same org, its log grown by the approvers (two service accounts holding
// Policies:Approvals:Approve) and four policies, in a second node store.
const approvers = [newLocalUser(user.orgId), newLocalUser(user.orgId)].map((u, i) => ({ ...u, subject: `sa-approver-${i}` }));
const policyEntries = [...entries];
let pstate = state;
const append = async (evidence, effect) => {
  const entry = { orgId: user.orgId, index: pstate.head.length, prev: pstate.head.hash, evidence, effect, at: new Date().toISOString() };
  const applied = await applyEntry(pstate, entry);
  if (!applied.ok) throw new Error(applied.reason);
  pstate = applied.state;
  policyEntries.push(entry);
};
await append(edge.userAction("POST", "/permissions", { name: "approve", operations: ["Policies:Approvals:Approve"] }), { type: "PermissionCreated", permissionId: "pm-approve", operations: ["Policies:Approvals:Approve"] });
for (const [i, a] of approvers.entries()) {
  await append(edge.userAction("POST", "/auth/service-accounts", { name: `approver ${i}`, publicKey: a.publicKeyPem, permissionId: "pm-approve" }), {
    type: "IdentityCreated",
    identityId: a.subject,
    kind: "ServiceAccount",
    credentials: [{ credentialUuid: `cr-approver-${i}`, publicKey: a.publicKeyPem }],
    permissionId: "pm-approve",
    assignmentId: `as-approver-${i}`,
  });
}
const policyBodies = [
  { name: "frozen", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger", configuration: {} }, action: { kind: "Block" }, filters: { walletId: { in: ["wa-other"] } } },
  { name: "two approvers", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger", configuration: {} }, action: { kind: "RequestApproval", approvalGroups: [{ name: "all", quorum: 2, approvers: {}, serviceAccountsCanApprove: true }] }, filters: {} },
  { name: "count", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 1000, timeframe: 60 } }, action: { kind: "Block" }, filters: {} },
  // NoAction: a hash signature has no amount, which would trigger (fail closed) a blocking amount rule; it is evaluated all the same.
  { name: "amount", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountVelocity", configuration: { limit: 1000000, currency: "USD", timeframe: 60 } }, action: { kind: "NoAction" }, filters: {} },
];
for (const [i, body] of policyBodies.entries()) {
  const now = new Date().toISOString();
  await append(edge.userAction("POST", "/v2/policies", body), { type: "PolicySet", policy: { id: `pl-${i}`, status: "Active", version: 1, ...body, dateCreated: now, dateUpdated: now } });
}
const pstore = new NodeStore(join(dir, "node-policies.db"), new ShareVault(new Uint8Array(32)), PEERS[0]);
pstore.addGovernedOrg(user.orgId, [credentialKeyId(user.publicKeyPem)], null, Date.now());
pstore.appendGovernanceEntries(user.orgId, policyEntries.map((e) => ({ index: e.index, entry: JSON.stringify(e), hash: entryHash(e) })));
const pbook = new GovernanceBook(pstore);
const phead = (await pbook.state(user.orgId)).head;
const feed = policyEntries.slice(-ENTRIES);
// A usage log of 50 earlier signatures in the window; this node signed every other one.
const usage = Array.from({ length: 50 }, (_, i) => ({ walletId: key.walletId, requestId: usageRequestIdOf(`earlier ${i}`), at: Date.now() - 60_000 + i, network: key.network, kind: "Signature" }));
const own = usage.filter((_, i) => i % 2 === 0).map((r) => ({ requestId: r.requestId, record: canonicalJson(r), at: r.at }));
const policyRequest = (i) => {
  const body = { kind: "Hash", hash: `0x${bytesToHex(sha256(new TextEncoder().encode(`bench policies ${i}`)))}` };
  const userAction = edge.userAction("POST", `/wallets/${key.walletId}/signatures`, body, user);
  const approvals = approvers.map((a) => edge.userAction("POST", `/v2/policy-approvals/${approvalIdFor(userAction.challenge)}/decisions`, { value: "Approved" }, a));
  const signed = edge.signIntent({ keyId: key.keyId, scheme: "ecdsa-secp256k1", parties: parties.slice(0, 2), intent: { kind: "Hash", hash: body.hash }, userAction, policy: { network: key.network, walletTags: [], approvals, usage } });
  return edge.governed(signed, phead);
};
async function measurePolicies() {
  const xs = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const signed = policyRequest(i);
    const ms = await cpuMs(async () => {
      const synced = await pbook.sync(user.orgId, feed);
      if (!synced.ok) throw new Error(synced.reason);
      const r = await verifyAuthorization(signed, {
        ...context(key, true),
        governance: (orgId) => pbook.state(orgId),
        // As the node's store does it, minus SQLite: the decision over this node's own records.
        claim: (c) => {
          const problem = c.policy?.decide(own, Date.now());
          return problem ? { ok: false, code: "policy", reason: problem } : { ok: true };
        },
      });
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    });
    if (i >= WARMUP) xs.push(ms);
  }
  return stats(xs);
}
const withPolicies = await measurePolicies();
pstore.close();

// The core: one DKLs23 signature, both parties in this process.
await initMpc();
const keygenSession = randomSessionId();
const kg = [1, 2, 3].map((me) => Ceremony.keygen({ scheme: "ecdsa-secp256k1", sessionId: keygenSession, me, parties: [1, 2, 3], threshold: 2 }));
runLocally(kg);
const shares = kg.map((c) => c.keyShare());
const core = [];
const noble = [];
const sk = secp256k1.utils.randomSecretKey();
for (let i = 0; i < 40; i++) {
  const digest = sha256(new TextEncoder().encode(`core ${i}`));
  const ms = await cpuMs(() => {
    const sessionId = randomSessionId();
    const cs = [1, 2].map((p) => Ceremony.sign({ share: shares[p - 1], sessionId, signers: [1, 2], message: digest }));
    runLocally(cs);
    cs.forEach((c) => c.free());
  });
  if (i >= 5) core.push(ms / 2);
  noble.push(await cpuMs(() => secp256k1.sign(digest, sk)));
}

const added = { p50_ms: +(governed.p50_ms - ungoverned.p50_ms).toFixed(3), p99_ms: +(governed.p99_ms - ungoverned.p99_ms).toFixed(3) };
const addedPolicies = { p50_ms: +(withPolicies.p50_ms - ungoverned.p50_ms).toFixed(3), p99_ms: +(withPolicies.p99_ms - ungoverned.p99_ms).toFixed(3) };
const result = {
  benchmark: "node-checks",
  date: new Date().toISOString(),
  runtime: `Node ${process.version}, verifyAuthorization in process, CPU time per call; governance log of ${ENTRIES} entries sent with every request`,
  checks_ungoverned_cpu: ungoverned,
  checks_governed_cpu: governed,
  checks_governed_policies_cpu: withPolicies,
  added_by_governance_cpu: added,
  added_by_governance_and_policies_cpu: addedPolicies,
  target_added_p50_ms: 3,
  core_ecdsa_sign_per_party_cpu: stats(core),
  noble_single_key_sign_cpu: stats(noble.slice(5)),
};
console.table({
  "checks, ungoverned": ungoverned,
  "checks, governed": governed,
  "checks, governed + policies": withPolicies,
  "core ECDSA sign, per party": result.core_ecdsa_sign_per_party_cpu,
  "noble single key": result.noble_single_key_sign_cpu,
});
console.log(`added by governance: ${added.p50_ms} ms p50, ${added.p99_ms} ms p99 CPU per node per signature (target ≤ 3 ms)`);
console.log(`added by governance + policies (4 policies, 2 approvals, 50-record usage log): ${addedPolicies.p50_ms} ms p50, ${addedPolicies.p99_ms} ms p99 CPU per node per signature (target ≤ 3 ms)`);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/node-checks.json"), JSON.stringify(result, null, 2) + "\n");
store.close();
rmSync(dir, { recursive: true, force: true });
