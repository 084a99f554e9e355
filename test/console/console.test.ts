// The web console in a real browser (Debian's chromium, headless), against the edge API in local
// workerd (`wrangler dev`), with passkeys from a WebAuthn virtual authenticator per person.
// It walks the flow a newcomer follows, checks every page with axe-core (WCAG 2.1 A/AA) and
// saves a screenshot of it under test/artifacts/console/:
//   1 the first administrator registers a passkey from an invitation, 2 logs in with it,
//   3 invites a second person (an approver), 4 writes a policy that holds every transfer for
//   approval and edits it, 5 creates a wallet, 6 starts a transfer the policy holds,
//   7 the approver registers a second passkey and logs in, 8 approves, 9 the transfer is
//   Confirmed, 10 the audit trail shows the signed requests with their evidence, 11 a share holder
//   is added from its operator's join request.
// It runs against the whole local network (backend.ts: wrangler dev, three share-holder nodes,
// anvil). A step whose endpoint the API does not have yet is skipped with the reason, and the
// run's summary lists which steps ran.
import { generateKeyPairSync } from "node:crypto";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { createJoinRequest } from "../../shared/src/governance/join-request.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { vendorConsoleLibraries } from "../../scripts/vendor-console.mjs";
import { browserAvailable, launchChromium } from "../browser/chromium.js";
import { governLocalOrg } from "../../scripts/local-network.js";
import { startConsoleBackend, type ConsoleBackend } from "./backend.js";
import { ARTIFACTS, ConsoleUser } from "./browser-user.js";

const ADMIN = "admin@example.com";
const APPROVER = "approver@example.com";
const POLICY = "Every transfer needs a second person";
const RECIPIENT = "0x000000000000000000000000000000000000dEaD";

let backend: ConsoleBackend;
let browser: Browser;
let operator: DfnsApiClient;
let boot: { orgId: string; permissionId: string; serviceAccount: { accessToken: string; credId: string } };
let adminInvitation: { userId: string; registrationCode: string };
let admin: ConsoleUser;
let approver: ConsoleUser;
let approverInvitationLink = "";
let walletId = "";
let walletAddress = "";
let recipientBefore = 0n;
/** Which endpoints exist on the running API (a route that is not there answers 404 "Not found"). */
const endpoints = { wallets: false, transfers: false, approvals: false };
const ran: string[] = [];

/** Whether GET path is served: not a 404 with `absent` ("Not found": no such route). */
async function routeExists(path: string, absent = "Not found"): Promise<boolean> {
  const res = await fetch(`${backend.apiUrl}${path}`, { headers: { authorization: `Bearer ${boot.serviceAccount.accessToken}` } });
  if (res.status !== 404) return true;
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  return body.error?.message !== absent;
}

async function rpc(method: string, params: unknown[]): Promise<unknown> {
  if (!backend.chainUrl) throw new Error("no chain in this backend");
  const res = await fetch(backend.chainUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Fails a step whose backend or earlier step is missing, saying which (every step must run). */
function needs(ctx: { task: { name: string } }, missing: string[]) {
  onTestFailed(() => {
    // The processes' whole output next to the screenshots, and its end in the test's output.
    const log = backend.log().split("\n").filter((l) => !l.includes("[wrangler:info] GET /console/"));
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, "network.log"), log.join("\n") + "\n");
    console.error(`[console e2e] ${ctx.task.name} failed; the network's last lines (all in test/artifacts/console/network.log):\n${log.slice(-40).join("\n")}`);
  });
  if (missing.length) throw new Error(`${ctx.task.name} cannot run without ${missing.join(", ")}`);
}

/** Browser noise that is not a console defect: the failed API answers the page shows as errors. */
const problemsOf = (user: ConsoleUser) => user.problems.filter((p) => !/Failed to load resource/.test(p));

