// A compromised edge on the real network: the attacker has read the state folder local-network.ts
// writes (edge.json: the edge's Ed25519 authorization key and its libp2p seed), so it can dial the
// share holders as the edge and sign any ceremony authorization — but it has no user credential.
// Every attempt to get a signature out of the wallet's key must be refused by every node it names,
// and no node may take part in a ceremony for it. The wallet and the genuine user actions are made
// through the API by the root service account; the attacker may even hold their evidence (it is
// readable in /auth/action/logs by anyone with Auth:Logs:Read).
//
// mpc-node/test/refusals.test.ts covers the same checks with a stand-in edge (LocalEdge) and
// adds forged, expired and replayed authorizations, and malicious share holders; this file
// proves them against the deployment's actual keys and a wallet the Worker created.
import { spawnSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { ed25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { keccak256, serializeTransaction } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import type { GovernanceHead } from "../../shared/src/governance/log.js";
import { NONCE_WINDOW } from "../../shared/src/chains/evm/fees.js";
import { verifyWalletKeygen, type KeygenEvidence } from "../../shared/src/mpc/keygen-attestation.js";
import { authorizationBytes, userActionEvidenceSchema, type Party, type SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import { CeremonyError, MpcCoordinator, type ShareHolderAddress } from "../../shared/src/mpc/coordinator.js";
import { createCoordinatorHost } from "../../mpc-node/src/dev/local-cluster.js";
import { LocalEdge, newLocalUser } from "../../mpc-node/src/dev/local-edge.js";
import { encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { encodeChallenge, userActionChallenge } from "../../shared/src/dfns/user-action.js";
import { multiaddr } from "@multiformats/multiaddr";
import { readFrames, writeFrame } from "../../shared/src/mpc/frames.js";
import { CEREMONY_PROTOCOLS, decodeJsonFrame, encodeJsonFrame, MAX_CONTROL_FRAME_BYTES, nodeResponseFrame, type NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { getJson, nodeAuditLines, nodeFetch, pemCredential, sdkClient, startRig, type Rig } from "./network-rig.js";
import { ApiClient, keyAttestation, newKeyCredential } from "../api/client.js";
import { buildTransferMessage } from "../../shared/src/chains/solana/transfer.js";
import { approvalIdFor, usageRecordOf, type SigningPolicyFacts, type UsageRecord } from "../../shared/src/policy/at-nodes.js";
import type { KeyCredential } from "../api/client.js";
import { airdrop, createMint, newKeypair, solanaRpc } from "../chain/solana.js";

let rig: Rig;
let attacker: { host: Libp2p; coordinator: MpcCoordinator; edge: LocalEdge };
let wallet: { id: string; keyId: string };
let nodes: ShareHolderAddress[];
let parties: Party[];
/** Evidence of genuine user actions, as the attacker can read it from the action logs. */
let signedHash: { hash: string; evidence: UserActionEvidence };
let creation: UserActionEvidence;
let serviceAccountId: string;

const hashOf = (text: string) => `0x${bytesToHex(sha256(new TextEncoder().encode(text)))}`;

async function evidenceOf(path: string, payloadIncludes = ""): Promise<UserActionEvidence> {
  const logs = await getJson<{ items: { id: string; action: { path: string; payload: string } }[] }>(rig.root, "/auth/action/logs?limit=100");
  const item = logs.items.find((i) => i.action.path === path && i.action.payload.includes(payloadIncludes));
  if (!item) throw new Error(`no user action for ${path}`);
  // As the edge would forward it: the evidence fields only (the log adds e.g. when it was spent).
  const { evidence } = await getJson<{ evidence: Record<string, unknown> }>(rig.root, `/auth/action/logs/${item.id}`);
  const known = Object.keys(userActionEvidenceSchema.shape);
  return Object.fromEntries(Object.entries(evidence).filter(([k]) => known.includes(k))) as unknown as UserActionEvidence;
}

beforeAll(async () => {
  // A price for the amount rules the edge and the nodes evaluate (test (4)).
  rig = await startRig("adv-edge", { chain: false, vars: { POLICY_USD_PRICES: JSON.stringify({ EthereumSepolia: "2000" }) } });
  const w = await rig.dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "victim" } });
  wallet = { id: w.id, keyId: w.signingKey.id! };
  const hash = hashOf("the user's own request");
  expect((await rig.dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash } })).status).toBe("Signed");
  signedHash = { hash, evidence: await evidenceOf(`/wallets/${w.id}/signatures`, hash.slice(2)) };
  creation = await evidenceOf("/wallets");
  serviceAccountId = signedHash.evidence.subject;

  // What the attacker took from the state folder.
  const secrets = JSON.parse(readFileSync(join(rig.dir, "edge.json"), "utf8")) as { edgeId: string; authorizationKey: string; peerSeed: string };
  const { host } = await createCoordinatorHost(await generateKeyPairFromSeed("Ed25519", hexToBytes(secrets.peerSeed)));
  // Every node named must be seen refusing: wait for the last one's report (a loaded machine can
  // take longer than the default 300 ms grace after the first refusal).
  attacker = { host, coordinator: new MpcCoordinator(host, { timeoutMs: 60_000, graceMs: 10_000 }), edge: new LocalEdge(secrets.edgeId, hexToBytes(secrets.authorizationKey), newLocalUser(rig.cfg.orgId)) };
  nodes = rig.net.nodes.map((n) => {
    const config = JSON.parse(readFileSync(n.configPath, "utf8")) as { listen: { ws: string } };
    const port = /\/tcp\/(\d+)/.exec(config.listen.ws)![1];
    return { peerId: n.peerId, region: n.region, multiaddrs: [`/ip4/127.0.0.1/tcp/${port}/ws`] };
  });
  parties = rig.net.nodes.map((n, i) => ({ index: i + 1, peerId: n.peerId }));
  head = governanceHead();
}, 240_000);

afterAll(async () => {
  if (process.env.TESSERA_DUMP_LOGS) (await import("node:fs")).writeFileSync(process.env.TESSERA_DUMP_LOGS, rig.logs.map((l) => `[${l.source}] ${l.line}`).join("\n"));
  await attacker?.host.stop();
  await rig?.stop();
});

