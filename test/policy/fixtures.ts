// Shared set-up for layer 3's workerd tests: policies through the routes, gate inputs as the
// signing layer will build them, and direct reads of the PolicyState tables.
import { env, runInDurableObject } from "cloudflare:test";
import type { UserActionEvidence } from "../../shared/src/dfns/wire.js";
import type { GateInput } from "../../worker/src/policy/contract.js";
import type { PolicyState } from "../../worker/src/policy/state.js";
import type { PolicyRequest } from "../../shared/src/policy/types.js";
import type { ApiClient } from "../api/client.js";
import { json } from "../api/fixtures.js";

export const ETH = { symbol: "ETH", decimals: 18 };

export async function createPolicy(client: ApiClient, body: Record<string, unknown>): Promise<{ id: string; version: number; status: string }> {
  const res = await client.signed("POST", "/v2/policies", body);
  if (res.status !== 200) throw new Error(`create policy ${res.status}: ${await res.text()}`);
  return json(res);
}

let n = 0;
export function gateInput(request: Partial<PolicyRequest> & { initiatorId: string }, over: Partial<GateInput> = {}): GateInput {
  n++;
  const requestId = `xfr-test-${n}-${crypto.randomUUID().slice(0, 8)}`;
  const full: PolicyRequest = {
    kind: "Transfer",
    walletId: "wa-test-1",
    walletTags: [],
    network: "Ethereum",
    asset: ETH,
    amount: "1000000000000000000",
    to: "0x1111111111111111111111111111111111111111",
    ...request,
  };
  return {
    requestId,
    request: full,
    activity: { kind: "Wallets:Sign", transferRequest: { id: requestId, walletId: full.walletId, network: full.network, requestBody: { kind: "Native", to: full.to, amount: full.amount } } },
    requester: { orgId: "", userId: request.initiatorId, tokenId: "to-test", identityId: request.initiatorId },
    userAction: null as UserActionEvidence | null,
    resume: { kind: "Transfer", payload: { note: "whatever the signing layer needs" } },
    http: { method: "POST", path: `/wallets/${full.walletId}/transfers` },
    ...over,
  };
}

export async function policySql<T extends Record<string, SqlStorageValue>>(orgId: string, query: string, ...args: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(env.POLICY_STATE.getByName(orgId), (_s: PolicyState, state) => state.storage.sql.exec<T>(query, ...args).toArray());
}

/** Every row of layer 3's tables, to assert a refused request changed nothing. */
export async function policyTables(orgId: string): Promise<Record<string, unknown[]>> {
  return runInDurableObject(env.POLICY_STATE.getByName(orgId), (_s: PolicyState, state) => {
    const out: Record<string, unknown[]> = {};
    for (const t of ["policies", "policy_versions", "usage", "approvals", "approval_decisions", "held_requests", "resumes"]) {
      out[t] = state.storage.sql.exec(`SELECT * FROM ${t} ORDER BY 1`).toArray();
    }
    return out;
  });
}

export async function auditLines(orgId: string) {
  return runInDurableObject(env.AUDIT.getByName(orgId), (_a: unknown, state) =>
    state.storage.sql
      .exec<{ decision: string; reason: string; path: string; method: string; operation: string | null }>("SELECT decision, reason, path, method, operation FROM audit_log ORDER BY seq")
      .toArray(),
  );
}
