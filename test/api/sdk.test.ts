// The unmodified official SDK (@dfns/sdk 0.8.21 + @dfns/sdk-keysigner 0.8.3), only baseUrl
// changed, against the edge API running in local workerd (wrangler dev).
import { generateKeyPairSync } from "node:crypto";
import { DfnsApiClient, DfnsAuthenticator, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { verifyUserActionEvidence } from "../../shared/src/dfns/user-action-evidence.js";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import { startLocalApi, type LocalApi } from "./local-api.js";

function keyPair(kind: "P-256" | "ed25519" = "P-256") {
  const { publicKey, privateKey } =
    kind === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

async function refusal(p: Promise<unknown>): Promise<DfnsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DfnsError) return err;
    throw err;
  }
  throw new Error("expected the call to be refused");
}

let api: LocalApi;
beforeAll(async () => {
  api = await startLocalApi();
});
afterAll(async () => {
  await api?.stop();
});

describe("@dfns/sdk against the Tessera edge API", () => {
  it("npm start's helper bootstraps once, writes local.json (owner-only), and reuses it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-local-"));
    try {
      const file = join(dir, "local.json");
      const first = await ensureLocalOrg({ baseUrl: api.baseUrl, bootstrapSecret: api.bootstrapSecret, file });
      expect(first.reused).toBe(false);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = await ensureLocalOrg({ baseUrl: api.baseUrl, bootstrapSecret: api.bootstrapSecret, file });
      expect(second).toMatchObject({ reused: true, orgId: first.orgId });
      // The written config drives the SDK as the CLI does.
      const dfns = new DfnsApiClient({ baseUrl: second.baseUrl, authToken: second.authToken, signer: new AsymmetricKeySigner({ credId: second.credId, privateKey: second.privateKeyPem }) });
      const p = await dfns.permissions.createPermission({ body: { name: "from local.json", operations: ["Wallets:Read"] } });
      expect(p.name).toBe("from local.json");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bootstraps, manages permissions, service accounts and PATs, logs in, and refuses what it must", async () => {
    const saKey = keyPair();
    const rootKey = keyPair("ed25519");
    const bootRes = await fetch(`${api.baseUrl}/admin/bootstrap`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.bootstrapSecret}`, "content-type": "application/json" },
      body: JSON.stringify({ orgName: "sdk test", serviceAccount: { publicKey: saKey.publicKey }, rootUser: { username: "root@example.com", publicKey: rootKey.publicKey } }),
    });
    expect(bootRes.status).toBe(200);
    const boot = (await bootRes.json()) as {
      orgId: string;
      rootUser: { credId: string };
      serviceAccount: { accessToken: string; credId: string; userId: string };
    };
    // A wrong bootstrap secret is refused.
    expect((await fetch(`${api.baseUrl}/admin/bootstrap`, { method: "POST", headers: { authorization: "Bearer nope" }, body: "{}" })).status).toBe(401);

    // orgId is passed too: the SDK checks it against the token's app_metadata claim.
    const dfns = new DfnsApiClient({
      baseUrl: api.baseUrl,
      orgId: boot.orgId,
      authToken: boot.serviceAccount.accessToken,
      signer: new AsymmetricKeySigner({ credId: boot.serviceAccount.credId, privateKey: saKey.privateKey }),
    });

    const readers = await dfns.permissions.createPermission({ body: { name: "wallet readers", operations: ["Wallets:Read"] } });
    expect(readers).toMatchObject({ name: "wallet readers", operations: ["Wallets:Read"], status: "Active", isImmutable: false });

    const readerKey = keyPair();
    const reader = await dfns.auth.createServiceAccount({ body: { name: "reader bot", publicKey: readerKey.publicKey } });
    const assignment = await dfns.permissions.createAssignment({ permissionId: readers.id, body: { identityId: reader.userInfo.userId } });
    expect(assignment).toMatchObject({ permissionId: readers.id, identityId: reader.userInfo.userId });
    expect((await dfns.permissions.listAssignments({ permissionId: readers.id })).items).toHaveLength(1);

    const users = await dfns.auth.listUsers();
    expect(users.items.map((u) => u.username)).toEqual(["root@example.com"]);
    const accounts = await dfns.auth.listServiceAccounts();
    expect(accounts.items.map((a) => a.userInfo.name).sort()).toEqual(["reader bot", "root service account"]);

    // A Wallets:Read-only identity: reads nothing else, changes nothing.
    const readerClient = new DfnsApiClient({
      baseUrl: api.baseUrl,
      authToken: reader.accessTokens[0]!.accessToken!,
      signer: new AsymmetricKeySigner({ credId: reader.accessTokens[0]!.credId, privateKey: readerKey.privateKey }),
    });
    const denied = await refusal(readerClient.permissions.createPermission({ body: { name: "escalate", operations: ["Permissions:Assign"] } }));
    expect(denied.httpStatus).toBe(403);
    expect(denied.message).toBe(`Service account ${reader.userInfo.userId} is not authorized to perform operation (Permissions:Create)`);
    expect((await refusal(readerClient.permissions.createAssignment({ permissionId: readers.id, body: { identityId: reader.userInfo.userId } }))).httpStatus).toBe(403);
    expect((await refusal(readerClient.auth.listUsers())).httpStatus).toBe(403);
    expect((await dfns.permissions.listPermissions()).items.map((p) => p.name)).not.toContain("escalate");

    // A human logs in with DfnsAuthenticator and the key signer (Ed25519 key).
    const rootSigner = new AsymmetricKeySigner({ credId: boot.rootUser.credId, privateKey: rootKey.privateKey });
    const { token } = await new DfnsAuthenticator({ baseUrl: api.baseUrl, signer: rootSigner }).login({ orgId: boot.orgId, username: "root@example.com" });
    const human = new DfnsApiClient({ baseUrl: api.baseUrl, orgId: boot.orgId, authToken: token, signer: rootSigner });

    // The human creates a PAT (its own key), uses it, then revokes it and sees it refused.
    const patKey = keyPair();
    const pat = await human.auth.createPersonalAccessToken({ body: { name: "ci", publicKey: patKey.publicKey, permissionId: readers.id } });
    const patClient = new DfnsApiClient({
      baseUrl: api.baseUrl,
      authToken: pat.accessToken,
      signer: new AsymmetricKeySigner({ credId: pat.credId, privateKey: patKey.privateKey }),
    });
    expect((await refusal(patClient.permissions.listPermissions())).httpStatus).toBe(403); // Wallets:Read only
    expect((await human.auth.listPersonalAccessTokens()).items.map((t) => t.tokenId)).toEqual([pat.tokenId]);
    await human.auth.archivePersonalAccessToken({ tokenId: pat.tokenId });
    const revoked = await refusal(patClient.permissions.listPermissions());
    expect(revoked.httpStatus).toBe(401);
    expect(revoked.message).toMatch(/revoked/);

    // Revoking an assignment takes effect on the next request.
    await dfns.permissions.deleteAssignment({ permissionId: readers.id, assignmentId: assignment.id });
    const remaining = (await dfns.permissions.listAssignments({ permissionId: readers.id })).items.map((a) => a.identityId);
    expect(remaining).toEqual([pat.tokenId]); // the (archived) PAT's own assignment, not the reader's

    // The audit trail holds the signed actions (Dfns-style) and every decision.
    const logs = (await dfns.auth.listAuditLogs({})) as unknown as { items: { action: { path: string } }[] };
    expect(logs.items.map((l) => l.action.path)).toContain("/permissions");
    // Each spent user action's evidence re-verifies outside the edge (what the signing nodes do),
    // and binds the exact body: a changed payload fails.
    const entry = (logs.items as unknown as { id: string; action: { path: string; payload: string } }[]).find(
      (l) => l.action.path === "/permissions" && l.action.payload.includes("wallet readers"),
    )!;
    const detail = (await (await fetch(`${api.baseUrl}/auth/action/logs/${entry.id}`, { headers: { authorization: `Bearer ${boot.serviceAccount.accessToken}` } })).json()) as {
      evidence: UserActionEvidence;
    };
    expect(await verifyUserActionEvidence(detail.evidence, { method: "POST", path: "/permissions", orgId: boot.orgId })).toEqual({ ok: true });
    expect(JSON.parse(detail.evidence.payload)).toEqual({ name: "wallet readers", operations: ["Wallets:Read"] });
    const tampered = { ...detail.evidence, payload: JSON.stringify({ name: "wallet readers", operations: ["Permissions:Assign"] }) };
    expect(await verifyUserActionEvidence(tampered)).toMatchObject({ ok: false, reason: /commitment/ });
    expect(await verifyUserActionEvidence(detail.evidence, { payload: tampered.payload })).toMatchObject({ ok: false });

    // Logging out ends the human's session.
    await human.auth.logout({ body: {} } as never);
    expect((await refusal(human.auth.listUsers())).httpStatus).toBe(401);
  });
});
