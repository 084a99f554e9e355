// A bench-only Worker around layer 3 (bench/policy.bench.mjs runs it under wrangler dev): the real
// PolicyState and AuditLog Durable Objects and the real gate, so the policy layer's added latency
// per request is measured in workerd without the signing routes that will call it.
//   GET /hello                 baseline: no layer runs
//   GET /rpc?org                second baseline: one read-only round trip to the org's PolicyState
//   POST /setup?org&policies=N  N policies in org (policies.ts)
//   POST /gate?org              evaluatePolicies + commit (or release) for one transfer
import type { Env } from "../../worker/src/env.js";
import { commitReservation, evaluatePolicies, releaseReservation } from "../../worker/src/policy/gate.js";
import { ConfiguredPrices } from "../../worker/src/policy/prices.js";
import { benchPolicies } from "./policies.js";

export { AuditLog } from "../../worker/src/audit/audit-log.js";
export { PolicyState } from "../../worker/src/policy/state.js";

const prices = new ConfiguredPrices({ Ethereum: "2000" });

let seq = 0;

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(req.url);
    const org = url.searchParams.get("org") ?? "or-bench";
    if (url.pathname === "/hello") return Response.json({ ok: true });
    if (url.pathname === "/rpc") return Response.json({ found: (await env.POLICY_STATE.getByName(org).getPolicy("pl-none")).ok });
    if (url.pathname === "/setup") {
      const state = env.POLICY_STATE.getByName(org);
      for (const body of benchPolicies(Number(url.searchParams.get("policies") ?? "0"))) await state.createPolicy(org, body, { userId: "us-bench", userActionId: null });
      return Response.json({ ok: true });
    }
    if (url.pathname === "/gate") {
      const requestId = `xfr-bench-${Date.now()}-${seq++}`;
      const gate = await evaluatePolicies(
        env,
        org,
        {
          requestId,
          request: { kind: "Transfer", walletId: "wa-bench", walletTags: ["hot"], network: "Ethereum", asset: { symbol: "ETH", decimals: 18 }, amount: "1000000000000000", to: `0x${"1".repeat(39)}1`, initiatorId: "us-bench" },
          activity: { kind: "Wallets:Sign" },
          requester: { orgId: org, userId: "us-bench", tokenId: "to-bench", identityId: "us-bench" },
          userAction: null,
          resume: { kind: "Transfer", payload: null },
          http: { method: "POST", path: "/wallets/wa-bench/transfers" },
        },
        // As the signing routes will: the allowed request's audit line commits after the answer.
        { prices, waitUntil: (p) => ctx.waitUntil(p) },
      );
      if (gate.status !== "Allowed") return Response.json({ status: gate.status, reason: gate.reason }, { status: 409 });
      // Half are signed, half fail: both settlement paths cost what they cost.
      if (seq % 2 === 0) await commitReservation(env, gate.reservation);
      else await releaseReservation(env, gate.reservation, "bench");
      return Response.json({ status: gate.status });
    }
    return new Response("not found", { status: 404 });
  },
};
