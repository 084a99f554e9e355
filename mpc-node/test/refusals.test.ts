// What the share holders refuse, as real processes over libp2p: forged, expired and replayed
// authorizations; a compromised edge (valid edge signature) without the user's own request behind
// it; and a share holder that sends garbage or flipped bits, which must be named while the others
// stay up. Also the signing intents the edge will send (EIP-191 message, EVM transaction, EIP-712,
// transfer), each recomputed by the nodes and checked here with viem's address recovery.
//
// One ECDSA keygen for the whole file; FROST keys (milliseconds) where the scheme does not matter.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Libp2p } from "libp2p";
import {
  keccak256,
  recoverMessageAddress,
  recoverTransactionAddress,
  recoverTypedDataAddress,
  serializeTransaction,
  type Hex,
  type TransactionSerializableEIP1559,
} from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SignedAuthorization } from "../../shared/src/mpc/authorization.js";
import { CeremonyError, MpcCoordinator } from "../../shared/src/mpc/coordinator.js";
import type { NodeFailureCode } from "../../shared/src/mpc/protocol.js";
import { createCoordinatorHost, startLocalCluster, type LocalCluster } from "../src/dev/local-cluster.js";
import { LocalEdge, newLocalUser } from "../src/dev/local-edge.js";

const edge = new LocalEdge();
let cluster: LocalCluster;
let host: Libp2p;
let coordinator: MpcCoordinator;

const walletId = "wa-evm-1";
const keyId = "key-evm-1";
const network = "EthereumSepolia";
const chainId = 11155111;
let address: Hex;
const frostKey = "key-frost-refusals";

beforeAll(async () => {
  const c = await createCoordinatorHost();
  host = c.host;
  cluster = await startLocalCluster({ regions: ["eu", "us", "ap"], edge, coordinatorPeerIds: [c.peerId], timeouts: { signMs: 4_000 } });
  // Generous: an ECDSA keygen is seconds of CPU per node, and CI machines are small and shared.
  coordinator = new MpcCoordinator(host, { timeoutMs: 150_000 });
  const kg = await coordinator.keygen({
    nodes: cluster.addresses(),
    authorization: edge.keygen({ keyId, scheme: "ecdsa-secp256k1", parties: cluster.parties(), threshold: 2, walletId, network }),
  });
  address = publicKeyToAddress(`0x${bytesToHex(secp256k1.Point.fromBytes(hexToBytes(kg.publicKey)).toBytes(false))}`);
  await coordinator.keygen({ nodes: cluster.addresses(), authorization: edge.keygen({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties(), threshold: 2 }) });
}, 300_000);

afterAll(async () => {
  await host?.stop();
  await cluster?.stop();
});

async function refusal(kind: "keygen" | "sign" | "refresh", authorization: SignedAuthorization): Promise<CeremonyError> {
  const run = kind === "keygen" ? coordinator.keygen.bind(coordinator) : kind === "sign" ? coordinator.sign.bind(coordinator) : coordinator.refresh.bind(coordinator);
  const err = await run({ nodes: cluster.addresses(), authorization }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "the ceremony should have been refused").toBeInstanceOf(CeremonyError);
  return err as CeremonyError;
}

/** Every party refused before contributing, with `code`. */
async function expectRefusedByAll(kind: "keygen" | "sign" | "refresh", authorization: SignedAuthorization, code: NodeFailureCode, reason?: RegExp) {
  const err = await refusal(kind, authorization);
  expect(err.failures.map((f) => f.peerId).sort()).toEqual(authorization.authorization.parties.map((p) => p.peerId).sort());
  for (const f of err.failures) {
    expect(f.stage, f.message).toBe("refused");
    expect(f.code, f.message).toBe(code);
    if (reason) expect(f.message).toMatch(reason);
  }
  return err;
}

const hashBody = (text: string) => ({ kind: "Hash", hash: `0x${bytesToHex(sha256(new TextEncoder().encode(text)))}` });

