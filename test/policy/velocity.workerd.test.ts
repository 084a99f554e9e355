// Strong consistency of velocity limits in the PolicyState Durable Object: concurrent requests
// cannot both slip under a limit only one fits, and only signed requests stay counted.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { commitReservation, evaluatePolicies, releaseReservation, type GateResult } from "../../worker/src/policy/gate.js";
import { ConfiguredPrices } from "../../worker/src/policy/prices.js";
import { newOrg } from "../api/fixtures.js";
import { createPolicy, gateInput, policySql } from "./fixtures.js";

const prices = new ConfiguredPrices({ Ethereum: "2000" });
const tenthOfEth = "100000000000000000"; // 0.1 ETH = 200 USD

function tally(results: GateResult[]) {
  return { allowed: results.filter((r) => r.status === "Allowed"), blocked: results.filter((r) => r.status === "Blocked") };
}

describe("velocity limits under concurrency", () => {
  it("50 simultaneous transfers against an amount velocity that fits exactly 10: 10 pass, 40 blocked, counters exact", async () => {
    const { boot, sa } = await newOrg();
    await createPolicy(sa, {
      name: "2000 USD per hour",
      activityKind: "Wallets:Sign",
      rule: { kind: "TransactionAmountVelocity", configuration: { limit: 2000, currency: "USD", timeframe: 60 } },
      action: { kind: "Block" },
    });
    const inputs = Array.from({ length: 50 }, () => gateInput({ initiatorId: boot.serviceAccount.userId, amount: tenthOfEth }));
    const results = await Promise.all(inputs.map((input) => evaluatePolicies(env, boot.orgId, input, { prices })));
    const { allowed, blocked } = tally(results);
    expect(allowed).toHaveLength(10);
    expect(blocked).toHaveLength(40);
    for (const b of blocked) expect(b.status === "Blocked" && b.reason).toMatch(/2200 USD in the last 60 min \(10 earlier \+ this 200 USD\) exceeds the limit of 2000 USD/);

    // Only the ten passing requests are counted (reserved); the blocked ones left nothing behind.
    const reserved = await policySql<{ n: number; usd: string | null }>(boot.orgId, "SELECT COUNT(*) AS n, MIN(usd_value) AS usd FROM usage WHERE state = 'Reserved'");
    expect(reserved[0]).toEqual({ n: 10, usd: "200" });
    expect((await policySql<{ n: number }>(boot.orgId, "SELECT COUNT(*) AS n FROM usage"))[0]!.n).toBe(10);

    // The signing layer commits each signature; counters are exact afterwards.
    await Promise.all(allowed.map((a) => a.status === "Allowed" && commitReservation(env, a.reservation)));
    await Promise.all(allowed.map((a) => a.status === "Allowed" && commitReservation(env, a.reservation))); // idempotent
    const states = await policySql<{ state: string; n: number }>(boot.orgId, "SELECT state, COUNT(*) AS n FROM usage GROUP BY state");
    expect(states).toEqual([{ state: "Committed", n: 10 }]);
    const next = await evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: boot.serviceAccount.userId, amount: "1" }), { prices });
    expect(next.status).toBe("Blocked"); // even one wei more no longer fits this hour
  }, 30_000);

  it("50 simultaneous requests against a count velocity of 10; a released reservation frees its place, a committed one cannot be released", async () => {
    const { boot, sa } = await newOrg();
    await createPolicy(sa, {
      name: "10 per 5 minutes",
      activityKind: "Wallets:Sign",
      rule: { kind: "TransactionCountVelocity", configuration: { limit: 10, timeframe: 5 } },
      action: { kind: "Block" },
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: "us-x" }))));
    const { allowed, blocked } = tally(results);
    expect([allowed.length, blocked.length]).toEqual([10, 40]);
    const [first, second] = allowed as Extract<GateResult, { status: "Allowed" }>[];

    // Signing failed for one: releasing it lets exactly one more through.
    await releaseReservation(env, first!.reservation, "nodes unreachable");
    const again = await Promise.all([0, 1, 2].map(() => evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: "us-x" }))));
    expect(again.map((r) => r.status).sort()).toEqual(["Allowed", "Blocked", "Blocked"]);

    await commitReservation(env, second!.reservation);
    await expect(releaseReservation(env, second!.reservation, "too late")).rejects.toThrow(/already committed/);
    await expect(commitReservation(env, first!.reservation)).rejects.toThrow(/released/);
    // Another wallet has its own counter.
    expect((await evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: "us-x", walletId: "wa-other" }))).status).toBe("Allowed");
    // A retried request id gets the same reservation back, not a second one.
    const retry = gateInput({ initiatorId: "us-x", walletId: "wa-retry" });
    const a = await evaluatePolicies(env, boot.orgId, retry);
    const b = await evaluatePolicies(env, boot.orgId, retry);
    expect(a.status === "Allowed" && b.status === "Allowed" && a.reservation.reservationId === b.reservation.reservationId).toBe(true);
    expect((await policySql<{ n: number }>(boot.orgId, "SELECT COUNT(*) AS n FROM usage WHERE wallet_id = 'wa-retry'"))[0]!.n).toBe(1);
  }, 30_000);
});