describe.skipIf(!browserAvailable)("web console with passkeys, in chromium", () => {
  beforeAll(async () => {
    vendorConsoleLibraries();
    backend = await startConsoleBackend();

    // The operator's part (npm start / the CLI do this on a real setup): an organisation with a
    // service account, and an invitation for the first person, who gets the all-operations permission.
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const res = await fetch(`${backend.apiUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { authorization: `Bearer ${backend.bootstrapSecret}`, "content-type": "application/json" },
      body: JSON.stringify({ orgName: "console test", serviceAccount: { publicKey: publicKey.export({ type: "spki", format: "pem" }) } }),
    });
    expect(res.status).toBe(200);
    boot = (await res.json()) as typeof boot;
    // As npm start does: the nodes hold the org's root of trust; the people below reach them only through its governance log.
    await governLocalOrg(backend, { baseUrl: backend.apiUrl, orgId: boot.orgId, authToken: boot.serviceAccount.accessToken, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString() });
    operator = new DfnsApiClient({
      baseUrl: backend.apiUrl,
      authToken: boot.serviceAccount.accessToken,
      signer: new AsymmetricKeySigner({ credId: boot.serviceAccount.credId, privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString() }),
    });
    const user = (await operator.auth.createUser({ body: { email: ADMIN, kind: "CustomerEmployee" } })) as unknown as { userId: string; registrationCode: string };
    await operator.permissions.createAssignment({ permissionId: boot.permissionId, body: { identityId: user.userId } });
    adminInvitation = user;

    endpoints.wallets = await routeExists("/wallets");
    endpoints.transfers = await routeExists("/wallets/wa-probe/transfers");
    endpoints.approvals = await routeExists("/v2/policy-approvals");

    browser = await launchChromium();
    admin = await ConsoleUser.open(browser, "admin", backend.origin);
    approver = await ConsoleUser.open(browser, "approver", backend.origin);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    console.info(`[console e2e] ran: ${ran.length ? ran.join("; ") : "none"}`);
  });

  it("1 the first administrator registers a passkey from an invitation link", async () => {
    const { page } = admin;
    const link = `/console/register?${new URLSearchParams({ org: boot.orgId, username: ADMIN, code: adminInvitation.registrationCode })}`;
    const response = await page.goto(link);
    // console/_headers: only the console's own scripts run, and the code in the URL is never sent on.
    expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'sha256-/);
    expect(response?.headers()["referrer-policy"]).toBe("no-referrer");
    await expect.poll(() => page.getByLabel("Registration code").inputValue()).toBe(adminInvitation.registrationCode);
    await admin.screenshot("01-register");
    await page.getByRole("button", { name: "Create a passkey and register" }).click();
    await page.waitForURL(/\/console\/\?message=/);
    await admin.statusSays(/Your passkey is registered/);
    const passkeys = await admin.credentials();
    expect(passkeys).toHaveLength(1);
    expect(passkeys[0]).toMatchObject({ rpId: "localhost", isResidentCredential: true });
    // The server has it: the user is registered, with a Fido2 credential.
    const registered = (await operator.auth.getUser({ userId: adminInvitation.userId })) as unknown as { isRegistered: boolean };
    expect(registered.isRegistered).toBe(true);
    expect(problemsOf(admin)).toEqual([]);
    ran.push("1 register");
  });

  it("2 logs in with the passkey (keyboard only: the form is pre-filled and focused)", async () => {
    const { page } = admin;
    await expect.poll(() => page.getByLabel("Organisation id").inputValue()).toBe(boot.orgId);
    await expect.poll(() => page.getByLabel("Username").inputValue()).toBe(ADMIN);
    await admin.screenshot("02-login");
    const before = await admin.signatures();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Log in with your passkey");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/console\/wallets$/);
    await page.getByRole("navigation", { name: "Console" }).waitFor();
    await expect.poll(() => page.locator(".who").textContent()).toContain(ADMIN);
    expect(await admin.signatures()).toBe(before + 1);
    await page.locator("#wallet-rows tr").first().filter({ hasNotText: "Loading" }).waitFor();
    await admin.screenshot("03-wallets");
    expect(problemsOf(admin)).toEqual([]);
    ran.push("2 login");
  });

  it("3 invites a second person (an approver) from the Users page, signing twice with the passkey", async () => {
    const { page } = admin;
    await page.getByRole("link", { name: "Users" }).click();
    await page.waitForURL(/\/console\/users$/);
    await page.locator(`#user-rows tr`).filter({ hasText: ADMIN }).waitFor();
    await page.getByLabel("Username (e-mail)").fill(APPROVER);
    const root = await page.locator("#invite-permission option").filter({ hasText: /^Root/ }).getAttribute("value");
    await page.getByLabel("Permission").selectOption(root ?? "");
    const before = await admin.signatures();
    await page.getByRole("button", { name: /Create user and invitation/ }).click();
    await admin.statusSays(/User approver@example\.com created/);
    // One signature for POST /auth/users, one for the permission assignment.
    expect(await admin.signatures()).toBe(before + 2);
    approverInvitationLink = (await page.locator("#invitation-link").getAttribute("href")) ?? "";
    expect(approverInvitationLink).toContain(`${backend.origin}/console/register?`);
    expect(new URL(approverInvitationLink).searchParams.get("username")).toBe(APPROVER);
    await page.locator(`#user-rows tr`).filter({ hasText: APPROVER }).filter({ hasText: "not yet" }).waitFor();
    await admin.screenshot("04-users-invitation");
    expect(problemsOf(admin)).toEqual([]);
    ran.push("3 invite approver");
  });

  it("4 writes a policy that holds every transfer for approval, then edits it", async () => {
    const { page } = admin;
    await page.getByRole("link", { name: "Policies" }).click();
    await page.waitForURL(/\/console\/policies$/);
    await page.locator("#policy-rows tr").first().filter({ hasNotText: "Loading" }).waitFor();
    await page.getByLabel("Name").fill(`${POLICY} (draft)`);
    await page.getByLabel("Rule", { exact: true }).selectOption("AlwaysTrigger");
    await page.getByLabel("Action", { exact: true }).selectOption("RequestApproval");
    await page.getByLabel("Approvals needed (quorum)").fill("1");
    await page.getByRole("button", { name: /Create policy/ }).click();
    await admin.statusSays(/created/);
    const row = page.locator("#policy-rows tr").filter({ hasText: `${POLICY} (draft)` });
    await row.waitFor();

    await row.getByRole("button", { name: /^Edit/ }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("policy-name");
    await page.getByLabel("Name").fill(POLICY);
    await page.getByRole("button", { name: /Save policy/ }).click();
    await admin.statusSays(/saved/);
    await page.locator("#policy-rows tr").filter({ hasText: POLICY }).filter({ hasText: "Active" }).waitFor();
    await admin.screenshot("05-policies");

    const { items } = await operator.policies.listPolicies({});
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: POLICY, status: "Active", activityKind: "Wallets:Sign", rule: { kind: "AlwaysTrigger" }, action: { kind: "RequestApproval" } });
    expect((items[0] as unknown as { version: number }).version).toBe(2);
    expect(problemsOf(admin)).toEqual([]);
    ran.push("4 policy create + edit");
  });

  it("5 creates a wallet on the local chain", async (ctx) => {
    needs(ctx, endpoints.wallets ? [] : ["POST /wallets"]);
    const { page } = admin;
    await page.getByRole("link", { name: "Wallets" }).click();
    await page.waitForURL(/\/console\/wallets$/);
    await page.getByLabel("Network").selectOption("Anvil");
    await page.getByLabel(/^Name/).fill("Treasury");
    await page.getByRole("button", { name: /Create wallet/ }).click();
    await admin.statusSays(/Wallet Treasury created/, 120_000);
    const row = page.locator("#wallet-rows tr").filter({ hasText: "Treasury" }).filter({ hasText: "Active" });
    await row.waitFor({ timeout: 120_000 });
    walletId = (await row.getAttribute("data-wallet-id")) ?? "";
    expect(walletId).toMatch(/^wa-/);
    walletAddress = ((await row.locator("td").nth(2).textContent()) ?? "").trim();
    expect(walletAddress).toMatch(/^0x[0-9a-fA-F]{40}$/);
    // The address is the group key's: the API and the page agree.
    expect(((await operator.wallets.getWallet({ walletId })) as { address?: string }).address).toBe(walletAddress);
    await admin.screenshot("06-wallet-created");
    ran.push("5 create wallet");
  }, 180_000);

  it("6 starts a transfer that the policy holds (Pending)", async (ctx) => {
    needs(ctx, [
      ...(endpoints.transfers ? [] : ["POST /wallets/:id/transfers"]),
      ...(walletId ? [] : ["step 5 (a wallet)"]),
      ...(walletId && endpoints.transfers && !(await routeExists(`/wallets/${walletId}/transfers`, "Wallet not found")) ? ["transfers knowing the wallets POST /wallets creates"] : []),
    ]);
    const { page } = admin;
    // Some coins for the wallet, straight from the local chain.
    await rpc("anvil_setBalance", [walletAddress, "0x8ac7230489e80000"]); // 10 ETH
    recipientBefore = BigInt((await rpc("eth_getBalance", [RECIPIENT, "latest"])) as string);
    await page.goto(`/console/transfers?wallet=${walletId}`);
    await page.locator("#wallet-summary").filter({ hasText: "10 ETH" }).waitFor();
    await page.getByLabel("Recipient address").fill(RECIPIENT);
    await page.getByLabel(/^Amount/).fill("0.5");
    await page.getByRole("button", { name: /Send transfer/ }).click();
    await admin.statusSays(/waiting for approval/);
    await page.locator('#transfer-rows td[data-status="Pending"]').waitFor();
    await admin.screenshot("07-transfer-pending");
    ran.push("6 transfer held by policy");
  }, 120_000);

  it("7 the approver registers a second passkey from the invitation and logs in", async () => {
    const { page } = approver;
    await page.goto(approverInvitationLink);
    await approver.screenshot("08-approver-register");
    await page.getByRole("button", { name: "Create a passkey and register" }).click();
    await approver.statusSays(/Your passkey is registered/);
    await page.getByRole("button", { name: "Log in with your passkey" }).click();
    await page.waitForURL(/\/console\/wallets$/);
    await expect.poll(() => page.locator(".who").textContent()).toContain(APPROVER);
    const passkeys = await approver.credentials();
    expect(passkeys).toHaveLength(1);
    // Two people, two authenticators, two different passkeys.
    expect(passkeys[0]!.credentialId).not.toBe((await admin.credentials())[0]!.credentialId);
    await page.getByRole("link", { name: "Approvals" }).click();
    await page.waitForURL(/\/console\/approvals$/);
    await page.locator("#approval-list").filter({ hasNotText: "Loading" }).waitFor();
    await approver.screenshot("09-approvals");
    expect(problemsOf(approver)).toEqual([]);
    ran.push("7 approver register + login");
  });

  it("8 the approver approves the held transfer with their passkey", async (ctx) => {
    needs(ctx, [...(endpoints.approvals ? [] : ["GET /v2/policy-approvals"]), ...(ran.includes("6 transfer held by policy") ? [] : ["step 6 (a held transfer)"])]);
    const { page } = approver;
    const card = page.locator("article.card").filter({ hasText: RECIPIENT });
    await card.waitFor({ timeout: 30_000 });
    // What the approver decides on, in words: the amount, the recipient, who asks, which policy.
    await card.getByRole("heading", { name: `Transfer of 0.5 ETH to ${RECIPIENT}` }).waitFor();
    await card.filter({ hasText: ADMIN }).filter({ hasText: POLICY }).waitFor();
    await card.getByLabel(/Reason/).fill("checked with the treasurer");
    await approver.screenshot("10-approval-pending");
    const before = await approver.signatures();
    await card.getByRole("button", { name: "Approve" }).click();
    await approver.statusSays(/Your decision is recorded: Approved\. The approval is now Approved/);
    expect(await approver.signatures()).toBe(before + 1);
    await approver.screenshot("11-approved");
    ran.push("8 approve");
  }, 120_000);

  it("9 the administrator sees the transfer reach Confirmed, live", async (ctx) => {
    needs(ctx, ran.includes("8 approve") ? [] : ["step 8 (an approved transfer)"]);
    const { page } = admin;
    // No reload: the page polls while a transfer is still moving.
    await page.locator('#transfer-rows td[data-status="Confirmed"]').waitFor({ timeout: 120_000 });
    await admin.statusSays(/is now Confirmed/);
    // The balance follows: 10 ETH less the half sent and the fee.
    await page.locator("#wallet-balances").filter({ hasText: /Balances: 9\.4\d* ETH/ }).waitFor();
    await admin.screenshot("12-transfer-confirmed");
    // On the chain: the recipient has half an ether more.
    expect(BigInt((await rpc("eth_getBalance", [RECIPIENT, "latest"])) as string) - recipientBefore).toBe(5n * 10n ** 17n);
    ran.push("9 confirmed");
  }, 180_000);

  it("10 the audit trail shows the signed requests, with the passkey evidence", async () => {
    const { page } = admin;
    await page.getByRole("link", { name: "Audit trail" }).click();
    await page.waitForURL(/\/console\/audit$/);
    const policyRow = page.locator("#audit-rows tr").filter({ hasText: "POST /v2/policies" }).filter({ hasText: "allowed" });
    await policyRow.first().waitFor();
    await policyRow.first().getByRole("button", { name: /^Show evidence of the signed POST \/v2\/policies/ }).click();
    await page.locator("#evidence-json").filter({ hasText: '"kind": "Fido2"' }).waitFor();
    const evidence = JSON.parse((await page.locator("#evidence-json").textContent()) ?? "{}") as { action: { method: string; path: string }; firstFactorCredential: { kind: string; id: string } };
    expect(evidence.action).toMatchObject({ method: "POST", path: "/v2/policies" });
    // CDP gives the credential id in base64; the API names it in base64url.
    expect(evidence.firstFactorCredential.id).toBe(Buffer.from((await admin.credentials())[0]!.credentialId, "base64").toString("base64url"));
    await admin.screenshot("13-audit");
    expect(problemsOf(admin)).toEqual([]);
    ran.push("10 audit");
  });

  it("11 the administrator adds a share holder by pasting its operator's join request, signing with the passkey", async () => {
    const { page } = admin;
    const k = await generateKeyPair("Ed25519");
    const joinRequest = createJoinRequest({ peerId: peerIdFromPrivateKey(k).toString(), signingSeed: k.raw.subarray(0, 32), region: "sa", nodes: ["/ip4/127.0.0.1/tcp/4700"], edge: ["/ip4/127.0.0.1/tcp/4701/ws"] });
    await page.getByRole("link", { name: "Share holders" }).click();
    await page.waitForURL(/\/console\/share-holders$/);
    await page.locator("#holder-rows tr").first().filter({ hasNotText: "Loading" }).waitFor();
    await page.getByLabel("Join request (JSON)").fill(JSON.stringify(joinRequest, null, 2));
    const before = await admin.signatures();
    await page.getByRole("button", { name: /^Add/ }).click();
    await admin.statusSays(/added/);
    expect(await admin.signatures()).toBe(before + 1);
    await page.locator("#holder-rows tr").filter({ hasText: joinRequest.peerId }).filter({ hasText: "Active" }).waitFor();
    await admin.screenshot("14-share-holders");
    expect(problemsOf(admin)).toEqual([]);
    ran.push("11 share holders");
  });
});