describe("authorizations every node refuses", () => {
  it("forged (another key, or altered after signing), from an unknown edge, or expired", async () => {
    const forger = new LocalEdge(edge.edgeId, undefined, edge.user);
    for (const pair of [[1, 2], [2, 3]]) {
      const parties = cluster.parties(pair);
      await expectRefusedByAll("sign", forger.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties, body: hashBody("forged") }), "forged");
      const good = edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties, body: hashBody("altered") });
      await expectRefusedByAll("sign", { ...good, authorization: { ...good.authorization, expiresAt: good.authorization.expiresAt + 1 } }, "forged");
      const stranger = new LocalEdge("edge-unknown", undefined, edge.user);
      await expectRefusedByAll("sign", stranger.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties, body: hashBody("unknown edge") }), "unknown-edge");
      const now = Date.now();
      await expectRefusedByAll("sign", edge.authorize({ ...good.authorization, nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(16))), issuedAt: now - 120_000, expiresAt: now - 1_000 }), "expired");
    }
    // A keygen and a refresh go to all three nodes at once.
    await expectRefusedByAll("keygen", forger.keygen({ keyId: "key-forged", scheme: "frost-ed25519", parties: cluster.parties(), threshold: 2 }), "forged");
    await expectRefusedByAll("refresh", forger.refresh({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties() }), "forged");
  }, 60_000);

  it("replayed: an authorization that already ran is refused by every node it names", async () => {
    for (const pair of [[1, 2], [2, 3]]) {
      const authorization = edge.sign({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties(pair), body: hashBody(`replay ${pair}`) });
      await coordinator.sign({ nodes: cluster.addresses(), authorization });
      await expectRefusedByAll("sign", authorization, "replayed");
    }
    const refresh = edge.refresh({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties() });
    await coordinator.refresh({ nodes: cluster.addresses(), authorization: refresh });
    await expectRefusedByAll("refresh", refresh, "replayed");
  }, 60_000);
});

