// The console's challenge check (console/js/challenge.js, a browser module that also loads in Node)
// must refuse exactly what the shared rule (shared/src/dfns/user-action.ts) refuses.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// @ts-expect-error — a browser ES module checked by console/tsconfig.json, not by this project
import { challengeProblem as consoleProblem } from "../../console/js/challenge.js";
import { challengeProblem, encodeChallenge, userActionChallenge } from "../../shared/src/dfns/user-action.js";

const now = 1_700_000_000;
const request = fc.record({ orgId: fc.constantFrom("or-1", "or-2"), method: fc.constantFrom("POST", "PUT", "DELETE"), path: fc.constantFrom("/wallets", "/wallets/wa-1/signatures", "/wallets/wa-1/transfers"), payload: fc.string({ unit: "binary", maxLength: 60 }) });

describe("the console's challenge check", () => {
  it("agrees with the shared rule on user actions and logins, for matching and mismatching requests", async () => {
    await fc.assert(
      fc.asyncProperty(request, request, fc.integer({ min: -400, max: 400 }), fc.integer({ min: 1, max: 900 }), fc.boolean(), async (signedFor, making, age, lifetime, login) => {
        const issuedAt = now - age;
        const challenge = login
          ? encodeChallenge({ kind: "Login", orgId: signedFor.orgId, nonce: "n", issuedAt, expiry: issuedAt + lifetime })
          : userActionChallenge({ ...signedFor, subject: "us-1", nonce: "n", issuedAt, expiry: issuedAt + lifetime });
        for (const expected of [making, signedFor, { login: true as const, orgId: making.orgId }]) {
          const shared = challengeProblem(challenge, expected, now);
          const browser = (await consoleProblem(challenge, expected, now)) as string | null;
          expect(browser === null, `${shared} / ${browser}`).toBe(shared === null);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a user action for another body, and any user action on the login page", async () => {
    const r = { orgId: "or-1", method: "POST", path: "/wallets/wa-1/transfers", payload: '{"kind":"Native","to":"0x01","amount":"1"}' };
    const challenge = userActionChallenge({ ...r, subject: "us-1", nonce: "n", issuedAt: now, expiry: now + 300 });
    expect(await consoleProblem(challenge, r, now)).toBeNull();
    expect(await consoleProblem(challenge, { ...r, payload: '{"kind":"Native","to":"0x02","amount":"1"}' }, now)).toMatch(/another request body/);
    expect(await consoleProblem(challenge, { login: true, orgId: "or-1" }, now)).toMatch(/login page was handed a UserAction/);
  });
});
