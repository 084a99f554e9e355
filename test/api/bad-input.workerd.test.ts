// Bad input is the client's fault: whatever arrives, the answer is a JSON 4xx (or a 2xx when it
// happens to be valid), never a 5xx, and stored state stays consistent.
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BASE, newOrg } from "./fixtures.js";

const jsonish = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ name: fc.string(), operations: fc.array(fc.string()), publicKey: fc.string(), identityId: fc.string() }).map((v) => JSON.stringify(v)),
  fc.constantFrom("", "{", "[]", "null", '{"firstFactor":{"kind":"Key"}}', '{"challengeIdentifier":"or-a~ch-b","firstFactor":{"kind":"Fido2","credentialAssertion":{}}}'),
);

const publicEndpoints = ["/auth/login/init", "/auth/login", "/auth/registration/init", "/auth/registration", "/admin/bootstrap"];
const signedEndpoints: [string, string][] = [
  ["POST", "/permissions"],
  ["PUT", "/permissions/pm-x"],
  ["POST", "/permissions/pm-x/assignments"],
  ["POST", "/auth/service-accounts"],
  ["POST", "/auth/pats"],
  ["POST", "/auth/users"],
  ["POST", "/auth/credentials"],
  ["PUT", "/auth/credentials/deactivate"],
];

async function expectClientError(res: Response) {
  expect(res.status).toBeLessThan(500);
  const body = (await res.json()) as { error?: { message?: unknown } };
  if (res.status >= 400) expect(typeof body.error?.message).toBe("string");
}

describe("bad input never yields a 5xx", () => {
  it("public endpoints", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...publicEndpoints), jsonish, fc.option(fc.string(), { nil: undefined }), async (path, body, token) => {
        const res = await SELF.fetch(`${BASE}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
          body,
        });
        await expectClientError(res);
      }),
      { numRuns: 150 },
    );
  });

  it("authenticated, user-action-signed endpoints and signing-flow endpoints", async () => {
    const { sa } = await newOrg();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...signedEndpoints), jsonish, async ([method, path], body) => {
        const ua = await sa.userAction(method, path, body);
        await expectClientError(await sa.raw(method, path, { body, headers: { "x-dfns-useraction": ua } }));
        await expectClientError(await sa.raw("POST", "/auth/action/init", { body }));
        await expectClientError(await sa.raw("POST", "/auth/action", { body }));
      }),
      { numRuns: 60 },
    );
    // The org still works afterwards.
    expect((await sa.signed("POST", "/permissions", { name: "after fuzz", operations: ["Wallets:Read"] })).status).toBe(200);
  });

  it("odd requests: wrong methods, huge bodies, weird paths, query strings", async () => {
    const { sa } = await newOrg();
    for (const [method, path] of [["PATCH", "/permissions"], ["GET", "/auth/action"], ["DELETE", "/"], ["GET", "/permissions/%ZZ"], ["GET", "/audit?limit=-1"], ["GET", "/auth/action/logs?startTime=yesterday"]] as const) {
      await expectClientError(await sa.raw(method, path));
    }
    const huge = JSON.stringify({ name: "x".repeat(300_000), operations: ["Wallets:Read"] });
    const res = await sa.raw("POST", "/auth/action/init", { body: huge });
    expect(res.status).toBe(413);
  });
});