describe("the edge's key alone gets no signature", () => {
  const parties = () => cluster.parties([1, 3]);

  it("refuses a missing, forged, altered or unbound user action", async () => {
    const good = edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: parties(), body: hashBody("compromised edge") });
    // No user action at all (the edge signs an authorization without one).
    const { userAction: _dropped, ...withoutUser } = good.authorization as typeof good.authorization & { userAction: unknown };
    const missing = { authorization: withoutUser, signature: good.signature } as unknown as SignedAuthorization;
    await expectRefusedByAll("sign", missing, "malformed", /userAction/);
    // The user's signature replaced by garbage.
    const ua = good.authorization.kind === "sign" ? good.authorization.userAction : null;
    await expectRefusedByAll("sign", edge.authorize({ ...good.authorization, nonce: nonce(), userAction: { ...ua!, assertion: { ...ua!.assertion, signature: ua!.assertion.signature.split("").reverse().join("") } } }), "user-evidence");
    // The payload changed after the user signed it.
    await expectRefusedByAll("sign", edge.authorize({ ...good.authorization, nonce: nonce(), userAction: { ...ua!, payload: JSON.stringify(hashBody("something else")) } }), "user-evidence", /commitment/);
    // A perfectly valid user action — by a credential the edge made up, not the key's owner.
    const impostor = newLocalUser(edge.user.orgId);
    await expectRefusedByAll("sign", edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: parties(), body: hashBody("impostor"), user: impostor }), "user-evidence", /not bound/);
  }, 60_000);

  it("refuses a digest or intent that is not what the user's request says", async () => {
    const body = hashBody("what the user asked for");
    const userAction = edge.userAction("POST", `/wallets/${walletId}/signatures`, body);
    const other = bytesToHex(sha256(new TextEncoder().encode("what the edge wants")));
    // The message to sign differs from the intent (and from the user's body).
    await expectRefusedByAll("sign", edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Hash", hash: body.hash }, userAction, message: other }), "intent");
    // Intent and message agree with each other, not with the user.
    await expectRefusedByAll("sign", edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Hash", hash: `0x${other}` }, userAction }), "intent");
    // The user's action names another wallet.
    const elsewhere = edge.userAction("POST", "/wallets/wa-someone-else/signatures", body);
    await expectRefusedByAll("sign", edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Hash", hash: body.hash }, userAction: elsewhere }), "intent", /wallet/);
    // A transaction swapped for another one.
    const tx = (to: Hex, value: bigint): Hex =>
      serializeTransaction({ chainId, type: "eip1559", to, value, nonce: 3, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n } satisfies TransactionSerializableEIP1559);
    const userTx = tx("0x1111111111111111111111111111111111111111", 5n);
    const txAction = edge.userAction("POST", `/wallets/${walletId}/signatures`, { kind: "Transaction", transaction: userTx });
    const edgeTx = tx("0x2222222222222222222222222222222222222222", 5n);
    await expectRefusedByAll("sign", edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Transaction", transaction: edgeTx }, userAction: txAction }), "intent");
    // The genuine one goes through: the test can fail.
    const ok = await coordinator.sign({ nodes: cluster.addresses(), authorization: edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Hash", hash: body.hash }, userAction }) });
    expect(ok.signature).toMatch(/^[0-9a-f]{128}$/);
  }, 60_000);

  it("a transfer is signed only as the user asked: recipient, amount, chain; one user action, one transaction", async () => {
    const to: Hex = "0x3333333333333333333333333333333333333333";
    const transfer = { kind: "Native" as const, to, amount: "1000" };
    const userAction = edge.userAction("POST", `/wallets/${walletId}/transfers`, transfer);
    const build = (o: Partial<TransactionSerializableEIP1559>): Hex =>
      serializeTransaction({ chainId, type: "eip1559", to, value: 1000n, nonce: 7, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n, ...o });
    // The message is what a lying edge would send: the hash of its own transaction.
    const sign = (transaction: Hex, net = network) =>
      edge.signIntent({ keyId, scheme: "ecdsa-secp256k1", parties: parties(), intent: { kind: "Transfer", network: net, transfer, transaction }, userAction, message: keccak256(transaction).slice(2) });
    await expectRefusedByAll("sign", sign(build({ to: "0x4444444444444444444444444444444444444444" })), "intent", /pays/);
    await expectRefusedByAll("sign", sign(build({ value: 1_000_000n })), "intent", /sends/);
    await expectRefusedByAll("sign", sign(build({ chainId: 1 })), "intent", /chain/);
    await expectRefusedByAll("sign", sign(build({ data: "0xa9059cbb" })), "intent", /call data/);
    await expectRefusedByAll("sign", sign(build({}), "Ethereum"), "intent", /network/);

    const transaction = build({});
    const sig = await coordinator.sign({ nodes: cluster.addresses(), authorization: sign(transaction) });
    const { r, s } = rs(sig.signature);
    const signed = serializeTransaction({ chainId, type: "eip1559", to, value: 1000n, nonce: 7, gas: 21_000n, maxFeePerGas: 30n, maxPriorityFeePerGas: 1n }, { r, s, yParity: sig.recid! });
    expect(await recoverTransactionAddress({ serializedTransaction: signed })).toBe(address);
    // The same user action cannot pay twice (another nonce = another transaction).
    await expectRefusedByAll("sign", sign(build({ nonce: 8 })), "replayed", /user action/);
  }, 60_000);
});

describe("what the edge will ask for: each kind recomputed by the nodes, checked with viem", () => {
  const parties = () => cluster.parties([2, 3]);

  it("Message (EIP-191), Transaction (EIP-1559) and Eip712", async () => {
    const message = "hello from tessera";
    const m = await coordinator.sign({
      nodes: cluster.addresses(),
      authorization: edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: parties(), body: { kind: "Message", message: `0x${bytesToHex(new TextEncoder().encode(message))}` } }),
    });
    expect(await recoverMessageAddress({ message, signature: `0x${m.signature}${m.recid ? "1c" : "1b"}` })).toBe(address);

    const unsigned: TransactionSerializableEIP1559 = { chainId, type: "eip1559", to: "0x5555555555555555555555555555555555555555", value: 42n, nonce: 1, gas: 21_000n, maxFeePerGas: 9n, maxPriorityFeePerGas: 2n };
    const serialized = serializeTransaction(unsigned);
    const t = await coordinator.sign({ nodes: cluster.addresses(), authorization: edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: parties(), body: { kind: "Transaction", transaction: serialized } }) });
    const { r, s } = rs(t.signature);
    expect(await recoverTransactionAddress({ serializedTransaction: serializeTransaction(unsigned, { r, s, yParity: t.recid! }) })).toBe(address);
    expect(keccak256(serialized)).toMatch(/^0x/);

    const typed = {
      domain: { name: "Tessera", version: "1", chainId, verifyingContract: "0x6666666666666666666666666666666666666666" as Hex },
      types: { Mail: [{ name: "from", type: "string" }, { name: "contents", type: "string" }] },
      message: { from: "alice", contents: "hi" },
    };
    const e = await coordinator.sign({ nodes: cluster.addresses(), authorization: edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: parties(), body: { kind: "Eip712", ...typed } }) });
    expect(await recoverTypedDataAddress({ ...typed, primaryType: "Mail", signature: `0x${e.signature}${e.recid ? "1c" : "1b"}` })).toBe(address);
  }, 60_000);
});

