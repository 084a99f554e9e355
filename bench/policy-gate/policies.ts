// The policy set both policy benchmarks use (engine in Node, gate in workerd).
import type { PolicyBody } from "../../shared/src/policy/schema.js";

/** A realistic mix: limits, velocities, whitelists, screening, notifications; most scoped by filters. */
export function benchPolicies(n: number): PolicyBody[] {
  const out: PolicyBody[] = [];
  for (let i = 0; i < n; i++) {
    const filters = i % 3 === 0 ? {} : i % 3 === 1 ? { walletTags: { hasAny: [`desk-${i % 7}`, "hot"] } } : { walletId: { in: [`wa-${i}`, "wa-bench"] } };
    const kind = i % 5;
    const rule: PolicyBody["rule"] =
      kind === 0
        ? { kind: "TransactionAmountLimit", configuration: { limit: 1_000_000 + i, currency: "USD" } }
        : kind === 1
          ? { kind: "TransactionAmountVelocity", configuration: { limit: 1e12, currency: "USD", timeframe: 60 + i } }
          : kind === 2
            ? { kind: "TransactionCountVelocity", configuration: { limit: 1_000_000, timeframe: 30 + i } }
            : kind === 3
              ? { kind: "TransactionRecipientWhitelist", configuration: { addresses: Array.from({ length: 50 }, (_, j) => `0x${(j === 0 ? 1 : i * 100 + j).toString(16).padStart(40, "1")}`) } }
              : {
                  kind: "ChainalysisTransactionPrescreening",
                  configuration: {
                    alerts: { alertLevel: "HIGH", categoryIds: [] },
                    exposures: { direct: { categoryIds: [] } },
                    addresses: { categoryIds: [] },
                    fallbackBehaviours: { skipUnscreenableTransaction: true, skipUnsupportedNetwork: true, skipUnsupportedAsset: true, skipChainalysisFailure: false },
                  },
                };
    out.push({ name: `bench ${i}`, activityKind: "Wallets:Sign", rule, action: kind === 3 ? { kind: "NoAction" } : { kind: "Block" }, filters });
  }
  return out;
}