/** Each node's head of the org's governance log (the attacker knows them: it relayed every entry). */
function nodeHeads(): GovernanceHead[] {
  return rig.net.nodes.map((n) => {
    const out = spawnSync(process.execPath, [join(process.cwd(), "mpc-node/bin/mpc-node.mjs"), "orgs", "show", rig.cfg.orgId, "--config", n.configPath], { encoding: "utf8" });
    if (out.status !== 0) throw new Error(out.stderr);
    return (JSON.parse(out.stdout) as { head: GovernanceHead }).head;
  });
}

/** The head every node holds now. */
function governanceHead(): GovernanceHead {
  const heads = nodeHeads();
  expect(new Set(heads.map((h) => `${h.length}:${h.hash}`)).size, "the nodes agree on the head").toBe(1);
  return heads[0]!;
}

/** A user action the holder of `credential` really signed (the test plays that user; the attacker only relays it). */
async function signedAction(o: { credential: KeyCredential; subject: string; credId: string; credentialUuid?: string; path: string; body: Record<string, unknown>; nonce: string; issuedAt?: number }): Promise<UserActionEvidence> {
  const issuedAt = o.issuedAt ?? Math.floor(Date.now() / 1000);
  const payload = JSON.stringify(o.body);
  const challenge = userActionChallenge({ method: "POST", path: o.path, payload, orgId: rig.cfg.orgId, subject: o.subject, nonce: o.nonce, issuedAt, expiry: issuedAt + 300 });
  const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
  return {
    ...signedHash.evidence,
    actionId: `ua-${o.nonce}`,
    subject: o.subject,
    method: "POST",
    path: o.path,
    payload,
    nonce: o.nonce,
    expiry: issuedAt + 300,
    challenge,
    credential: { credId: o.credId, credentialUuid: o.credentialUuid ?? `cr-${o.nonce}`, kind: "Key", publicKey: o.credential.publicKeyPem },
    assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await o.credential.sign(clientData)), authenticatorData: null, userHandle: null },
  };
}

/** A service account made through the API with its own key and the given operations (its entries go to the log). */
async function serviceAccount(name: string, operations: string[]): Promise<{ id: string; credId: string; credential: KeyCredential; pem: string }> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const perm = await rig.dfns.permissions.createPermission({ body: { name: `${name}-ops`, operations: operations as never } });
  const sa = await rig.dfns.auth.createServiceAccount({ body: { name, publicKey: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(), permissionId: perm.id } });
  return { id: sa.userInfo.userId, credId: sa.accessTokens[0]!.credId, credential: pemCredential(pem), pem };
}

/** Genuine signatures through the API until every node holds the newest governance entries; returns that head. */
async function syncNodes(): Promise<GovernanceHead> {
  for (let n = 0; n < 3; n++) {
    const heads = nodeHeads();
    if (new Set(heads.map((h) => `${h.length}:${h.hash}`)).size === 1 && n > 0) break;
    expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf(`sync ${Date.now()} ${n}`) } })).status).toBe("Signed");
  }
  return governanceHead();
}

/** One ceremony request to one node, as the edge's protocol sends it; resolves with the node's final frame. */
async function sendTo(node: ShareHolderAddress, signed: SignedAuthorization, cancel?: AbortSignal): Promise<NodeResponseFrame> {
  const stream = await attacker.host.dialProtocol(multiaddr(node.multiaddrs[0]!), CEREMONY_PROTOCOLS.sign);
  cancel?.addEventListener("abort", () => stream.abort(new Error("cancelled by the attacker")));
  await writeFrame(stream, encodeJsonFrame({ type: "authorize", signed }));
  const frames = readFrames(stream, MAX_CONTROL_FRAME_BYTES);
  const deadline = setTimeout(() => stream.abort(new Error("test deadline")), 60_000);
  try {
    for (let f = await frames.next(); !f.done; f = await frames.next()) {
      const decoded = decodeJsonFrame(f.value, nodeResponseFrame);
      if (decoded.ok && decoded.value.type !== "accepted") return decoded.value;
    }
    return { type: "failure", sessionId: null, error: { code: "cancelled", message: "the stream ended", culprits: [], waitingFor: [] } };
  } catch (e) {
    return { type: "failure", sessionId: null, error: { code: "timeout", message: (e as Error).message, culprits: [], waitingFor: [] } };
  } finally {
    clearTimeout(deadline);
  }
}

let head: GovernanceHead;
/** As the attacker sends it: under the nodes' own governance head, so that only the check under test can refuse it. */
const governed = (a: SignedAuthorization) => attacker.edge.governed(a, head);

/** Every node named refuses before contributing, with `code`; none starts a ceremony for it. */
async function refusedByAll(authorization: SignedAuthorization, code: string, reason?: RegExp) {
  const from = rig.logs.length;
  const run = authorization.authorization.kind === "keygen" ? attacker.coordinator.keygen({ nodes, authorization }) : attacker.coordinator.sign({ nodes, authorization });
  const err = await (run as Promise<unknown>).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "the nodes signed for the attacker").toBeInstanceOf(CeremonyError);
  const e = err as CeremonyError;
  expect(e.failures.map((f) => f.peerId).sort()).toEqual(authorization.authorization.parties.map((p) => p.peerId).sort());
  for (const f of e.failures) {
    expect([f.stage, f.code], f.message).toEqual(["refused", code]);
    if (reason) expect(f.message).toMatch(reason);
  }
  const sid = authorization.authorization.sessionId;
  expect(rig.logs.slice(from).filter((l) => l.json && l.json.sessionId === sid && l.json.event !== "refused")).toEqual([]);
}

