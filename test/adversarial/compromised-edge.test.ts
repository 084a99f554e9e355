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
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPairFromSeed } from "@libp2p/crypto/keys";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import { serializeTransaction } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import type { GovernanceHead } from "../../shared/src/governance/log.js";
import { authorizationBytes, userActionEvidenceSchema, type Party, type SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import { CeremonyError, MpcCoordinator, type ShareHolderAddress } from "../../shared/src/mpc/coordinator.js";
import { createCoordinatorHost } from "../../mpc-node/src/dev/local-cluster.js";
import { LocalEdge, newLocalUser } from "../../mpc-node/src/dev/local-edge.js";
import { encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { encodeChallenge, userActionChallenge } from "../../shared/src/dfns/user-action.js";
import { multiaddr } from "@multiformats/multiaddr";
import { readFrames, writeFrame } from "../../shared/src/mpc/frames.js";
import { CEREMONY_PROTOCOLS, decodeJsonFrame, encodeJsonFrame, MAX_CONTROL_FRAME_BYTES, nodeResponseFrame, type NodeResponseFrame } from "../../shared/src/mpc/protocol.js";
import { getJson, nodeAuditLines, pemCredential, sdkClient, startRig, type Rig } from "./network-rig.js";
import { buildTransferMessage } from "../../shared/src/chains/solana/transfer.js";
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
  rig = await startRig("adv-edge", { chain: false });
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
    const path = `/wallets/${w.id}/signatures`;
    const now = Math.floor(Date.now() / 1000);
    const challenge = userActionChallenge({ method: "POST", path, payload: JSON.stringify(body), orgId: rig.cfg.orgId, subject: sa.userInfo.userId, nonce: "thief-1", issuedAt: now, expiry: now + 300 });
    const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
    const evidence: UserActionEvidence = {
      ...signedHash.evidence,
      subject: sa.userInfo.userId,
      method: "POST",
      path,
      payload: JSON.stringify(body),
      nonce: "thief-1",
      expiry: now + 300,
      challenge,
      credential: { credId: token.credId, credentialUuid: "cr-thief", kind: "Key", publicKey: botKey.publicKeyPem },
      assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(await botKey.sign(clientData)), authenticatorData: null, userHandle: null },
    };
    const keyId = w.signingKey.id!;
    for (const pair of pairs) {
      await refusedByAll(governed(attacker.edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: signers(pair), intent: { kind: "Hash", hash: body.hash }, userAction: evidence })), "governance", /deactivated in the governance log/);
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

  it("after all this, the genuine user still signs through the API with the same nodes", async () => {
    const res = await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf("still mine") } });
    expect(res.status).toBe("Signed");
  }, 60_000);
});
