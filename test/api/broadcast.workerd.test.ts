// Layer 5 inside workerd: the /webhooks API (Dfns shape, permissioned, user-action signed), input
// validation and permissions of the transfer routes, and the real Durable Objects — a wallet's
// transfers object announcing status changes through its outbox to the org's webhook object, whose
// alarm records each delivery attempt. (Chain, signing and confirmation are covered against a real
// anvil in test/broadcast.)
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evmAddressOf } from "../../worker/src/chains/evm/transaction.js";
import type { WalletTransfers } from "../../worker/src/broadcast/wallet-transfers.js";
import { walletTransfersName } from "../../worker/src/broadcast/wallet-transfers.js";
import type { WalletRecord } from "../../worker/src/broadcast/wallet-directory.js";
import type { Webhooks } from "../../worker/src/webhooks/webhooks-object.js";
import { ApiClient, newKeyCredential } from "./client.js";
import { BASE, fetcher, json, newOrg } from "./fixtures.js";

const PUBLIC_KEY = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"; // the generator point, as a stand-in public key

async function limitedClient(sa: ApiClient, operations: string[]) {
  const key = await newKeyCredential("P-256");
  const created = await json<{ userInfo: { userId: string }; accessTokens: { accessToken: string; credId: string }[] }>(
    await sa.signed("POST", "/auth/service-accounts", { name: `limited-${operations.join("-")}`, publicKey: key.publicKeyPem }),
  );
  if (operations.length) {
    const perm = await json<{ id: string }>(await sa.signed("POST", "/permissions", { name: `p-${crypto.randomUUID()}`, operations }));
    await sa.signed("POST", `/permissions/${perm.id}/assignments`, { identityId: created.userInfo.userId });
  }
  return { client: new ApiClient(fetcher, BASE, created.accessTokens[0]!.accessToken, created.accessTokens[0]!.credId, key), userId: created.userInfo.userId };
}

describe("/webhooks", () => {
  it("create (secret shown once), list, get, update, events, delete; bad input 400; unknown 404", async () => {
    const { sa } = await newOrg();
    const created = await sa.signed("POST", "/webhooks", { url: "https://hooks.example.com/tessera", events: ["wallet.transfer.confirmed", "wallet.transfer.failed"], description: "ops" });
    expect(created.status).toBe(200);
    const hook = await json<{ id: string; secret: string; url: string; events: string[]; status: string; dateCreated: string }>(created);
    expect(hook).toMatchObject({ url: "https://hooks.example.com/tessera", events: ["wallet.transfer.confirmed", "wallet.transfer.failed"], status: "Enabled", description: "ops" });
    expect(hook.id).toMatch(/^wh-/);
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);

    const got = await json<Record<string, unknown>>(await sa.get(`/webhooks/${hook.id}`));
    expect(got).toMatchObject({ id: hook.id, status: "Enabled" });
    expect(got).not.toHaveProperty("secret");
    expect((await json<{ items: { id: string }[] }>(await sa.get("/webhooks"))).items.map((w) => w.id)).toEqual([hook.id]);

    const updated = await json<Record<string, unknown>>(await sa.signed("PUT", `/webhooks/${hook.id}`, { status: "Disabled", events: ["*"] }));
    expect(updated).toMatchObject({ status: "Disabled", events: ["*"], url: hook.url });
    expect(await json(await sa.get(`/webhooks/${hook.id}/events`))).toEqual({ items: [] });

    for (const body of [
      { url: "ftp://x.example.com", events: ["*"] },
      { url: "not a url", events: ["*"] },
      { url: "https://x.example.com", events: [] },
      { url: "https://x.example.com", events: ["Wallet Transfer!"] },
      { events: ["*"] },
    ]) {
      const res = await sa.signed("POST", "/webhooks", body);
      expect(res.status).toBe(400);
      expect((await json<{ error: { message: string } }>(res)).error.message).toMatch(/^Invalid request: /);
    }
    expect((await sa.get("/webhooks/wh-nope")).status).toBe(404);
    expect((await sa.signed("PUT", "/webhooks/wh-nope", { status: "Enabled" })).status).toBe(404);
    expect((await sa.get("/webhooks?limit=0")).status).toBe(400);

    expect(await json(await sa.signed("DELETE", `/webhooks/${hook.id}`, {}))).toEqual({ deleted: true });
    expect((await sa.get(`/webhooks/${hook.id}`)).status).toBe(404);
    expect((await json<{ items: unknown[] }>(await sa.get("/webhooks"))).items).toEqual([]);
  });

  it("needs the Webhooks operations", async () => {
    const { sa } = await newOrg();
    const { client, userId } = await limitedClient(sa, ["Webhooks:Read"]);
    expect((await client.get("/webhooks")).status).toBe(200);
    const refused = await client.signed("POST", "/webhooks", { url: "https://x.example.com/h", events: ["*"] });
    expect(refused.status).toBe(403);
    expect((await json<{ error: { message: string } }>(refused)).error.message).toBe(`Service account ${userId} is not authorized to perform operation (Webhooks:Create)`);
    expect((await json<{ items: unknown[] }>(await sa.get("/webhooks"))).items).toEqual([]);
  });
});

