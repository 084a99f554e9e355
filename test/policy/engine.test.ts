// The pure policy engine: every rule kind and action, window edges, filters, several policies at
// once, decimals. No I/O anywhere: each case is inputs → decision.
import { describe, expect, it } from "vitest";
import { decide, needsScreening, usageWindowMinutes } from "../../shared/src/policy/engine.js";
import type { Action, Filters, Rule } from "../../shared/src/policy/schema.js";
import type { Facts, Policy, PolicyRequest, UsageEntry } from "../../shared/src/policy/types.js";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const MIN = 60_000;
const ETH = { symbol: "ETH", decimals: 18 };
const USDC = { symbol: "USDC", decimals: 6, contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" };
const prices: Facts = { usdPrices: { Ethereum: "2000", "Ethereum:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": "1" } };
const eth = (whole: string) => (BigInt(Math.round(Number(whole) * 1e6)) * 10n ** 12n).toString(); // test helper for round values only

let seq = 0;
function policy(rule: Rule, action: Action = { kind: "Block" }, filters: Filters = {}, extra: Partial<Policy> = {}): Policy {
  seq++;
  return {
    id: `pl-${String(seq).padStart(4, "0")}`,
    name: `${rule.kind} ${action.kind}`,
    status: "Active",
    version: 1,
    activityKind: "Wallets:Sign",
    rule,
    action,
    filters,
    dateCreated: new Date(NOW - 1000 * (1000 - seq)).toISOString(),
    dateUpdated: new Date(NOW).toISOString(),
    ...extra,
  };
}

function transfer(over: Partial<PolicyRequest> = {}): PolicyRequest {
  return { kind: "Transfer", walletId: "wa-1", walletTags: [], network: "Ethereum", asset: ETH, amount: eth("1"), to: "0x1111111111111111111111111111111111111111", initiatorId: "us-alice", ...over };
}

function used(at: number, amount: string, over: Partial<UsageEntry> = {}): UsageEntry {
  return { id: `rs-${at}-${amount}`, walletId: "wa-1", state: "Committed", at, network: "Ethereum", asset: ETH, amount, ...over };
}

const approval = (groups: { quorum: number; users?: string[] }[], autoRejectTimeout?: number | null): Action => ({
  kind: "RequestApproval",
  approvalGroups: groups.map((g) => ({ quorum: g.quorum, approvers: g.users ? { userId: { in: g.users } } : {} })),
  ...(autoRejectTimeout !== undefined ? { autoRejectTimeout } : {}),
});

describe("rule kinds", () => {
  it("AlwaysTrigger triggers its action; NoAction lets the request through and is reported", () => {
    const blocked = decide(transfer(), [policy({ kind: "AlwaysTrigger" })], [], [], NOW);
    expect(blocked.outcome).toBe("Blocked");
    expect(blocked.reason).toMatch(/AlwaysTrigger: the rule always triggers/);
    const noted = decide(transfer(), [policy({ kind: "AlwaysTrigger" }, { kind: "NoAction" })], [], [], NOW);
    expect(noted).toMatchObject({ outcome: "Allowed" });
    expect(noted.evaluations[0]).toMatchObject({ triggered: true, actionKind: "NoAction" });
    expect(noted.reason).toMatch(/triggered without action/);
    expect(decide(transfer(), [], [], [], NOW)).toMatchObject({ outcome: "Allowed", reason: "Allowed: no policy applies" });
  });

  it("TransactionAmountLimit: exactly at the limit passes, one unit over triggers", () => {
    const limit = [policy({ kind: "TransactionAmountLimit", configuration: { limit: 2000, currency: "USD" } })];
    expect(decide(transfer({ amount: eth("1") }), limit, [], [], NOW, prices).outcome).toBe("Allowed"); // 1 ETH = 2000 USD
    const over = decide(transfer({ amount: (10n ** 18n + 1n).toString() }), limit, [], [], NOW, prices); // one wei more
    expect(over.outcome).toBe("Blocked");
    expect(over.reason).toContain("amount 2000.000000000000002 USD exceeds the limit of 2000 USD");
  });

  it("TransactionAmountLimit uses each asset's decimals and its own price (never the symbol)", () => {
    const limit = [policy({ kind: "TransactionAmountLimit", configuration: { limit: "100.5", currency: "USD" } })];
    expect(decide(transfer({ asset: USDC, amount: "100500000" }), limit, [], [], NOW, prices).outcome).toBe("Allowed");
    expect(decide(transfer({ asset: USDC, amount: "100500001" }), limit, [], [], NOW, prices).outcome).toBe("Blocked");
    // A token calling itself USDC at another contract has no price: fail closed.
    const fake = decide(transfer({ asset: { ...USDC, contract: "0x000000000000000000000000000000000000dEaD" }, amount: "1" }), limit, [], [], NOW, prices);
    expect(fake.outcome).toBe("Blocked");
    expect(fake.reason).toMatch(/no USD price for USDC \(0x000000000000000000000000000000000000dEaD\) on Ethereum/);
  });

  it("TransactionAmountLimit with fractional limits stays exact (0.1 + 0.2 style)", () => {
    const limit = [policy({ kind: "TransactionAmountLimit", configuration: { limit: 0.3, currency: "USD" } })];
    const facts: Facts = { usdPrices: { Ethereum: "0.1" } };
    expect(decide(transfer({ amount: "3", asset: { symbol: "T", decimals: 0 } }), limit, [], [], NOW, facts).outcome).toBe("Allowed"); // 3 × 0.1 = 0.3
    expect(decide(transfer({ amount: "4", asset: { symbol: "T", decimals: 0 } }), limit, [], [], NOW, facts).outcome).toBe("Blocked");
  });

  it("amount rules trigger when the amount is unknown (raw signature)", () => {
    const limit = [policy({ kind: "TransactionAmountLimit", configuration: { limit: 1_000_000, currency: "USD" } })];
    const sig = decide({ kind: "Signature", walletId: "wa-1", walletTags: [], network: "Ethereum", initiatorId: "us-a" }, limit, [], [], NOW, prices);
    expect(sig.outcome).toBe("Blocked");
    expect(sig.reason).toMatch(/amount cannot be determined/);
  });

  it("TransactionAmountVelocity: window edges (at the limit, one unit over, a transfer leaving the window)", () => {
    const velocity = [policy({ kind: "TransactionAmountVelocity", configuration: { limit: 10_000, currency: "USD", timeframe: 60 } })];
    const history = [used(NOW - 59 * MIN, eth("2")), used(NOW - 30 * MIN, eth("2"))]; // 8000 USD
    expect(decide(transfer({ amount: eth("1") }), velocity, history, [], NOW, prices).outcome).toBe("Allowed"); // exactly 10000
    const over = decide(transfer({ amount: (10n ** 18n + 1n).toString() }), velocity, history, [], NOW, prices);
    expect(over.outcome).toBe("Blocked");
    expect(over.reason).toMatch(/in the last 60 min \(2 earlier/);
    // One minute later the first one (exactly 60 min old) has left the window: (now − 60 min, now].
    expect(decide(transfer({ amount: eth("3") }), velocity, history, [], NOW + MIN, prices).outcome).toBe("Allowed"); // 4000 + 6000
    expect(decide(transfer({ amount: eth("3") }), velocity, history, [], NOW + MIN - 1, prices).outcome).toBe("Blocked"); // still inside by 1 ms
  });

  it("velocity counts in-flight reservations regardless of age, only the same wallet, and stored USD values", () => {
    const velocity = [policy({ kind: "TransactionAmountVelocity", configuration: { limit: 5000, currency: "USD", timeframe: 10 } })];
    const history = [
      used(NOW - 500 * MIN, eth("2"), { state: "Reserved" }), // being signed: counts as now
      used(NOW - MIN, eth("100"), { walletId: "wa-2" }), // another wallet
      used(NOW - MIN, "5000000", { asset: USDC, usdValue: "5" }), // valued when reserved
      used(NOW - MIN, "", { asset: undefined, amount: undefined }), // a raw signature: no known amount
    ];
    // 4000 + 5 + 0 + 995 = 5000 → at the limit
    expect(decide(transfer({ amount: (995n * 10n ** 18n / 2000n).toString() }), velocity, history, [], NOW, prices).outcome).toBe("Allowed");
    expect(decide(transfer({ amount: (995n * 10n ** 18n / 2000n + 1n).toString() }), velocity, history, [], NOW, prices).outcome).toBe("Blocked");
  });

  it("TransactionCountVelocity: the Nth request at the limit passes, N+1 triggers, old ones leave", () => {
    const count = [policy({ kind: "TransactionCountVelocity", configuration: { limit: 3, timeframe: 5 } }, approval([{ quorum: 1 }]))];
    const two = [used(NOW - 5 * MIN + 1, "0"), used(NOW - MIN, "0")];
    expect(decide(transfer(), count, two, [], NOW).outcome).toBe("Allowed"); // 3rd
    const three = [...two, used(NOW, "0", { state: "Reserved" })];
    const fourth = decide(transfer(), count, three, [], NOW);
    expect(fourth.outcome).toBe("RequestApproval");
    expect(fourth.reason).toMatch(/4 requests in the last 5 min including this one exceeds the limit of 3/);
    expect(decide(transfer(), count, three, [], NOW + 1).outcome).toBe("Allowed"); // the oldest just left
  });

  it("TransactionRecipientWhitelist compares addresses canonically and triggers without a recipient", () => {
    const wl = [policy({ kind: "TransactionRecipientWhitelist", configuration: { addresses: ["0xAbCdEf0000000000000000000000000000000001", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"] } })];
    expect(decide(transfer({ to: "0xabcdef0000000000000000000000000000000001" }), wl, [], [], NOW).outcome).toBe("Allowed");
    expect(decide(transfer({ to: "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ" }), wl, [], [], NOW).outcome).toBe("Allowed");
    expect(decide(transfer({ to: "0xabcdef0000000000000000000000000000000002" }), wl, [], [], NOW).outcome).toBe("Blocked");
    expect(decide(transfer({ to: undefined }), wl, [], [], NOW).reason).toMatch(/no recipient/);
  });

  it("ChainalysisTransactionPrescreening: sanctions trigger, categories and alert levels match, fallbacks decide the rest", () => {
    const fallbackBehaviours = { skipUnscreenableTransaction: false, skipUnsupportedNetwork: true, skipUnsupportedAsset: false, skipChainalysisFailure: false };
    const screen = [
      policy({
        kind: "ChainalysisTransactionPrescreening",
        configuration: { alerts: { alertLevel: "HIGH", categoryIds: [] }, exposures: { direct: { categoryIds: [9] } }, addresses: { categoryIds: [3] }, fallbackBehaviours },
      }),
    ];
    const screened = (findings: Facts["screening"]) => decide(transfer(), screen, [], [], NOW, { screening: findings });
    const sanctioned = screened({ status: "Screened", provider: "local", findings: [{ address: "0xdead", category: "sanctions", source: "OFAC SDN list" }] });
    expect(sanctioned.outcome).toBe("Blocked");
    expect(sanctioned.reason).toMatch(/recipient 0xdead is listed \(sanctions\) in OFAC SDN list/);
    expect(screened({ status: "Screened", provider: "p", findings: [] }).outcome).toBe("Allowed");
    expect(screened({ status: "Screened", provider: "p", findings: [{ address: "a", category: "scam", categoryId: 3, source: "p" }] }).outcome).toBe("Blocked");
    expect(screened({ status: "Screened", provider: "p", findings: [{ address: "a", category: "mixer", categoryId: 9, source: "p" }] }).outcome).toBe("Blocked");
    expect(screened({ status: "Screened", provider: "p", findings: [{ address: "a", category: "gambling", categoryId: 4, source: "p" }] }).outcome).toBe("Allowed");
    expect(screened({ status: "Screened", provider: "p", findings: [{ address: "a", category: "x", categoryId: 4, alertLevel: "SEVERE", source: "p" }] }).outcome).toBe("Blocked");
    expect(screened({ status: "Screened", provider: "p", findings: [{ address: "a", category: "x", categoryId: 4, alertLevel: "MEDIUM", source: "p" }] }).outcome).toBe("Allowed");
    expect(screened({ status: "UnsupportedNetwork", provider: "p", detail: "Tezos" }).outcome).toBe("Allowed"); // skipped by configuration
    expect(screened({ status: "UnsupportedAsset", provider: "p", detail: "x" }).outcome).toBe("Blocked");
    expect(screened({ status: "Failed", provider: "p", detail: "timeout" }).reason).toMatch(/screening failed: timeout/);
    expect(screened(undefined).outcome).toBe("Blocked"); // no result at all = failure, not skipped
    expect(decide(transfer({ to: undefined }), screen, [], [], NOW).reason).toMatch(/not screenable/);
    expect(needsScreening(transfer(), screen)).toBe(true);
    expect(needsScreening(transfer(), [policy({ kind: "AlwaysTrigger" })])).toBe(false);
  });
});

describe("usage the decision needs", () => {
  it("is the longest window among the velocity policies that apply, or none", () => {
    const count = policy({ kind: "TransactionCountVelocity", configuration: { limit: 5, timeframe: 30 } });
    const amount = policy({ kind: "TransactionAmountVelocity", configuration: { limit: 5, currency: "USD", timeframe: 90 } }, { kind: "Block" }, { walletId: { in: ["wa-other"] } });
    expect(usageWindowMinutes(transfer(), [count, amount, policy({ kind: "AlwaysTrigger" })])).toBe(30);
    expect(usageWindowMinutes(transfer({ walletId: "wa-other" }), [count, amount])).toBe(90);
    expect(usageWindowMinutes(transfer(), [policy({ kind: "AlwaysTrigger" })])).toBe(0);
  });
});

describe("filters", () => {
  it("walletId and walletTags (hasAny, hasAll) scope a policy; all given filters must match", () => {
    const always = { kind: "AlwaysTrigger" } as const;
    const byId = policy(always, { kind: "Block" }, { walletId: { in: ["wa-9"] } });
    const anyTag = policy(always, { kind: "Block" }, { walletTags: { hasAny: ["hot", "ops"] } });
    const allTags = policy(always, { kind: "Block" }, { walletTags: { hasAll: ["hot", "eu"] } });
    const both = policy(always, { kind: "Block" }, { walletId: { in: ["wa-1"] }, walletTags: { hasAll: ["cold"] } });
    const outcome = (p: Policy, r: Partial<PolicyRequest>) => decide(transfer(r), [p], [], [], NOW).outcome;
    expect(outcome(byId, {})).toBe("Allowed");
    expect(outcome(byId, { walletId: "wa-9" })).toBe("Blocked");
    expect(outcome(anyTag, { walletTags: ["ops"] })).toBe("Blocked");
    expect(outcome(anyTag, { walletTags: ["cold"] })).toBe("Allowed");
    expect(outcome(allTags, { walletTags: ["hot"] })).toBe("Allowed");
    expect(outcome(allTags, { walletTags: ["eu", "hot", "x"] })).toBe("Blocked");
    expect(outcome(both, { walletTags: ["cold"] })).toBe("Blocked");
    expect(outcome(both, { walletId: "wa-2", walletTags: ["cold"] })).toBe("Allowed");
    expect(decide(transfer(), [byId], [], [], NOW).evaluations).toEqual([]); // not applicable = not evaluated
  });

  it("network.in scopes a policy to the chains it names", () => {
    const onBsc = policy({ kind: "AlwaysTrigger" }, { kind: "Block" }, { network: { in: ["BscTestnet"] } });
    expect(decide(transfer({ network: "BscTestnet" }), [onBsc], [], [], NOW).outcome).toBe("Blocked");
    expect(decide(transfer({ network: "Anvil" }), [onBsc], [], [], NOW).outcome).toBe("Allowed");
  });

  it("archived policies are ignored", () => {
    expect(decide(transfer(), [policy({ kind: "AlwaysTrigger" }, { kind: "Block" }, {}, { status: "Archived" })], [], [], NOW).outcome).toBe("Allowed");
  });
});

describe("several policies at once", () => {
  const block = () => policy({ kind: "TransactionAmountLimit", configuration: { limit: 10_000, currency: "USD" } }, { kind: "Block" });
  const ask = () => policy({ kind: "TransactionAmountLimit", configuration: { limit: 1_000, currency: "USD" } }, approval([{ quorum: 2, users: ["us-a", "us-b", "us-c"] }], 60));
  const ask2 = () => policy({ kind: "AlwaysTrigger" }, approval([{ quorum: 1 }], 30));
  const note = () => policy({ kind: "AlwaysTrigger" }, { kind: "NoAction" });

  it("Block wins over RequestApproval wins over NoAction", () => {
    const all = [note(), ask(), block()];
    const big = decide(transfer({ amount: eth("6") }), all, [], [], NOW, prices); // 12000 USD
    expect(big.outcome).toBe("Blocked");
    expect(big.evaluations.map((e) => e.triggered)).toEqual([true, true, true]);
    const medium = decide(transfer({ amount: eth("1") }), all, [], [], NOW, prices); // 2000 USD
    expect(medium.outcome).toBe("RequestApproval");
    const small = decide(transfer({ amount: eth("0.25") }), all, [], [], NOW, prices); // 500 USD
    expect(small.outcome).toBe("Allowed");
  });

  it("every triggered RequestApproval policy contributes its groups; the shortest timeout wins", () => {
    const a = ask();
    const b = ask2();
    const d = decide(transfer({ amount: eth("1") }), [a, b], [], [], NOW, prices);
    expect(d).toMatchObject({ outcome: "RequestApproval", policyIds: [a.id, b.id], autoRejectTimeout: 30 });
    if (d.outcome !== "RequestApproval") throw new Error();
    expect(d.groups.map((g) => [g.policyId, g.quorum])).toEqual([[a.id, 2], [b.id, 1]]);
  });

  it("approvals already granted to the request satisfy their policies, but never a Block", () => {
    const a = ask();
    const b = ask2();
    const partly = decide(transfer({ amount: eth("1") }), [a, b], [], [{ approvalId: "ap-1", policyIds: [a.id] }], NOW, prices);
    expect(partly).toMatchObject({ outcome: "RequestApproval", policyIds: [b.id] });
    const fully = decide(transfer({ amount: eth("1") }), [a, b], [], [{ approvalId: "ap-1", policyIds: [a.id, b.id] }], NOW, prices);
    expect(fully.outcome).toBe("Allowed");
    expect(fully.reason).toMatch(/approved in ap-1/);
    const stillBlocked = decide(transfer({ amount: eth("6") }), [a, block()], [], [{ approvalId: "ap-1", policyIds: [a.id] }], NOW, prices);
    expect(stillBlocked.outcome).toBe("Blocked");
  });

  it("is deterministic and order-independent", () => {
    const ps = [note(), ask(), ask2(), block()];
    const one = decide(transfer({ amount: eth("1") }), ps, [], [], NOW, prices);
    const two = decide(transfer({ amount: eth("1") }), [...ps].reverse(), [], [], NOW, prices);
    expect(two).toEqual(one);
  });
});
