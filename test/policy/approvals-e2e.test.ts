// Layer 3 end to end with real processes (three share-holder nodes, anvil, the edge API under
// wrangler dev) and only the unmodified @dfns/sdk + keysigner as client:
//  - a transfer under the USD limit goes straight through; one above it is held for approval:
//    the initiator's own approval is refused, two approvers of a quorum of two approve, and it is
//    signed by the nodes and confirmed on the chain;
//  - a raw signature (amount unknown) is held the same way and signed after approval;
//  - another transfer is denied: it ends Rejected and the nodes never see it (their audit logs do
//    not move, the recipient's balance neither);
//  - a race: a transfer the edge's gate allowed meets, at the nodes, a policy that landed after the
//    gate decided (anvil paused with SIGSTOP holds the transfer before its ceremony). The nodes
//    refuse it under the newer governance; the edge decides again and holds it for approval as if
//    the policy had been there (Pending, the same approval path), and an approval gets it signed
//    and confirmed; a webhook subscriber hears wallet.transfer.requested once, the hold from
//    policy.approval.pending. A Block that lands the same way ends the transfer Rejected, never signed;
//  - the same race for a raw signature: the nodes paused (SIGSTOP) hold one signature in its
//    ceremony and the next, its gate passed, waits its turn (one ceremony per wallet under a
//    velocity policy) while the policy lands: the first is signed, the second held, approved and
//    signed (verified with noble);
//  - the same race inside one request: a PSBT of two wallet inputs, signed input by input, meets
//    the policy at its second input (the first signed under the governance before it): the whole
//    request is held for one approval, then every input is signed.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Transaction } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePsbt, walletOutput, walletSighash } from "../../shared/src/chains/bitcoin/rules.js";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { governLocalOrg, startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";
import { startWebhookReceiver } from "../chain/webhook-receiver.js";

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-policy-e2e-"));
  net = await startLocalNetwork({ stateDir: dir, chain: true, vars: { POLICY_USD_PRICES: JSON.stringify({ Anvil: "2000" }) } });
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  // As npm start does: the nodes hold the org's root of trust and judge every request by its governance log.
  await governLocalOrg(net, cfg);
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 240_000);

afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<DfnsError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof DfnsError) return err;
  throw new Error(`expected a DfnsError, got ${String(err)}`);
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Lines in each share holder's own audit log (one per ceremony it took part in, and more), but for
 * presigning: the pools refill in the background after a signature, for no request in particular.
 */
function nodeAuditLines(): number[] {
  return net.nodes.map((n) => {
    const config = JSON.parse(readFileSync(n.configPath, "utf8")) as { dataDir: string };
    const file = join(resolve(dirname(n.configPath), config.dataDir), "audit.jsonl");
    if (!existsSync(file)) return 0;
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    return lines.filter((l) => (JSON.parse(l) as { entry?: { kind?: string } }).entry?.kind !== "presign").length;
  });
}

