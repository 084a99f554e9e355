// Webhooks for transfer status changes: a receiver (a real HTTP server verifying the HMAC) gets
// every status change exactly once per event id, even when a delivery fails and is retried, and
// deliveries are recorded; a request held for approval after the share holders' policy refusal
// is announced as requested once. Real anvil, real threshold signatures.
import { createServer } from "node:net";
import { hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeTransaction, type Address, type Hex } from "viem";
import { PolicyRefusalError } from "../../worker/src/signing/authorization.js";
import { startAnvil, type Anvil } from "../chain/anvil.js";
import { deployTestToken, fund } from "../chain/erc20.js";
import { InProcessMpcSigner } from "../chain/mpc-signer.js";
import { startWebhookReceiver, type WebhookReceiver } from "../chain/webhook-receiver.js";
import { newHarness, randomAddress, walletFor } from "./harness.js";

let anvil: Anvil;
let signer: InProcessMpcSigner;
let receiver: WebhookReceiver;
let token: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  receiver = await startWebhookReceiver();
  signer = await InProcessMpcSigner.create();
  const wallet = walletFor(signer).address as Address;
  await fund(anvil, wallet, 10n ** 19n);
  token = await deployTestToken(anvil, wallet, 1000n);
}, 180_000);

afterAll(async () => {
  await receiver?.stop();
  await anvil?.stop();
});

async function closedPortUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  return `http://127.0.0.1:${port}/hooks`;
}

