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
import { authorizationBytes, userActionEvidenceSchema, type Party, type SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import { CeremonyError, MpcCoordinator, type ShareHolderAddress } from "../../shared/src/mpc/coordinator.js";
import { createCoordinatorHost } from "../../mpc-node/src/dev/local-cluster.js";
import { LocalEdge, newLocalUser } from "../../mpc-node/src/dev/local-edge.js";
import { encodeBase64Url, utf8 } from "../../shared/src/dfns/base64url.js";
import { encodeChallenge, userActionChallenge } from "../../shared/src/dfns/user-action.js";
import { getJson, nodeAuditLines, pemCredential, startRig, type Rig } from "./network-rig.js";
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
}, 240_000);

afterAll(async () => {
  await attacker?.host.stop();
  await rig?.stop();
});

/** Every node named refuses before contributing, with `code`; none starts a ceremony for it. */
async function refusedByAll(authorization: SignedAuthorization, code: string, reason?: RegExp) {
  const from = rig.logs.length;
  const err = await attacker.coordinator.sign({ nodes, authorization }).then(
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
      // A user action by a credential the attacker made up (a valid signature, the wrong signer).
      await refusedByAll(good, "user-evidence", /not bound/);
      // The same, claiming the real user's identity and credential id with the attacker's key.
      const posing = { ...newLocalUser(rig.cfg.orgId), subject: serviceAccountId, credId: rig.cfg.credId };
      await refusedByAll(attacker.edge.sign({ keyId: wallet.keyId, walletId: wallet.id, scheme: "ecdsa-secp256k1", parties: signers(pair), body, user: posing }), "user-evidence");
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
      await refusedByAll(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash }, userAction: evidence, message: other.slice(2) }), "intent");
      // Intent and digest agree, but not with what the user signed.
      await refusedByAll(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: evidence }), "intent");
      // The user's evidence with its payload rewritten (the commitment no longer matches).
      await refusedByAll(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: { ...evidence, payload: JSON.stringify({ kind: "Hash", hash: other }) } }), "user-evidence", /commitment/);
      // The wallet-creation evidence used to sign.
      await refusedByAll(attacker.edge.signIntent({ ...o, intent: { kind: "Hash", hash: other }, userAction: creation }), "intent");
      // The user's evidence, a transaction of the attacker's instead of the hash.
      const tx = serializeTransaction({ chainId: 11155111, type: "eip1559", to: "0x000000000000000000000000000000000000dEaD", value: 10n ** 18n, nonce: 0, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n });
      await refusedByAll(attacker.edge.signIntent({ ...o, intent: { kind: "Transaction", transaction: tx }, userAction: evidence }), "intent");
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
      await refusedByAll(attacker.edge.signIntent({ ...o, userAction: login }), "user-evidence", /Login challenge is not a user action/);
      await refusedByAll(attacker.edge.signIntent({ ...o, userAction: old }), "user-evidence", /older than the 300 s allowed/);
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
      await refusedByAll(attacker.edge.signIntent({ ...p, intent: intentFor(diverted), message: bytesToHex(diverted) }), "intent", /not the Spl transfer the user asked for/);
      // The user's recipient, a million times the amount.
      const resized = buildTransferMessage({ ...body, amount: "1000000000" }, sol.address!, blockhash, 6);
      await refusedByAll(attacker.edge.signIntent({ ...p, intent: intentFor(resized), message: bytesToHex(resized) }), "intent", /not the Spl transfer/);
      // SOL instead of the token, with the body rewritten to match (the user never signed it).
      const native = buildTransferMessage({ kind: "Native", to: thief, amount: "1000" }, sol.address!, blockhash);
      await refusedByAll(attacker.edge.signIntent({ ...p, intent: intentFor(native, { kind: "Native", to: thief, amount: "1000" }), message: bytesToHex(native) }), "intent", /not the one the user signed/);
    }
  }, 120_000);

  it("after all this, the genuine user still signs through the API with the same nodes", async () => {
    const res = await rig.dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: hashOf("still mine") } });
    expect(res.status).toBe("Signed");
  }, 60_000);
});