describe("a share holder sending garbage or flipped bits", () => {
  it("is named in the error, the others stay up and serve the next session; a cheat caught by the core is banned for that key, persistently", async () => {
    const [eu, us, ap] = cluster.nodes;
    const hashOf = (t: string) => hashBody(t);
    const signWith = (pair: number[], text: string) =>
      coordinator.sign({ nodes: cluster.addresses(), authorization: edge.sign({ keyId, walletId, scheme: "ecdsa-secp256k1", parties: cluster.parties(pair), body: hashOf(text) }) });
    const failureOf = async (pair: number[], text: string) => {
      const err = await signWith(pair, text).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CeremonyError);
      return err as CeremonyError;
    };

    for (const fault of ["garbage", "unparsable", "bitflip"] as const) {
      await ap!.stop();
      await ap!.start({ TESSERA_MPC_NODE_FAULT: fault });
      const honest = fault === "bitflip" ? us! : eu!;
      const pair = fault === "bitflip" ? [2, 3] : [1, 3];
      const err = await failureOf(pair, `fault ${fault}`);
      expect(err.message).toContain(ap!.peerId);
      const report = err.failures.find((f) => f.peerId === honest.peerId)!;
      expect(report.stage, report.message).toBe("failed");
      // The honest node blames ap (for an unreadable frame it may instead time out waiting for it).
      expect([...report.culprits, ...report.waitingFor]).toContain(ap!.peerId);
      expect(report.culprits.concat(report.waitingFor)).not.toContain(honest.peerId);
      if (fault === "bitflip") expect(report.code).toBe("ban");
      else expect(["malformed", "timeout"]).toContain(report.code);
      // eu and us are still up and sign together.
      for (const n of [eu!, us!]) expect(n.child?.exitCode).toBeNull();
      const next = await signWith([1, 2], `after ${fault}`);
      expect(next.signature).toMatch(/^[0-9a-f]{128}$/);
    }

    // Back to an honest ap: eu (which never caught it cheating at the core level) signs with it.
    await ap!.stop();
    await ap!.start();
    expect((await signWith([1, 3], "ap is honest again")).signature).toMatch(/^[0-9a-f]{128}$/);
    // us banned ap for this key when the core flagged it, and keeps refusing it — across a restart.
    const banned = await failureOf([2, 3], "ap is banned");
    expect(banned.failures.find((f) => f.peerId === us!.peerId)).toMatchObject({ stage: "refused", code: "banned" });
    await us!.stop();
    await us!.start();
    const still = await failureOf([2, 3], "ap is still banned");
    expect(still.failures.find((f) => f.peerId === us!.peerId)).toMatchObject({ stage: "refused", code: "banned" });
    // The ban is per key: another key still works with ap.
    const frost = await coordinator.sign({ nodes: cluster.addresses(), authorization: edge.sign({ keyId: frostKey, scheme: "frost-ed25519", parties: cluster.parties([2, 3]), body: hashOf("other key") }) });
    expect(frost.signature).toMatch(/^[0-9a-f]{128}$/);
  }, 120_000);
});

function rs(signature: string): { r: Hex; s: Hex } {
  return { r: `0x${signature.slice(0, 64)}`, s: `0x${signature.slice(64)}` };
}

function nonce(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
}