describe("webhooks for transfer status changes", () => {
  it("every status change reaches the receiver exactly once per event id, signed, retried after a failure, recorded", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const all = h.dispatcher.create({ url: `${receiver.url}/all`, events: ["*"], description: "everything" });
    receiver.secrets.set("/all", all.secret);
    const confirmedOnly = h.dispatcher.create({ url: `${receiver.url}/confirmed`, events: ["wallet.transfer.confirmed"] });
    receiver.secrets.set("/confirmed", confirmedOnly.secret);
    const deadUrl = await closedPortUrl();
    const dead = h.dispatcher.create({ url: deadUrl, events: ["wallet.transfer.requested"] });
    // The receiver is briefly unavailable for each "broadcasted" event's first delivery.
    receiver.failFirstAttempt = (e) => e.kind === "wallet.transfer.broadcasted";

    const ok = h.transfer({ kind: "Native", to: randomAddress(), amount: "10" });
    const reverts = h.transfer({ kind: "Erc20", contract: token, to: randomAddress(), amount: "5000" });
    await h.settle({ timeoutMs: 30_000 });
    expect(h.status(ok).status).toBe("Confirmed");
    expect(h.status(reverts).status).toBe("Failed");

    // Every request the receiver got verified with its webhook's own secret.
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.requests.every((r) => r.signatureValid)).toBe(true);

    const events = receiver.events.filter((e) => e.path === "/all");
    // A retried delivery arrives after later ones: receivers order by the event's date, not arrival.
    const stage = ["Pending", "Executing", "Broadcasted", "Confirmed", "Failed"];
    const byTransfer = (id: string) =>
      events
        .filter((e) => (e.data.transferRequest as { id: string }).id === id)
        .map((e) => ({ date: e.date, kind: e.kind, status: (e.data.transferRequest as { status: string }).status }))
        .sort((a, b) => a.date.localeCompare(b.date) || stage.indexOf(a.status) - stage.indexOf(b.status))
        .map((e) => [e.kind, e.status]);
    expect(byTransfer(ok)).toEqual([
      ["wallet.transfer.requested", "Pending"],
      ["wallet.transfer.executing", "Executing"],
      ["wallet.transfer.broadcasted", "Broadcasted"],
      ["wallet.transfer.confirmed", "Confirmed"],
    ]);
    expect(byTransfer(reverts)).toEqual([
      ["wallet.transfer.requested", "Pending"],
      ["wallet.transfer.executing", "Executing"],
      ["wallet.transfer.failed", "Failed"],
    ]);
    const failedEvent = events.find((e) => e.kind === "wallet.transfer.failed")!;
    expect((failedEvent.data.transferRequest as { reason: string }).reason).toBe("execution reverted: ERC20: transfer amount exceeds balance");
    // One id per status change; the receiver saw the retried one twice under the same id.
    expect(new Set(events.map((e) => e.id)).size).toBe(7);
    expect(events).toHaveLength(7);
    const broadcasted = events.find((e) => e.kind === "wallet.transfer.broadcasted")!;
    expect(receiver.requests.filter((r) => r.path === "/all" && r.body.includes(`"id":"${broadcasted.id}"`)).length).toBe(2);
    expect(Math.abs(broadcasted.timestampSent - Date.now() / 1000)).toBeLessThan(60);

    // Deliveries are recorded per webhook.
    const log = h.dispatcher.listEvents(all.id, { limit: 50 });
    expect(log.items).toHaveLength(7);
    expect(log.items.every((i) => i.deliveryState === "Delivered" && i.status === "200")).toBe(true);
    expect(log.items.find((i) => i.id === broadcasted.id)).toMatchObject({ attempts: 2, status: "200" });
    // The filtered webhook got only the confirmation.
    expect(h.dispatcher.listEvents(confirmedOnly.id, { limit: 50 }).items.map((i) => i.kind)).toEqual(["wallet.transfer.confirmed"]);
    // The unreachable endpoint's deliveries were retried until they ran out, each attempt recorded.
    const deadLog = h.dispatcher.listEvents(dead.id, { limit: 50 }).items;
    expect(deadLog).toHaveLength(2);
    for (const item of deadLog) expect(item).toMatchObject({ deliveryState: "Failed", attempts: 6, status: "0", error: "ECONNREFUSED" });
    expect(h.dispatcher.listEvents(dead.id, { limit: 50, deliveryFailed: true }).items).toHaveLength(2);

    // An event handed over again (its outbox acknowledgement was lost) is not delivered again.
    const before = receiver.requests.length;
    for (const e of h.published) expect(h.dispatcher.publish(e)).toBe(0);
    await h.settle();
    expect(receiver.requests.length).toBe(before);
  });

  it("a disabled or deleted webhook gets nothing; updating its events changes what it gets", async () => {
    const h = newHarness({ signer, rpcUrl: anvil.url });
    const hook = h.dispatcher.create({ url: `${receiver.url}/second`, events: ["wallet.transfer.failed"], status: "Disabled" });
    receiver.secrets.set("/second", hook.secret);
    receiver.failFirstAttempt = () => false;
    const before = receiver.events.length;
    h.transfer({ kind: "Native", to: randomAddress(), amount: "1" });
    await h.settle();
    expect(receiver.events.length).toBe(before);
    expect(h.dispatcher.update(hook.id, { status: "Enabled", events: ["wallet.transfer.confirmed"] })).toMatchObject({ status: "Enabled", events: ["wallet.transfer.confirmed"] });
    h.transfer({ kind: "Native", to: randomAddress(), amount: "1" });
    await h.settle();
    expect(receiver.events.slice(before).map((e) => e.kind)).toEqual(["wallet.transfer.confirmed"]);
    expect(h.dispatcher.delete(hook.id)).toBe(true);
    expect(h.dispatcher.get(hook.id)).toBeNull();
    h.transfer({ kind: "Native", to: randomAddress(), amount: "1" });
    await h.settle();
    expect(receiver.events.length).toBe(before + 1);
  });

  it("a request held for approval after the share holders' policy refusal is requested once: executing, held, executing again once approved, confirmed (transfers and transactions)", async () => {
    // The policy gate's second decision (policy/gate.ts reconsiderPolicies), as it answers when a
    // RequestApproval policy landed after it allowed the request: held, under the request's approval.
    const h = newHarness({ signer, rpcUrl: anvil.url, reconsider: async (row) => ({ kind: "ApprovalRequired", approvalId: `ap-${row.id}` }) });
    const hook = h.dispatcher.create({ url: `${receiver.url}/held`, events: ["*"] });
    receiver.secrets.set("/held", hook.secret);
    receiver.failFirstAttempt = () => false;
    // The share holders judge under that newer policy: nothing is signed without its approval.
    signer.nodeCheck = (request) => {
      if (request.authorization.policy.decision !== "Approved") throw new PolicyRefusalError("policy: every signature of this wallet needs approval; no approval was presented");
      return hexToBytes(request.message);
    };
    try {
      const heldThenApproved = async (id: string) => {
        await h.settle();
        const held = h.engine.get(id)!;
        expect(held).toMatchObject({ status: "Pending", approval_id: `ap-${id}`, raw_tx: null, next_attempt_at: null });
        h.engine.resolveApproval(id, { approved: true, outcome: { decision: "Approved", approvalId: `ap-${id}`, approverIds: ["us-approver"] } });
        await h.settle();
        expect(h.status(id).status).toBe("Confirmed");
      };
      const transfer = h.transfer({ kind: "Native", to: randomAddress(), amount: "7" });
      await heldThenApproved(transfer);
      const nonce = Number(BigInt(await anvil.rpc<Hex>("eth_getTransactionCount", [h.wallet.address, "latest"])));
      const base = BigInt((await anvil.rpc<{ baseFeePerGas: Hex }>("eth_getBlockByNumber", ["latest", false])).baseFeePerGas);
      const transaction = h.transaction(
        serializeTransaction({ type: "eip1559", chainId: 31337, nonce, to: randomAddress(), value: 3n, gas: 21_000n, maxFeePerGas: base * 2n + 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n }),
      );
      await heldThenApproved(transaction);

      const requestOf = (e: { data: Record<string, unknown> }) => (e.data.transferRequest ?? e.data.transactionRequest) as { id: string; status: string };
      const delivered = receiver.events.filter((e) => e.path === "/held");
      for (const [id, noun] of [[transfer, "transfer"], [transaction, "transaction"]] as const) {
        // Requested once (Dfns sends one per request); every other status once per time it is entered.
        const expected = ["requested", "executing", "executing", "broadcasted", "confirmed"].map((verb) => `wallet.${noun}.${verb}`);
        expect(h.published.filter((e) => requestOf(e).id === id).map((e) => e.kind)).toEqual(expected);
        const mine = delivered.filter((e) => requestOf(e).id === id);
        expect(mine.map((e) => e.kind).sort()).toEqual([...expected].sort());
        expect(new Set(mine.map((e) => e.id)).size).toBe(expected.length);
        expect(requestOf(mine.find((e) => e.kind === `wallet.${noun}.requested`)!).status).toBe("Pending");
      }
    } finally {
      signer.nodeCheck = null;
    }
  });
});