describe("an attacker holding the edge's authorization key and libp2p seed, without a user credential", () => {
  const pairs = [[1, 2], [2, 3], [1, 3]];
  const signers = (pair: number[]) => parties.filter((p) => pair.includes(p.index));

  it("is admitted by the nodes as the edge — and the edge's key alone signs nothing", async () => {
    const before = nodeAuditLines(rig.net);
    for (const pair of pairs) {
      const body = { kind: "Hash", hash: hashOf(`attacker ${pair}`) };
      // No user action at all.
      const good = attacker.edge.sign({ keyId: wallet.keyId, walletId: wallet.id, scheme: "ecdsa-secp256k1", parties: signers(pair), body });
      const { userAction: _dropped, ...bare } = good.authorization as typeof good.authorization & { userAction: unknown };
      // Validly signed with the real edge key (signAuthorization itself would refuse to build it).
      const signature = bytesToHex(ed25519.sign(authorizationBytes(bare as never), attacker.edge.secretKey));
      await refusedByAll({ authorization: bare, signature } as unknown as SignedAuthorization, "malformed", /userAction/);
      // Without the org's governance head (the org is governed at every node).
      await refusedByAll(good, "governance", /must name the governance head/);
      // A user action by a credential the attacker made up (a valid signature, the wrong signer).
      await refusedByAll(governed(good), "governance", /owned by/);
      // The same, claiming the real user's identity and credential id with the attacker's key.
      const posing = { ...newLocalUser(rig.cfg.orgId), subject: serviceAccountId, credId: rig.cfg.credId };
      await refusedByAll(governed(attacker.edge.sign({ keyId: wallet.keyId, walletId: wallet.id, scheme: "ecdsa-secp256k1", parties: signers(pair), body, user: posing })), "governance", /not in the org's governance log/);
    }
    // The refusals are in each node's audit log; no ceremony ran.
    expect(nodeAuditLines(rig.net).every((n, i) => n > before[i]!)).toBe(true);
  }, 120_000);

  it("the real user's evidence cannot be bent to another digest, another body, another wallet or another kind of request", async () => {
    const { hash, evidence } = signedHash;
    const other = hashOf("what the attacker wants signed");
    for (const pair of pairs) {
      const o = { keyId: wallet.keyId, scheme: "ecdsa-secp256k1" as const, parties: signers(pair) };
      // The user's intent, the attacker's digest.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash }, userAction: evidence, message: other.slice(2) })), "intent");
      // Intent and digest agree, but not with what the user signed.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: evidence })), "intent");
      // The user's evidence with its payload rewritten (the commitment no longer matches).
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: { ...evidence, payload: JSON.stringify({ kind: "Hash", hash: other }) } })), "user-evidence", /commitment/);
      // The wallet-creation evidence used to sign.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: creation })), "intent");
      // The user's evidence, a transaction of the attacker's instead of the hash.
      const tx = serializeTransaction({ chainId: 11155111, type: "eip1559", to: "0x000000000000000000000000000000000000dEaD", value: 10n ** 18n, nonce: 0, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n });
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: { kind: "Transaction", transaction: tx }, userAction: evidence })), "intent");
    }
  }, 120_000);

  it("(5) turns neither the user's login assertion nor a user action older than the cap into a signature", async () => {
    // What the holder of the wallet's credential really signed, outside the API's control: the
    // test plays the user (it holds the service account's key), the attacker only relays.
    const user = pemCredential(rig.cfg.privateKeyPem);
    const body = { kind: "Hash", hash: hashOf("drain") };
    const path = `/wallets/${wallet.id}/signatures`;
    const signedBy = async (challenge: string, nonce: string, expiry: number): Promise<UserActionEvidence> => {
      const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
      return {
        ...signedHash.evidence,
        actionId: `ua-${nonce}`,
        method: "POST",
        path,
        payload: JSON.stringify(body),
        nonce,
        expiry,
        challenge,
        assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await user.sign(clientData)), authenticatorData: null, userHandle: null },
      };
    };
    const now = Math.floor(Date.now() / 1000);
    // A login: the credential signed a Login statement, which the attacker presents as this request.
    const login = await signedBy(encodeChallenge({ kind: "Login", orgId: rig.cfg.orgId, nonce: "login-1", issuedAt: now, expiry: now + 300 }), "login-1", now + 300);
    // A genuine user action for exactly this request, issued 6 minutes ago (stockpiled by the edge).
    const oldAt = now - 360;
    const old = await signedBy(userActionChallenge({ method: "POST", path, payload: JSON.stringify(body), orgId: rig.cfg.orgId, subject: serviceAccountId, nonce: "old-1", issuedAt: oldAt, expiry: oldAt + 300 }), "old-1", oldAt + 300);
    for (const pair of pairs) {
      const o = { keyId: wallet.keyId, scheme: "ecdsa-secp256k1" as const, parties: signers(pair), intent: { kind: "Hash" as const, hash: body.hash } };
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, userAction: login })), "user-evidence", /Login challenge is not a user action/);
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, userAction: old })), "user-evidence", /older than the 300 s allowed/);
    }
  }, 120_000);

  it("a Solana transfer the user signed cannot be redirected, resized or turned into another asset", async () => {
    // The user's genuine request: an SPL transfer that fails before any signing (the recipient has
    // no token account), so its user action reaches the attacker unspent by the nodes.
    const sol = await rig.dfns.wallets.createWallet({ body: { network: "SolanaLocal" as never, name: "sol victim" } });
    const rpc = solanaRpc(rig.net.solanaUrl!);
    const authority = await newKeypair();
    await airdrop(rpc, authority.address, 10n ** 9n);
    const mint = await createMint(rpc, authority, 6);
    const recipient = (await newKeypair()).address;
    const body = { kind: "Spl" as const, mint, to: recipient, amount: "1000" };
    const request = await rig.dfns.wallets.transferAsset({ walletId: sol.id, body });
    const evidence = await evidenceOf(`/wallets/${sol.id}/transfers`, recipient);
    for (let i = 0; i < 100 && (await rig.dfns.wallets.getTransfer({ walletId: sol.id, transferId: request.id })).status !== "Failed"; i++) await new Promise((r) => setTimeout(r, 100));

    const thief = (await newKeypair()).address;
    const blockhash = (await rpc.getLatestBlockhash().send()).value.blockhash;
    const hex = (b: Uint8Array) => `0x${bytesToHex(b)}`;
    const o = { keyId: sol.signingKey.id!, scheme: "frost-ed25519" as const, userAction: evidence };
    const intentFor = (transaction: Uint8Array, transfer: Record<string, string> = body) => ({ kind: "Transfer" as const, network: "SolanaLocal", transfer, transaction: hex(transaction) });
    for (const pair of pairs) {
      const p = { ...o, parties: signers(pair) };
      // The user's body, the thief's token account.
      const diverted = buildTransferMessage({ ...body, to: thief }, sol.address!, blockhash, 6);
      await refusedByAll(governed(attacker.edge.signIntent({ ...p, intent: intentFor(diverted), message: bytesToHex(diverted) })), "intent", /not the Spl transfer the user asked for/);
      // The user's recipient, a million times the amount.
      const resized = buildTransferMessage({ ...body, amount: "1000000000" }, sol.address!, blockhash, 6);
      await refusedByAll(governed(attacker.edge.signIntent({ ...p, intent: intentFor(resized), message: bytesToHex(resized) })), "intent", /not the Spl transfer/);
      // SOL instead of the token, with the body rewritten to match (the user never signed it).
      const native = buildTransferMessage({ kind: "Native", to: thief, amount: "1000" }, sol.address!, blockhash);
      await refusedByAll(governed(attacker.edge.signIntent({ ...p, intent: intentFor(native, { kind: "Native", to: thief, amount: "1000" }), message: bytesToHex(native) })), "intent", /not the one the user signed/);
    }
  }, 120_000);

  it("(1) cannot create a wallet bound to a credential it invented", async () => {
    const invented = newLocalUser(rig.cfg.orgId);
    const posing = { ...newLocalUser(rig.cfg.orgId), subject: serviceAccountId, credId: rig.cfg.credId };
    for (const [i, user] of [invented, posing].entries()) {
      const keygen = attacker.edge.keygen({ keyId: `attacker-key-${i}`, walletId: `wa-attacker-${i}`, network: "EthereumSepolia", scheme: "ecdsa-secp256k1", parties, threshold: 2, user });
      // Validly signed by the edge, under the nodes' own head: the credential is simply not in the org's log.
      await refusedByAll(governed(keygen), "governance", /not in the org's governance log/);
    }
  }, 180_000);

  it("(6) cannot get an EVM transaction signed whose fee exceeds the org's ceiling or whose nonce skips ahead", async () => {
    // The org's governance caps fees on Sepolia: a user-action-signed PUT that exists only as a log entry.
    const gwei = 10n ** 9n;
    const ceiling = { maxFee: String(21_000n * 50n * gwei), maxPriorityFeePerGas: String(2n * gwei) };
    const set = await rig.root.signed("PUT", "/tessera/fee-ceilings/EthereumSepolia", ceiling);
    expect(set.status, await set.clone().text()).toBe(200);
    expect(await getJson(rig.root, "/tessera/fee-ceilings")).toEqual({ items: [{ network: "EthereumSepolia", ...ceiling }] });
    // Two genuine signatures carry the entry to every node (the edge rotates its signers).
    for (const n of [1, 2]) expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf(`ceiling ${n}`) } })).status).toBe("Signed");
    head = governanceHead();

    // The user's genuine, fresh transfer request; the attacker builds the transaction.
    const user = pemCredential(rig.cfg.privateKeyPem);
    const to = "0x000000000000000000000000000000000000dEaD";
    const body = { kind: "Native", to, amount: "1000" };
    const path = `/wallets/${wallet.id}/transfers`;
    const now = Math.floor(Date.now() / 1000);
    const challenge = userActionChallenge({ method: "POST", path, payload: JSON.stringify(body), orgId: rig.cfg.orgId, subject: serviceAccountId, nonce: "fees-1", issuedAt: now, expiry: now + 300 });
    const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
    const evidence: UserActionEvidence = {
      ...signedHash.evidence,
      path,
      payload: JSON.stringify(body),
      nonce: "fees-1",
      expiry: now + 300,
      challenge,
      assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await user.sign(clientData)), authenticatorData: null, userHandle: null },
    };
    const tx = (o: { nonce?: number; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; gas?: bigint }) =>
      serializeTransaction({ chainId: 11155111, type: "eip1559", to, value: 1000n, nonce: 0, gas: 21_000n, maxFeePerGas: 30n * gwei, maxPriorityFeePerGas: gwei, ...o });
    const transfer = (transaction: string) => ({ kind: "Transfer" as const, network: "EthereumSepolia", transfer: body, transaction });
    // No transaction of this key was ever signed on Sepolia: nonces 0 to NONCE_WINDOW - 1 may be
    // (the edge's concurrent transfers), the first one beyond is the attack.
    const ahead = NONCE_WINDOW;
    // A "proof" that the nonce before it was signed: a transaction at that nonce, signed by the attacker's own key.
    const other = secp256k1.utils.randomSecretKey();
    const before = tx({ nonce: ahead - 1 });
    const forged = { transaction: before, signature: bytesToHex(secp256k1.sign(hexToBytes(keccak256(before).slice(2)), other, { prehash: false })) };
    for (const pair of pairs) {
      const o = { keyId: wallet.keyId, scheme: "ecdsa-secp256k1" as const, parties: signers(pair), userAction: evidence };
      // Exactly what the user asked for, paying 1000 gwei per gas: 21 000 000 gwei of fees to a proposer.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: transfer(tx({ maxFeePerGas: 1000n * gwei })) })), "governance", /above the org's ceiling/);
      // The same fee spread over a gas limit 100 times what a transfer needs.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: transfer(tx({ gas: 2_100_000n })) })), "governance", /above the org's ceiling/);
      // A tip above the ceiling.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: transfer(tx({ maxPriorityFeePerGas: 5n * gwei })) })), "governance", /tips .* above the org's ceiling/);
      // Fees within the ceiling, pre-signed for a far nonce.
      await refusedByAll(governed(attacker.edge.signIntent({ ...o, intent: transfer(tx({ nonce: ahead })) })), "intent", new RegExp(`nonce ${ahead} skips ahead`));
      // The same, with a forged proof that the nonce before it was signed.
      const withProof = attacker.edge.signIntent({ ...o, intent: transfer(tx({ nonce: ahead })) });
      await refusedByAll(governed(attacker.edge.authorize({ ...withProof.authorization, nonceProof: forged } as never)), "intent", new RegExp(`nonce ${ahead} skips ahead`));
    }
  }, 240_000);

  it("a wallet's key generation is attested by every node: `tessera wallets verify` passes, and fails for a tampered attestation, public key, owner or pin", async () => {
    const cli = (config: string, ...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), "cli/bin/tessera.mjs"), "--config", config, "--json", ...args], { encoding: "utf8" });
    const localJson = join(rig.dir, "local.json");
    const pinned = rig.net.nodes.map((n) => n.peerId);
    const good = cli(localJson, "wallets", "verify", wallet.id);
    expect(good.status, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ walletId: wallet.id, verified: true, keyId: wallet.keyId, owner: serviceAccountId, governance: { length: expect.any(Number) } });
    expect([...(JSON.parse(good.stdout) as { attestedBy: string[] }).attestedBy].sort()).toEqual([...pinned].sort());

    // The wallet as the API serves it, then as a lying edge might.
    type Served = Parameters<typeof verifyWalletKeygen>[0] & { signingKey: { id: string; publicKey: string }; tessera: { keygen: KeygenEvidence } };
    const w = await getJson<Served>(rig.root, `/wallets/${wallet.id}`);
    expect(verifyWalletKeygen(w, pinned)).toMatchObject({ ok: true });
    const evidence = w.tessera.keygen;
    const otherKey = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
    const served = (keygen: KeygenEvidence, publicKey = w.signingKey.publicKey): Served => ({ ...w, signingKey: { ...w.signingKey, publicKey }, tessera: { keygen } });
    // Another public key shown (an address the attacker controls), claims untouched or rewritten to match.
    expect(verifyWalletKeygen(served(evidence, otherKey), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/attested public key/) });
    expect(verifyWalletKeygen(served({ ...evidence, claims: { ...evidence.claims, publicKey: otherKey } }, otherKey), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    // Another owner, another governance head.
    expect(verifyWalletKeygen(served({ ...evidence, claims: { ...evidence.claims, owner: "us-attacker" } }), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    expect(verifyWalletKeygen(served({ ...evidence, claims: { ...evidence.claims, governance: { length: (evidence.claims.governance?.length ?? 0) + 1, hash: "f".repeat(64) } } }), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    // One signature altered; one attestation left out.
    const flipped = evidence.attestations.map((a, i) => (i === 0 ? { ...a, signature: (a.signature[0] === "0" ? "1" : "0") + a.signature.slice(1) } : a));
    expect(verifyWalletKeygen(served({ ...evidence, attestations: flipped }), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    expect(verifyWalletKeygen(served({ ...evidence, attestations: evidence.attestations.slice(1) }), pinned)).toMatchObject({ ok: false, reason: expect.stringMatching(/no valid attestation from pinned node/) });
    // The CLI against a pin that names another node (the attacker's own peer): exit 5, and why.
    const config = JSON.parse(readFileSync(localJson, "utf8")) as { nodes: { peerId: string }[] };
    const otherPin = join(rig.dir, "other-pin.json");
    writeFileSync(otherPin, JSON.stringify({ ...config, nodes: [...config.nodes.slice(1), { peerId: attacker.host.peerId.toString() }] }));
    const bad = cli(otherPin, "wallets", "verify", wallet.id);
    expect(bad.status).toBe(5);
    expect(bad.stderr).toMatch(new RegExp(`wallet ${wallet.id} does not verify: no valid attestation from pinned node ${attacker.host.peerId.toString()}`));
  }, 60_000);

  it("(7) cannot sign with a credential whose identity's deactivation is in the log", async () => {
    // A second service account with its own key, made through the API (both entries go to the log).
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const perm = await rig.dfns.permissions.createPermission({ body: { name: "signer", operations: ["Wallets:Create", "Wallets:Read", "Wallets:GenerateSignature"] } });
    const sa = await rig.dfns.auth.createServiceAccount({ body: { name: "bot", publicKey: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(), permissionId: perm.id } });
    const token = sa.accessTokens[0]!;
    const bot = sdkClient(rig.cfg.baseUrl, token.accessToken!, token.credId, pem);
    // Governed at the nodes: the bot's wallet is owned by the bot, and the bot signs with it.
    const w = await bot.wallets.createWallet({ body: { network: "EthereumSepolia" } });
    expect((await bot.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash: hashOf("bot 1") } })).status).toBe("Signed");
    // The org deactivates the bot; the next genuine ceremony carries that entry to the nodes.
    await rig.dfns.auth.deactivateServiceAccount({ serviceAccountId: sa.userInfo.userId, body: {} });
    // Two signatures: the edge rotates its signers, so between them every node takes part.
    for (const n of [1, 2]) expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf(`sync ${n}`) } })).status).toBe("Signed");
    head = governanceHead();
    // A thief with the bot's key signs a fresh, genuine user action; the attacker relays it.
    const botKey = pemCredential(pem);
    const body = { kind: "Hash", hash: hashOf("after deactivation") };
    const evidence = await signedAction({ credential: botKey, subject: sa.userInfo.userId, credId: token.credId, credentialUuid: "cr-thief", path: `/wallets/${w.id}/signatures`, body, nonce: "thief-1" });
    const keyId = w.signingKey.id!;
    for (const pair of pairs) {
      await refusedByAll(governed(attacker.edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: signers(pair), intent: { kind: "Hash", hash: body.hash }, userAction: evidence })), "governance", /deactivated in the governance log/);
    }
  }, 240_000);

  it("(7) a wallet is owned by an identity: its second credential signs; a credential whose own deactivation is in the log cannot", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const perm = await rig.dfns.permissions.createPermission({
      body: { name: "two keys", operations: ["Wallets:Create", "Wallets:Read", "Wallets:GenerateSignature", "Auth:Creds:Create", "Auth:Creds:Read", "Auth:Creds:Update"] },
    });
    const sa = await rig.dfns.auth.createServiceAccount({ body: { name: "two keys", publicKey: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(), permissionId: perm.id } });
    const token = sa.accessTokens[0]!;
    const first = pemCredential(pem);
    const withFirst = new ApiClient(nodeFetch, rig.cfg.baseUrl, token.accessToken!, token.credId, first);
    // The wallet is created with the first credential...
    const created = await withFirst.signed("POST", "/wallets", { network: "EthereumSepolia" });
    expect(created.status, await created.clone().text()).toBe(200);
    const w = (await created.json()) as { id: string; signingKey: { id: string } };
    // ...a second credential is added (a log entry), and signs for the wallet: the owner is the identity.
    const second = await newKeyCredential();
    const init = (await (await withFirst.raw("POST", "/auth/credentials/init", { body: JSON.stringify({ kind: "Key" }) })).json()) as { challenge: string; challengeIdentifier: string };
    const added = await withFirst.signed("POST", "/auth/credentials", { ...(await keyAttestation(second, "second-key", init.challenge)), credentialName: "backup", challengeIdentifier: init.challengeIdentifier });
    expect(added.status, await added.clone().text()).toBe(200);
    const withSecond = new ApiClient(nodeFetch, rig.cfg.baseUrl, token.accessToken!, "second-key", second);
    const signedBySecond = await withSecond.signed("POST", `/wallets/${w.id}/signatures`, { kind: "Hash", hash: hashOf("second key") });
    expect(signedBySecond.status, await signedBySecond.clone().text()).toBe(200);
    expect(((await signedBySecond.json()) as { status: string }).status).toBe("Signed");
    // The first credential is lost: the second deactivates it (a log entry), and keeps signing.
    const creds = await getJson<{ items: { credentialUuid: string; credentialId?: string; publicKey?: string }[] }>(withSecond, "/auth/credentials");
    const firstUuid = creds.items.find((c) => c.credentialId === token.credId)?.credentialUuid ?? creds.items[0]!.credentialUuid;
    const off = await withSecond.signed("PUT", "/auth/credentials/deactivate", { credentialUuid: firstUuid });
    expect(off.status, await off.clone().text()).toBe(200);
    for (const n of [1, 2]) {
      const res = await withSecond.signed("POST", `/wallets/${w.id}/signatures`, { kind: "Hash", hash: hashOf(`after loss ${n}`) });
      expect(((await res.json()) as { status: string }).status).toBe("Signed");
    }
    head = governanceHead();
    // The thief holding the first credential signs a fresh, genuine user action; the attacker relays it.
    const body = { kind: "Hash", hash: hashOf("thief with the lost key") };
    const evidence = await signedAction({ credential: first, subject: sa.userInfo.userId, credId: token.credId, credentialUuid: firstUuid, path: `/wallets/${w.id}/signatures`, body, nonce: "lost-1" });
    for (const pair of pairs) {
      await refusedByAll(governed(attacker.edge.signIntent({ keyId: w.signingKey.id, scheme: "ecdsa-secp256k1", parties: signers(pair), intent: { kind: "Hash", hash: body.hash }, userAction: evidence })), "governance", /credential of .* is deactivated in the governance log/);
    }
  }, 240_000);

  it("(8) cannot make two nodes sign under different governance heads", async () => {
    // A governance change, then one genuine signature: its two signers learn the entry, the third does not.
    await rig.dfns.permissions.createPermission({ body: { name: "later", operations: ["Wallets:Read"] } });
    expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf("relay") } })).status).toBe("Signed");
    const heads = nodeHeads();
    const ahead = heads.findIndex((h) => h.length === Math.max(...heads.map((x) => x.length)));
    const behind = heads.findIndex((h) => h.length < heads[ahead]!.length);
    expect(behind, "one node has not seen the newest entry").toBeGreaterThanOrEqual(0);
    // A genuine, fresh user action for one more signature (the user really asked for it).
    const user = pemCredential(rig.cfg.privateKeyPem);
    const body = { kind: "Hash", hash: hashOf("two heads") };
    const path = `/wallets/${wallet.id}/signatures`;
    const now = Math.floor(Date.now() / 1000);
    const challenge = userActionChallenge({ method: "POST", path, payload: JSON.stringify(body), orgId: rig.cfg.orgId, subject: serviceAccountId, nonce: "heads-1", issuedAt: now, expiry: now + 300 });
    const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
    const evidence: UserActionEvidence = {
      ...signedHash.evidence,
      path,
      payload: JSON.stringify(body),
      nonce: "heads-1",
      expiry: now + 300,
      challenge,
      assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await user.sign(clientData)), authenticatorData: null, userHandle: null },
    };
    const pair = parties.filter((p) => p.index === ahead + 1 || p.index === behind + 1);
    const base = attacker.edge.signIntent({ keyId: wallet.keyId, scheme: "ecdsa-secp256k1", parties: pair, intent: { kind: "Hash", hash: body.hash }, userAction: evidence });
    // Each node is told its own head, under one session id (so that their round messages would meet).
    const forAhead = attacker.edge.governed(base, heads[ahead]!);
    const forBehind = attacker.edge.authorize({ ...forAhead.authorization, governance: heads[behind]! });
    const stop = new AbortController();
    const first = sendTo(nodes[ahead]!, forAhead, stop.signal);
    const b = await sendTo(nodes[behind]!, forBehind);
    // Refused by the node behind: the one ahead waits alone for a peer that never comes.
    if (b.type === "failure") stop.abort();
    const a = await first;
    expect([a.type, b.type], "both nodes signed under different heads").not.toEqual(["result", "result"]);
    expect(b).toMatchObject({ type: "failure", error: { code: "governance", message: expect.stringMatching(/session id is not derived/) } });
  }, 240_000);

  it("(2) cannot get a signature that a Block policy forbids", async () => {
    const w = await rig.dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "blocked" } });
    await rig.dfns.policies.createPolicy({
      body: { name: "frozen wallet", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger", configuration: {} }, action: { kind: "Block" }, filters: { walletId: { in: [w.id] } } } as never,
    });
    // The edge refuses it itself…
    expect((await rig.dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash: hashOf("through the API") } })).status).toBe("Rejected");
    head = await syncNodes();
    // …and the attacker, holding a fresh genuine user action for it, gets it from no pair of nodes.
    const user = pemCredential(rig.cfg.privateKeyPem);
    const keyId = w.signingKey.id!;
    for (const pair of pairs) {
      const body = { kind: "Hash", hash: hashOf(`blocked ${pair}`) };
      const userAction = await signedAction({ credential: user, subject: serviceAccountId, credId: rig.cfg.credId, path: `/wallets/${w.id}/signatures`, body, nonce: `blocked-${pair.join("")}` });
      await refusedByAll(governed(attacker.edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: signers(pair), intent: { kind: "Hash", hash: body.hash }, userAction })), "policy", /Blocked by policy "frozen wallet"/);
    }
  }, 240_000);

  // (3): a wallet whose every signature needs two approvals; approvers A and B are service accounts
  // made through the API (so the nodes' log knows their keys and Policies:Approvals:Approve).
  type Approver = { id: string; credId: string; credential: KeyCredential };
  let held: { walletId: string; keyId: string; a: Approver; b: Approver; root: Approver } | null = null;
  let decisions = 0;
  async function heldWallet() {
    if (held) return held;
    const [a, b] = [await serviceAccount("approver-a", ["Policies:Approvals:Approve", "Policies:Approvals:Read"]), await serviceAccount("approver-b", ["Policies:Approvals:Approve", "Policies:Approvals:Read"])];
    const w = await rig.dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "held" } });
    await rig.dfns.policies.createPolicy({
      body: {
        name: "two approvers",
        activityKind: "Wallets:Sign",
        rule: { kind: "AlwaysTrigger", configuration: {} },
        action: { kind: "RequestApproval", approvalGroups: [{ name: "anyone", quorum: 2, approvers: {}, serviceAccountsCanApprove: true }] },
        filters: { walletId: { in: [w.id] } },
      } as never,
    });
    // The edge holds it itself.
    expect((await rig.dfns.wallets.generateSignature({ walletId: w.id, body: { kind: "Hash", hash: hashOf("held through the API") } })).status).toBe("Pending");
    head = await syncNodes();
    held = { walletId: w.id, keyId: w.signingKey.id!, a: a!, b: b!, root: { id: serviceAccountId, credId: rig.cfg.credId, credential: pemCredential(rig.cfg.privateKeyPem) } };
    return held;
  }
  /** The user's request to sign `label` with the held wallet (issued `ageSeconds` ago). */
  const heldRequest = async (label: string, ageSeconds = 0) => {
    const h = await heldWallet();
    const body = { kind: "Hash", hash: hashOf(label) };
    const initiator = await signedAction({ credential: h.root.credential, subject: h.root.id, credId: h.root.credId, path: `/wallets/${h.walletId}/signatures`, body, nonce: `held-${label}`, issuedAt: Math.floor(Date.now() / 1000) - ageSeconds });
    return { initiator, hash: body.hash };
  };
  /** An approver's signed decision on the approval of `initiator`'s request (or another approval id). */
  const decision = (initiator: UserActionEvidence, by: Approver, o: { approvalId?: string } = {}) =>
    signedAction({ credential: by.credential, subject: by.id, credId: by.credId, path: `/v2/policy-approvals/${o.approvalId ?? approvalIdFor(initiator.challenge)}/decisions`, body: { value: "Approved" }, nonce: `decision-${decisions++}` });
  /** The attacker's ceremony request for the held request, carrying `approvals`. */
  const heldAttempt = (pair: number[], r: { initiator: UserActionEvidence; hash: string }, approvals: UserActionEvidence[]) =>
    governed(
      attacker.edge.signIntent({
        keyId: held!.keyId,
        scheme: "ecdsa-secp256k1",
        parties: signers(pair),
        intent: { kind: "Hash", hash: r.hash },
        userAction: r.initiator,
        policy: { network: "EthereumSepolia", walletTags: [], approvals, usage: [] },
      }),
    );

  it("(3) cannot get a held signature without approvals", async () => {
    for (const pair of pairs) await refusedByAll(heldAttempt(pair, await heldRequest(`none ${pair}`), []), "policy", /no approval was presented/);
  }, 240_000);

  it("(3) cannot get a held signature with too few approvals", async () => {
    const { a } = await heldWallet();
    for (const pair of pairs) {
      const r = await heldRequest(`few ${pair}`);
      await refusedByAll(heldAttempt(pair, r, [await decision(r.initiator, a)]), "policy", /do not reach every group's quorum/);
      // An initiator's action older than the cap, carried by one fresh approval: still one short.
      const old = await heldRequest(`few old ${pair}`, 360);
      await refusedByAll(heldAttempt(pair, old, [await decision(old.initiator, a)]), "policy", /do not reach every group's quorum/);
    }
  }, 240_000);

  it("(3) cannot get a held signature with the initiator's own approval", async () => {
    const { a, root } = await heldWallet();
    for (const pair of pairs) {
      const r = await heldRequest(`own ${pair}`);
      await refusedByAll(heldAttempt(pair, r, [await decision(r.initiator, a), await decision(r.initiator, root)]), "policy", /do not reach every group's quorum/);
    }
  }, 240_000);

  it("(3) cannot get a held signature with a forged approval, or with another request's approvals", async () => {
    const { a, b } = await heldWallet();
    // Approver B's identity and credential id, with a key the attacker made (not B's key in the log).
    const forger: Approver = { id: b.id, credId: b.credId, credential: pemCredential(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()) };
    for (const pair of pairs) {
      const r = await heldRequest(`forged ${pair}`);
      await refusedByAll(heldAttempt(pair, r, [await decision(r.initiator, a), await decision(r.initiator, forger)]), "policy", /not one of identity/);
      // Both approvers' genuine decisions — on another request's approval.
      const other = await heldRequest(`other ${pair}`);
      await refusedByAll(heldAttempt(pair, r, [await decision(other.initiator, a), await decision(other.initiator, b)]), "policy", /is not this request's/);
    }
  }, 240_000);

  it("(3) control: two genuine, fresh approvals get a held request signed, though its initiator signed it longer ago than the cap", async () => {
    const { a, b } = await heldWallet();
    const r = await heldRequest("approved", 360);
    await expect(attacker.coordinator.sign({ nodes, authorization: heldAttempt([1, 2], r, [await decision(r.initiator, a), await decision(r.initiator, b)]) })).resolves.toMatchObject({ signature: expect.any(String) });
  }, 240_000);

  let velocityN = 0;
  it("(4) cannot exceed a count velocity limit by sending requests to different node pairs", async () => {
    const user = pemCredential(rig.cfg.privateKeyPem);
    // Count: two signatures per hour for this wallet.
    const counted = await rig.dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "count-limited" } });
    await rig.dfns.policies.createPolicy({
      body: { name: "two per hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 2, timeframe: 60 } }, action: { kind: "Block" }, filters: { walletId: { in: [counted.id] } } } as never,
    });
    head = await syncNodes();
    const log: UsageRecord[] = [];
    const request = async (walletId: string, keyId: string, pair: number[], carried: UsageRecord[]) => {
      const body = { kind: "Hash", hash: hashOf(`velocity ${walletId} ${velocityN}`) };
      const userAction = await signedAction({ credential: user, subject: serviceAccountId, credId: rig.cfg.credId, path: `/wallets/${walletId}/signatures`, body, nonce: `velocity-${velocityN++}` });
      const policy: SigningPolicyFacts = { network: "EthereumSepolia", walletTags: [], approvals: [], usage: carried };
      return { signed: governed(attacker.edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: signers(pair), intent: { kind: "Hash", hash: body.hash }, userAction, policy })), record: usageRecordOf(userAction, policy)! };
    };
    // Two signatures, each by another pair, each within the limit.
    for (const pair of [[1, 2], [2, 3]]) {
      const r = await request(counted.id, counted.signingKey.id!, pair, [...log]);
      await expect(attacker.coordinator.sign({ nodes, authorization: r.signed })).resolves.toMatchObject({ signature: expect.any(String) });
      log.push(r.record);
    }
    // A third by the pair that has not signed together yet: with the log it is over the limit; with
    // the log cut short, each node misses a request it signed itself.
    await refusedByAll((await request(counted.id, counted.signingKey.id!, [1, 3], [...log])).signed, "policy", /3 requests in the last 60 min including this one exceeds the limit of 2/);
    await refusedByAll((await request(counted.id, counted.signingKey.id!, [1, 3], [])).signed, "policy", /lacks request/);
  }, 300_000);

  it("(4) cannot exceed an amount velocity limit by sending requests to different node pairs", async () => {
    const user = pemCredential(rig.cfg.privateKeyPem);
    // Transfers (signatures move no amount): 400 USD each against 1000 USD per hour.
    const summed = await rig.dfns.wallets.createWallet({ body: { network: "EthereumSepolia", name: "amount-limited" } });
    await rig.dfns.policies.createPolicy({
      body: { name: "1000 USD per hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionAmountVelocity", configuration: { limit: 1000, currency: "USD", timeframe: 60 } }, action: { kind: "Block" }, filters: { walletId: { in: [summed.id] } } } as never,
    });
    head = await syncNodes();
    const to = "0x000000000000000000000000000000000000bEEF";
    const transfer = async (pair: number[], carried: UsageRecord[], amount: string) => {
      const body = { kind: "Native", to, amount };
      const n = velocityN++;
      const userAction = await signedAction({ credential: user, subject: serviceAccountId, credId: rig.cfg.credId, path: `/wallets/${summed.id}/transfers`, body, nonce: `amount-${n}` });
      const policy: SigningPolicyFacts = { network: "EthereumSepolia", walletTags: [], asset: { symbol: "ETH", decimals: 18 }, amount, to, approvals: [], usage: carried };
      const tx = serializeTransaction({ chainId: 11155111, type: "eip1559", to, value: BigInt(amount), nonce: n, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n });
      const intent = { kind: "Transfer" as const, network: "EthereumSepolia", transfer: body, transaction: tx };
      return { signed: governed(attacker.edge.signIntent({ keyId: summed.signingKey.id!, scheme: "ecdsa-secp256k1", parties: signers(pair), intent, userAction, policy })), record: usageRecordOf(userAction, policy)! };
    };
    const spent: UsageRecord[] = [];
    const eth = (x: number) => String(BigInt(x * 1000) * 10n ** 15n); // at 2000 USD per ETH (the rig's price)
    for (const pair of [[1, 2], [2, 3]]) {
      const r = await transfer(pair, [...spent], eth(0.2)); // 400 USD each
      await expect(attacker.coordinator.sign({ nodes, authorization: r.signed })).resolves.toMatchObject({ signature: expect.any(String) });
      spent.push(r.record);
    }
    // 400 + 400 + 400 > 1000: refused with the whole log, with no log, and with the amounts shown smaller than the nodes recorded them.
    await refusedByAll((await transfer([1, 3], [...spent], eth(0.2))).signed, "policy", /exceeds the limit of 1000 USD/);
    await refusedByAll((await transfer([1, 3], [], eth(0.2))).signed, "policy", /lacks request/);
    await refusedByAll((await transfer([1, 3], spent.map((r) => ({ ...r, amount: "1" })), eth(0.2))).signed, "policy", /otherwise than this node recorded it/);
  }, 300_000);

  it("the genuine edge carries a governance change to the signers of the very next signature (its copy of the org's head is told of every entry)", async () => {
    // The coordinator keeps the org's head between signatures: a fresh copy now, then one entry.
    expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf(`copy ${Date.now()}`) } })).status).toBe("Signed");
    const before = Math.max(...nodeHeads().map((h) => h.length));
    await rig.dfns.permissions.createPermission({ body: { name: `told ${Date.now()}`, operations: ["Wallets:Read"] } });
    expect((await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf(`after ${Date.now()}`) } })).status).toBe("Signed");
    // Its signers hold the new entry: a copy that missed it would have them sign under the old head.
    expect(Math.max(...nodeHeads().map((h) => h.length))).toBe(before + 1);
  }, 60_000);

  it("after all this, the genuine user still signs through the API with the same nodes", async () => {
    const res = await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf("still mine") } });
    expect(res.status).toBe("Signed");
  }, 60_000);
});
