import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bootstrapOrg } from "../../worker/src/admin/bootstrap.js";
import type { Org } from "../../worker/src/orgs/org.js";
import { ApiClient, newKeyCredential } from "./client.js";

const BASE = "http://tessera.test";
const fetcher = (input: string, init?: RequestInit) => SELF.fetch(input, init);

describe("edge API basics", () => {
  it("answers the hello route; anything else needs a caller first (JSON 401)", async () => {
    const res = await SELF.fetch(`${BASE}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "tessera", status: "ok" });
    const missing = await SELF.fetch(`${BASE}/nope`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: { message: "Not authorized: missing bearer token" } });
  });

  it("bootstraps an org into its SQLite Durable Object (rows persist in storage.sql) and serves signed calls", async () => {
    const key = await newKeyCredential("P-256");
    const boot = await bootstrapOrg(env, { serviceAccount: { publicKey: key.publicKeyPem } });
    const client = new ApiClient(fetcher, BASE, boot.serviceAccount.accessToken, boot.serviceAccount.credId, key);

    const list = await client.get("/auth/service-accounts");
    expect(list.status).toBe(200);
    const created = await client.signed("POST", "/permissions", { name: "readers", operations: ["Wallets:Read"] });
    expect(created.status).toBe(200);
    const perm = (await created.json()) as { id: string; operations: string[] };
    expect(perm.operations).toEqual(["Wallets:Read"]);

    const rows = await runInDurableObject(env.ORG.getByName(boot.orgId), (_o: Org, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM permissions").one().n,
    );
    expect(rows).toBe(2);
  });
});