async function chain<T>(method: string, params: unknown[]): Promise<T> {
  const res = await fetch(net.chainUrl!, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

function serviceAccountClient(token: { accessToken?: string; credId: string }, privateKey: string): DfnsApiClient {
  return new DfnsApiClient({ baseUrl: net.apiUrl, authToken: token.accessToken!, signer: new AsymmetricKeySigner({ credId: token.credId, privateKey }) });
}

/** A service account under `approvers` (a permission to read and decide approvals), with its own client. */
async function approver(name: string, approvers: { id: string }): Promise<{ userId: string; client: DfnsApiClient }> {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const sa = await dfns.auth.createServiceAccount({ body: { name, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(), permissionId: approvers.id } });
  return { userId: sa.userInfo.userId, client: serviceAccountClient(sa.accessTokens[0]!, privateKey.export({ type: "pkcs8", format: "pem" }).toString()) };
}

/** A new permission to read and decide approvals, and one approver holding it. */
async function soleApprover(name: string, permissionName: string): Promise<{ userId: string; client: DfnsApiClient }> {
  const approvers = await dfns.permissions.createPermission({ body: { name: permissionName, operations: ["Policies:Approvals:Read", "Policies:Approvals:Approve"] } });
  return approver(name, approvers);
}

/** The race tests' policy: every signature of `walletId` needs `approverId`'s approval. */
function everySignatureNeeds(name: string, approverId: string, walletId: string) {
  return {
    name,
    activityKind: "Wallets:Sign",
    rule: { kind: "AlwaysTrigger" },
    action: { kind: "RequestApproval", approvalGroups: [{ name: "ops", quorum: 1, approvers: { userId: { in: [approverId] } }, serviceAccountsCanApprove: true }], autoRejectTimeout: 60 },
    filters: { walletId: { in: [walletId] } },
  } as never;
}

/** Only the policies a test creates itself: every active one archived. */
async function archiveActivePolicies(): Promise<void> {
  for (const p of (await dfns.policies.listPolicies()).items) if (p.status === "Active") await dfns.policies.archivePolicy({ policyId: p.id });
}

describe("policies and approvals through the SDK, with the share holders", () => {
  it("holds what the policy says, refuses the initiator, signs after a quorum of two, never signs a denied request", async () => {
    // Two approvers (service accounts allowed to decide approvals) and the initiator (root SA).
    const approvers = await dfns.permissions.createPermission({ body: { name: "approvers", operations: ["Policies:Approvals:Read", "Policies:Approvals:Approve"] } });
    const [alice, bob] = await Promise.all([approver("alice", approvers), approver("bob", approvers)]);
    // The initiator: the bootstrap service account the root client speaks for.
    const root = (await dfns.auth.listServiceAccounts()).items.find((a) => a.userInfo.userId !== alice.userId && a.userInfo.userId !== bob.userId)!.userInfo.userId;

    await dfns.policies.createPolicy({
      body: {
        name: "over 1000 USD needs two approvers",
        activityKind: "Wallets:Sign",
        rule: { kind: "TransactionAmountLimit", configuration: { limit: 1000, currency: "USD" } },
        action: { kind: "RequestApproval", approvalGroups: [{ name: "treasury", quorum: 2, approvers: { userId: { in: [root, alice.userId, bob.userId] } }, serviceAccountsCanApprove: true }], autoRejectTimeout: 60 },
      },
    });

    const wallet = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "treasury" } });
    expect(wallet.status).toBe("Active");
    await chain("anvil_setBalance", [wallet.address, "0x8ac7230489e80000"]); // 10 ETH
    const recipient = "0x000000000000000000000000000000000000bEEF";

    const balance = async () => BigInt(await chain<string>("eth_getBalance", [recipient, "latest"]));
    const settled = (t: { status: string }) => t.status !== "Pending" && t.status !== "Executing";

    // 0.1 ETH = 200 USD: under the limit, not held.
    const small = await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Native", to: recipient, amount: "100000000000000000" } });
    expect(small.approvalId).toBeUndefined();
    expect((await until("small transfer", () => dfns.wallets.getTransfer({ walletId: wallet.id, transferId: small.id }), (t) => t.status === "Confirmed")).status).toBe("Confirmed");
    expect(await balance()).toBe(100000000000000000n);

    // 1 ETH = 2000 USD: above the limit, held.
    const before = nodeAuditLines();
    const big = await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Native", to: recipient, amount: "1000000000000000000" } });
    expect(big).toMatchObject({ status: "Pending", approvalId: expect.stringMatching(/^ap-/) });
    const approvalId = big.approvalId!;
    const approval = await alice.client.policies.getApproval({ approvalId });
    expect(approval).toMatchObject({ status: "Pending", initiatorId: root, activity: { kind: "Wallets:Sign", transferRequest: { id: big.id } } });
    expect(approval.policyEvaluations[0]).toMatchObject({ triggered: true, reason: "amount 2000 USD exceeds the limit of 1000 USD" });
    expect((await alice.client.policies.listApprovals({ query: { status: "Pending", approverId: alice.userId } })).items.map((a) => a.id)).toEqual([approvalId]);

    // The initiator is a named approver but may not approve their own request.
    const own = await refusal(dfns.policies.createApprovalDecision({ approvalId, body: { value: "Approved" } }));
    expect(own.httpStatus).toBe(403);
    expect(own.message).toBe("The initiator of a request cannot approve it");
    expect((await alice.client.policies.createApprovalDecision({ approvalId, body: { value: "Approved", reason: "invoice 42" } })).status).toBe("Pending");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(nodeAuditLines()).toEqual(before); // one approval of two: nothing reached the nodes
    expect((await dfns.wallets.getTransfer({ walletId: wallet.id, transferId: big.id })).status).toBe("Pending");
    expect((await bob.client.policies.createApprovalDecision({ approvalId, body: { value: "Approved" } })).status).toBe("Approved");

    const done = await until("approved transfer", () => dfns.wallets.getTransfer({ walletId: wallet.id, transferId: big.id }), (t) => t.status === "Confirmed" || t.status === "Failed" || t.status === "Rejected");
    expect(done.status).toBe("Confirmed");
    expect(done.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balance()).toBe(1_100000000000000000n);
    expect(nodeAuditLines().every((n, i) => n >= before[i]!) && nodeAuditLines().some((n, i) => n > before[i]!)).toBe(true);

    // A raw signature's amount cannot be known: the limit policy holds it too (fail closed), and
    // the same two approvals release it; the nodes' signature verifies against the wallet key.
    const hash = bytesToHex(sha256(new TextEncoder().encode("release the treasury")));
    const heldSignature = await dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: `0x${hash}` } });
    expect(heldSignature).toMatchObject({ status: "Pending", approvalId: expect.stringMatching(/^ap-/) });
    await alice.client.policies.createApprovalDecision({ approvalId: heldSignature.approvalId!, body: { value: "Approved" } });
    await bob.client.policies.createApprovalDecision({ approvalId: heldSignature.approvalId!, body: { value: "Approved" } });
    const signed = await until("approved signature", () => dfns.wallets.getSignature({ walletId: wallet.id, signatureId: heldSignature.id }), settled);
    expect(signed.status).toBe("Signed");
    const compact = Buffer.from(signed.signature!.r.slice(2) + signed.signature!.s.slice(2), "hex");
    expect(secp256k1.verify(compact, Buffer.from(hash, "hex"), Buffer.from(wallet.signingKey.publicKey, "hex"), { prehash: false })).toBe(true);

    // Another transfer above the limit, denied: Rejected, never signed, the nodes never hear of it.
    const quiet = nodeAuditLines();
    const denied = await dfns.wallets.transferAsset({ walletId: wallet.id, body: { kind: "Native", to: recipient, amount: "2000000000000000000" } });
    expect(denied.status).toBe("Pending");
    expect((await alice.client.policies.createApprovalDecision({ approvalId: denied.approvalId!, body: { value: "Denied", reason: "not ours" } })).status).toBe("Denied");
    const rejected = await until("denied transfer", () => dfns.wallets.getTransfer({ walletId: wallet.id, transferId: denied.id }), settled);
    expect(rejected.status).toBe("Rejected");
    expect(rejected.txHash).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(nodeAuditLines()).toEqual(quiet);
    expect(await balance()).toBe(1_100000000000000000n);
    expect((await refusal(bob.client.policies.createApprovalDecision({ approvalId: denied.approvalId!, body: { value: "Approved" } }))).httpStatus).toBe(409);
  }, 300_000);

  it("a policy that lands between the edge's gate and the nodes' check holds the transfer for approval (or rejects it) instead of failing it", async () => {
    const carol = await soleApprover("carol", "race approvers");
    const recipient = "0x000000000000000000000000000000000000cafE";
    const balance = async () => BigInt(await chain<string>("eth_getBalance", [recipient, "latest"]));
    const anvil = net.pids().chain!;
    const final = (t: { status: string; approvalId?: string }) => !["Pending", "Executing"].includes(t.status) || t.approvalId !== undefined;

    /** A transfer the gate allows, then `policy` lands while the transfer waits for the paused chain before its ceremony. */
    const racing = async (walletId: string, policy: Parameters<DfnsApiClient["policies"]["createPolicy"]>[0]["body"]) => {
      process.kill(anvil, "SIGSTOP");
      try {
        // 0.1 ETH = 200 USD: under every policy in force now, so the gate allows it (no approval).
        const t = await dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to: recipient, amount: "100000000000000000" } });
        expect(t).toMatchObject({ status: "Pending" });
        expect(t.approvalId).toBeUndefined();
        // Its wallet object is building it (gas, fees and nonce need the chain): no ceremony yet.
        await until("transfer executing", () => dfns.wallets.getTransfer({ walletId, transferId: t.id }), (x) => x.status === "Executing");
        await dfns.policies.createPolicy({ body: policy });
        return t;
      } finally {
        process.kill(anvil, "SIGCONT");
      }
    };

    // Every event of the org, as a subscriber gets it.
    const receiver = await startWebhookReceiver();
    const hook = await dfns.webhooks.createWebhook({ body: { url: `${receiver.url}/race`, events: ["*" as never] } });
    receiver.secrets.set("/race", hook.secret);
    const wallet = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "race" } });
    await chain("anvil_setBalance", [wallet.address, "0x8ac7230489e80000"]);
    const held = await racing(wallet.id, everySignatureNeeds("race: every signature of this wallet needs carol", carol.userId, wallet.id));
    // The nodes refused it under the new policy; the edge holds it as the gate would have.
    const pending = await until("held transfer", () => dfns.wallets.getTransfer({ walletId: wallet.id, transferId: held.id }), final);
    expect(pending).toMatchObject({ status: "Pending", approvalId: expect.stringMatching(/^ap-/) });
    expect(pending.txHash).toBeUndefined();
    const approval = await carol.client.policies.getApproval({ approvalId: pending.approvalId! });
    expect(approval).toMatchObject({ status: "Pending", activity: { kind: "Wallets:Sign", transferRequest: { id: held.id } } });
    expect(approval.policyEvaluations.find((e) => e.triggered)).toMatchObject({ triggered: true });
    expect(await balance()).toBe(0n);
    // Approved by carol: signed by the nodes (they verify carol's signed decision) and confirmed.
    expect((await carol.client.policies.createApprovalDecision({ approvalId: pending.approvalId!, body: { value: "Approved" } })).status).toBe("Approved");
    const done = await until("approved transfer", () => dfns.wallets.getTransfer({ walletId: wallet.id, transferId: held.id }), (t) => !["Pending", "Executing", "Broadcasted"].includes(t.status));
    expect(done.status).toBe("Confirmed");
    expect(await balance()).toBe(100000000000000000n);
    // Announced as Dfns does: requested once (not again when held), the hold by the policy's events.
    const about = (e: { data: Record<string, unknown> }) => (e.data.transferRequest as { id?: string } | undefined)?.id === held.id;
    const events = await until("the confirmation's webhook", async () => receiver.events.filter((e) => e.path === "/race"), (list) => list.some((e) => about(e) && e.kind === "wallet.transfer.confirmed"));
    expect(events.filter(about).map((e) => e.kind).sort()).toEqual(["wallet.transfer.broadcasted", "wallet.transfer.confirmed", "wallet.transfer.executing", "wallet.transfer.executing", "wallet.transfer.requested"]);
    expect(events.filter((e) => e.kind === "policy.approval.pending" && (e.data.approval as { id?: string } | undefined)?.id === pending.approvalId)).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === "/race").every((r) => r.signatureValid)).toBe(true);
    await receiver.stop();

    // A Block that lands the same way: Rejected with the policy's reason, nothing signed or sent.
    const other = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "race blocked" } });
    await chain("anvil_setBalance", [other.address, "0x8ac7230489e80000"]);
    const blocked = await racing(other.id, { name: "race: freeze", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger" }, action: { kind: "Block" }, filters: { walletId: { in: [other.id] } } } as never);
    const rejected = await until("blocked transfer", () => dfns.wallets.getTransfer({ walletId: other.id, transferId: blocked.id }), final);
    expect(rejected).toMatchObject({ status: "Rejected", reason: expect.stringMatching(/race: freeze/) });
    expect(rejected.txHash).toBeUndefined();
    expect(await balance()).toBe(100000000000000000n);
  }, 240_000);

  it("a raw signature whose gate allowed it before such a policy landed is held for approval, then signed", async () => {
    // Only the policies of this test: the others would hold a raw signature at once (no amount).
    await archiveActivePolicies();
    const dave = await soleApprover("dave", "signature approvers");
    const wallet = await dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "race signatures" } });
    // A velocity policy that never triggers here: with one in force the edge runs one ceremony per
    // wallet at a time, so a second signature waits, gate passed, behind the first.
    await dfns.policies.createPolicy({
      body: { name: "sig race: at most 1000 per hour", activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: 1000, timeframe: 60 } }, action: { kind: "Block" }, filters: { walletId: { in: [wallet.id] } } } as never,
    });
    const digest = (text: string) => bytesToHex(sha256(new TextEncoder().encode(text)));
    const executing = async () => (await dfns.wallets.listSignatures({ walletId: wallet.id })).items.filter((x) => x.status === "Executing").length;

    // The nodes paused: the first signature's ceremony waits for them, the second waits its turn.
    const pids = net.nodes.map((n) => n.process.pid!);
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    let first: ReturnType<typeof dfns.wallets.generateSignature>, second: ReturnType<typeof dfns.wallets.generateSignature>;
    try {
      first = dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: `0x${digest("first")}` } });
      await until("first executing", executing, (n) => n === 1);
      second = dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: `0x${digest("second")}` } });
      await until("second executing", executing, (n) => n === 2);
      // Both allowed by the gate; now a policy that would have held them lands.
      await dfns.policies.createPolicy({ body: everySignatureNeeds("sig race: every signature needs dave", dave.userId, wallet.id) });
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
    // The first ceremony was under way under the governance before the policy: signed.
    expect((await first).status).toBe("Signed");
    // The second met the policy at the nodes: held, as the gate would hold it now.
    const held = await second;
    expect(held).toMatchObject({ status: "Pending", approvalId: expect.stringMatching(/^ap-/) });
    expect(held.signature).toBeUndefined();
    expect((await dave.client.policies.createApprovalDecision({ approvalId: held.approvalId!, body: { value: "Approved" } })).status).toBe("Approved");
    const signed = await until("approved signature", () => dfns.wallets.getSignature({ walletId: wallet.id, signatureId: held.id }), (x) => x.status !== "Pending" && x.status !== "Executing");
    expect(signed.status).toBe("Signed");
    const compact = Buffer.from(signed.signature!.r.slice(2) + signed.signature!.s.slice(2), "hex");
    expect(secp256k1.verify(compact, Buffer.from(digest("second"), "hex"), Buffer.from(wallet.signingKey.publicKey, "hex"), { prehash: false })).toBe(true);
  }, 240_000);

  it("a multi-input PSBT that meets such a policy at a later input is held for one approval, then every input is signed", async () => {
    await archiveActivePolicies();
    const erin = await soleApprover("erin", "psbt approvers");
    const wallet = await dfns.wallets.createWallet({ body: { network: "BitcoinRegtest" as never, name: "race psbt" } });
    // Two coins of the wallet (made up: the nodes sign what the PSBT says, nothing is broadcast),
    // each input signed in a ceremony of its own, one after the other.
    const own = walletOutput("ecdsa-secp256k1", wallet.signingKey.publicKey);
    const unsigned = new Transaction({ version: 2 });
    for (let i = 0; i < 2; i++) unsigned.addInput({ txid: randomBytes(32), index: i, witnessUtxo: { script: own.script, amount: 100_000n } });
    unsigned.addOutput({ script: own.script, amount: 190_000n });
    const psbt = `0x${bytesToHex(unsigned.toPSBT())}`;
    const executing = async () => (await dfns.wallets.listSignatures({ walletId: wallet.id })).items.filter((x) => x.status === "Executing").length;

    // The nodes paused: the first input's ceremony is asked for under the governance of now; the
    // policy lands before the second input's is (it waits for the first).
    const pids = net.nodes.map((n) => n.process.pid!);
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    let signing: ReturnType<typeof dfns.wallets.generateSignature>;
    try {
      signing = dfns.wallets.generateSignature({ walletId: wallet.id, body: { kind: "Psbt", psbt } });
      await until("PSBT executing", executing, (n) => n === 1);
      await dfns.policies.createPolicy({ body: everySignatureNeeds("psbt race: every signature needs erin", erin.userId, wallet.id) });
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
    // Refused at input 1, signed at input 0: held as a whole, nothing of it returned.
    const held = await signing;
    expect(held).toMatchObject({ status: "Pending", approvalId: expect.stringMatching(/^ap-/) });
    expect(held.signatures).toBeUndefined();
    expect(held.signedData).toBeUndefined();
    expect((await erin.client.policies.getApproval({ approvalId: held.approvalId! })).activity).toMatchObject({ kind: "Wallets:Sign", signatureRequest: { id: held.id } });
    expect((await erin.client.policies.createApprovalDecision({ approvalId: held.approvalId!, body: { value: "Approved" } })).status).toBe("Approved");
    const signed = await until("approved PSBT", () => dfns.wallets.getSignature({ walletId: wallet.id, signatureId: held.id }), (x) => x.status !== "Pending" && x.status !== "Executing");
    expect(signed.status).toBe("Signed");
    // Both inputs signed, each signature over its own input's sighash under the wallet's key.
    expect(signed.signatures).toHaveLength(2);
    const tx = parsePsbt(signed.signedData!);
    for (const [index, sig] of signed.signatures!.entries()) {
      const compact = Buffer.from(sig.r.slice(2) + sig.s.slice(2), "hex");
      expect(secp256k1.verify(compact, walletSighash(tx, index, own), Buffer.from(wallet.signingKey.publicKey, "hex"), { prehash: false, lowS: false })).toBe(true);
      expect(tx.getInput(index).partialSig).toHaveLength(1);
    }
  }, 240_000);
});
