// Shared set-up for the workerd tests: a fresh organisation per test, clients for its root
// service account and root user, and a snapshot of everything an auth rule could wrongly change.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { bootstrapOrg, type BootstrapResult } from "../../worker/src/admin/bootstrap.js";
import type { AuditLog } from "../../worker/src/audit/audit-log.js";
import type { Org } from "../../worker/src/orgs/org.js";
import { ApiClient, newKeyCredential, signChallenge, type KeyCredential } from "./client.js";

export const BASE = "http://tessera.test";
export const fetcher = (input: string, init?: RequestInit) => SELF.fetch(input, init);

export interface TestOrg {
  boot: BootstrapResult;
  /** The root service account (all operations). */
  sa: ApiClient;
  rootUserKey: KeyCredential;
}

export async function newOrg(): Promise<TestOrg> {
  const saKey = await newKeyCredential("P-256");
  const rootUserKey = await newKeyCredential("P-256");
  const boot = await bootstrapOrg(env, { serviceAccount: { publicKey: saKey.publicKeyPem }, rootUser: { username: "root@example.com", publicKey: rootUserKey.publicKeyPem } });
  return { boot, sa: new ApiClient(fetcher, BASE, boot.serviceAccount.accessToken, boot.serviceAccount.credId, saKey), rootUserKey };
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Logs a user in with a key credential (POST /auth/login/init + /auth/login). */
export async function login(orgId: string, username: string, credId: string, key: KeyCredential): Promise<ApiClient> {
  const init = await SELF.fetch(`${BASE}/auth/login/init`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, orgId }) });
  if (init.status !== 200) throw new Error(`login/init ${init.status} ${await init.text()}`);
  const ch = await json<{ challenge: string; challengeIdentifier: string }>(init);
  const res = await SELF.fetch(`${BASE}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ challengeIdentifier: ch.challengeIdentifier, firstFactor: await signChallenge(key, credId, ch.challenge) }),
  });
  if (res.status !== 200) throw new Error(`login ${res.status} ${await res.text()}`);
  return new ApiClient(fetcher, BASE, (await json<{ token: string }>(res)).token, credId, key);
}

/** Every row of every table that holds identities, credentials, tokens, permissions or spent actions. */
export async function domainState(orgId: string): Promise<Record<string, unknown[]>> {
  return runInDurableObject(env.ORG.getByName(orgId), (_o: Org, state) => {
    const out: Record<string, unknown[]> = {};
    for (const table of ["org", "users", "credentials", "tokens", "permissions", "assignments", "user_actions"]) {
      out[table] = state.storage.sql.exec(`SELECT * FROM ${table} ORDER BY 1`).toArray();
    }
    return out;
  });
}

export async function sql<T extends Record<string, SqlStorageValue>>(orgId: string, query: string, ...args: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(env.ORG.getByName(orgId), (_o: Org, state) => state.storage.sql.exec<T>(query, ...args).toArray());
}

/** The latest refusal (allowed lines are written after the response, so only refusals are ordered). */
export async function lastDecision(orgId: string) {
  return runInDurableObject(env.AUDIT.getByName(orgId), (_a: AuditLog, state) =>
    state.storage.sql
      .exec<{ decision: string; reason: string; operation: string | null; path: string }>(
        "SELECT decision, reason, operation, path FROM audit_log WHERE decision = 'denied' ORDER BY seq DESC LIMIT 1",
      )
      .toArray()[0],
  );
}