describe("/wallets/:walletId/transfers and …/transactions", () => {
  it("refuses bad bodies (400) before anything else, unknown wallets (404), and callers without the operation (403)", async () => {
    const { sa } = await newOrg();
    for (const body of [
      { kind: "Native", to: "0x123", amount: "1" },
      { kind: "Native", to: "0x" + "11".repeat(20), amount: "1.5" },
      { kind: "Native", to: "0x" + "11".repeat(20), amount: "-1" },
      { kind: "Native", to: "0x" + "11".repeat(20), amount: "1", priority: "Urgent" },
      { kind: "Erc20", to: "0x" + "11".repeat(20), amount: "1" },
      { kind: "Erc721", contract: "0x" + "11".repeat(20), to: "0x" + "11".repeat(20), tokenId: "1" },
      { kind: "Native", to: "0x" + "11".repeat(20), amount: (1n << 256n).toString() },
    ]) {
      const res = await sa.signed("POST", "/wallets/wa-nope/transfers", body);
      expect([JSON.stringify(body), res.status, await res.text()]).toEqual([JSON.stringify(body), 400, expect.stringMatching(/Invalid request/)]);
    }
    const nonce = await sa.signed("POST", "/wallets/wa-nope/transactions", { kind: "Evm", to: "0x" + "11".repeat(20), nonce: 3 });
    expect(nonce.status).toBe(400);
    expect((await json<{ error: { message: string } }>(nonce)).error.message).toMatch(/nonce is managed per wallet by Tessera/);

    const unknown = await sa.signed("POST", "/wallets/wa-nope/transfers", { kind: "Native", to: "0x" + "11".repeat(20), amount: "1" });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toEqual({ error: { message: "Wallet not found" } });
    for (const path of ["/wallets/wa-nope/transfers", "/wallets/wa-nope/transfers/xfr-x", "/wallets/wa-nope/transactions", "/wallets/wa-nope/assets"]) {
      expect((await sa.get(path)).status).toBe(404);
    }

    const { client, userId } = await limitedClient(sa, ["Wallets:Read"]);
    const refused = await client.signed("POST", "/wallets/wa-nope/transfers", { kind: "Native", to: "0x" + "11".repeat(20), amount: "1" });
    expect(refused.status).toBe(403);
    expect((await json<{ error: { message: string } }>(refused)).error.message).toBe(`Service account ${userId} is not authorized to perform operation (Wallets:Transfers:Create)`);
    expect((await client.get("/wallets/wa-nope/transfers")).status).toBe(403);
  });
});

describe("bad input never yields a 5xx", () => {
  it("transfer, transaction and webhook bodies", async () => {
    const { sa } = await newOrg();
    const hook = await json<{ id: string }>(await sa.signed("POST", "/webhooks", { url: "https://x.example.com/h", events: ["*"] }));
    const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), maxLength: 300 });
    const address = fc.oneof(fc.constant("0x" + "ab".repeat(20)), fc.string(), hex.map((h) => `0x${h}`));
    const amount = fc.oneof(fc.string(), fc.bigInt({ min: -1n, max: 1n << 260n }).map(String), fc.double().map(String), fc.integer());
    const body = fc.oneof(
      fc.record({ kind: fc.constantFrom("Native", "Erc20", "Evm", "Eip1559", "Transaction", "X"), to: address, contract: address, amount, value: amount, gasLimit: amount, nonce: fc.anything(), transaction: fc.oneof(fc.string(), hex.map((h) => `0x${h}`)), priority: fc.string() }, { requiredKeys: [] }),
      fc.record({ url: fc.oneof(fc.webUrl(), fc.string()), events: fc.array(fc.string()), status: fc.string(), description: fc.anything() }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/wallets/wa-x/transfers", "/wallets/wa-x/transactions", "/webhooks", `/webhooks/${hook.id}`), body, async (path, b) => {
        const res = await sa.signed(path.startsWith("/webhooks/") ? "PUT" : "POST", path, b);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(typeof ((await res.json()) as { error: { message: unknown } }).error.message).toBe("string");
      }),
      { numRuns: 60 },
    );
  });
});

describe("the wallet's transfers object and the org's webhook object", () => {
  it("status changes go out through the outbox to the webhook object, which records every delivery attempt", async () => {
    const { boot, sa } = await newOrg();
    const orgId = boot.orgId;
    // A subscriber whose endpoint refuses connections (the discard port on loopback).
    const hook = await json<{ id: string }>(await sa.signed("POST", "/webhooks", { url: "http://127.0.0.1:9/hooks", events: ["*"] }));

    const wallet: WalletRecord = {
      id: "wa-obj00-00000-0000000001",
      orgId,
      network: "Anvil",
      address: evmAddressOf(PUBLIC_KEY),
      status: "Active",
      signingKey: { id: "key-1", publicKey: PUBLIC_KEY, scheme: "ECDSA", curve: "secp256k1" },
    };
    const object = env.WALLET_TRANSFERS.getByName(walletTransfersName(orgId, wallet.id));
    const body = { kind: "Native", to: "0x" + "22".repeat(20), amount: "5" };
    const submission = {
      kind: "Transfer" as const,
      wallet,
      requester: { userId: "us-x" },
      authorization: { requester: { orgId, userId: "us-x", tokenId: "to-x", identityId: "us-x" }, userAction: null as never, policy: { decision: "NoAction" as const } },
      bodyText: JSON.stringify(body),
      externalId: null,
      call: { to: body.to as `0x${string}`, value: 5n, data: "0x" as const },
      priority: "Standard" as const,
      asset: { symbol: "ETH", decimals: 18 },
    };
    // Blocked by policy: Rejected at once, never built or signed.
    const blocked = await object.submit({ ...submission, verdict: { kind: "Blocked", reason: "amount over limit" } });
    expect(blocked).toMatchObject({ ok: true, value: { status: "Rejected", reason: "Blocked by policy: amount over limit", walletId: wallet.id, network: "Anvil" } });
    // Held for approval: Pending with its approval id until the policy engine resumes it; denied → Rejected.
    const held = await object.submit({ ...submission, verdict: { kind: "ApprovalRequired", approvalId: "ap-1" } });
    expect(held).toMatchObject({ ok: true, value: { status: "Pending", approvalId: "ap-1" } });
    const heldId = (held as { value: { id: string } }).value.id;
    expect(await object.resolveApproval(heldId, { approved: false, reason: "Denied by us-approver" })).toBe(true);
    expect(await object.get("Transfer", heldId)).toMatchObject({ status: "Rejected", reason: "Denied by us-approver" });
    expect((await object.list("Transfer", 10)).items.map((t) => t.status)).toEqual(["Rejected", "Rejected"]);

    // The alarm drains the outbox into the org's webhook object…
    expect(await runDurableObjectAlarm(object)).toBe(true);
    expect(await runInDurableObject(object, (_o: WalletTransfers, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM outbox").one().n)).toBe(0);
    const webhooks = env.WEBHOOKS.getByName(orgId);
    const events = await webhooks.listEvents(hook.id, { limit: 10 });
    expect(events.items.map((e) => e.kind).sort()).toEqual(["wallet.transfer.rejected", "wallet.transfer.rejected", "wallet.transfer.requested", "wallet.transfer.requested"]);
    expect(events.items.every((e) => e.deliveryState === "Pending")).toBe(true);
    // …whose alarm attempts each delivery and records the failure for a later retry.
    await runDurableObjectAlarm(webhooks);
    for (let i = 0; i < 100 && (await webhooks.listEvents(hook.id, { limit: 10 })).items.some((e) => e.attempts === 0); i++) await new Promise((r) => setTimeout(r, 50));
    const after = await json<{ items: { attempts: number; deliveryState: string; status: string; error?: string }[] }>(await sa.get(`/webhooks/${hook.id}/events`));
    expect(after.items).toHaveLength(4);
    for (const item of after.items) {
      expect(item).toMatchObject({ attempts: 1, deliveryState: "Pending", status: "0" });
      expect(item.error).toBeTruthy();
    }
    expect((await json<{ items: unknown[] }>(await sa.get(`/webhooks/${hook.id}/events?deliveryFailed=true`))).items).toEqual([]);
    // Deleting the webhook ends its pending deliveries (recorded as failed); no retry is left behind.
    await sa.signed("DELETE", `/webhooks/${hook.id}`, {});
    expect((await webhooks.listEvents(hook.id, { limit: 10, deliveryFailed: true })).items.map((e) => e.error)).toEqual(Array(4).fill("webhook deleted"));
    await runInDurableObject(webhooks, (_w: Webhooks, state) => state.storage.deleteAlarm());
  });
});
