// One function per Dfns rule kind: does this rule trigger for this request? Each answers with a
// reason a person can read in the audit log. Whenever a rule cannot tell (no price for the
// asset, no amount on a raw signature, no recipient to check, screening unavailable) it triggers:
// a policy that cannot be evaluated must not let the request through silently.
import { canonicalAddress } from "./addresses.js";
import { add, compare, formatDecimal, fromBaseUnits, multiply, parseDecimal, type Decimal } from "./decimal.js";
import { priceKey } from "./price-key.js";
import type { Rule } from "./schema.js";
import type { AssetRef, Facts, PolicyRequest, ScreeningFinding } from "./types.js";
import type { UsageWindow, Valuation } from "./usage-window.js";

export interface RuleContext {
  request: PolicyRequest;
  /** Earlier usage of the request's wallet; each velocity rule asks it for its own window. */
  usage: UsageWindow;
  facts: Facts;
}

export interface RuleResult {
  triggered: boolean;
  reason: string;
}

const triggered = (reason: string): RuleResult => ({ triggered: true, reason });
const passed = (reason: string): RuleResult => ({ triggered: false, reason });

function describeAsset(network: string, asset: AssetRef): string {
  return asset.contract ? `${asset.symbol} (${asset.contract}) on ${network}` : `${asset.symbol} on ${network}`;
}

/** USD value of `amount` base units of an asset, from a price in facts. */
function usdValue(network: string, asset: AssetRef | undefined, amount: string | undefined, facts: Facts): Valuation {
  if (!asset || amount === undefined) return { ok: false, reason: "the request's amount cannot be determined" };
  const price = facts.usdPrices?.[priceKey(network, asset)];
  if (price === undefined) return { ok: false, reason: `no USD price for ${describeAsset(network, asset)}` };
  return { ok: true, value: multiply(fromBaseUnits(amount, asset.decimals), parseDecimal(price)) };
}

/** Canonical whitelists, computed once per policy object (the PolicyState object keeps its policies). */
const whitelists = new WeakMap<string[], Set<string>>();
function whitelistOf(addresses: string[]): Set<string> {
  let set = whitelists.get(addresses);
  if (!set) whitelists.set(addresses, (set = new Set(addresses.map(canonicalAddress))));
  return set;
}

const usd = (d: Decimal) => `${formatDecimal(d)} USD`;

export function evaluateRule(rule: Rule, ctx: RuleContext): RuleResult {
  const { request, facts } = ctx;
  switch (rule.kind) {
    case "AlwaysTrigger":
      return triggered("the rule always triggers");

    case "TransactionRecipientWhitelist": {
      if (request.to === undefined) return triggered("the request has no recipient to check against the whitelist");
      return whitelistOf(rule.configuration.addresses).has(canonicalAddress(request.to))
        ? passed(`recipient ${request.to} is whitelisted`)
        : triggered(`recipient ${request.to} is not in the whitelist`);
    }

    case "TransactionAmountLimit": {
      const value = usdValue(request.network, request.asset, request.amount, facts);
      if (!value.ok) return triggered(`amount limit cannot be checked: ${value.reason}`);
      const limit = parseDecimal(rule.configuration.limit);
      return compare(value.value, limit) > 0
        ? triggered(`amount ${usd(value.value)} exceeds the limit of ${usd(limit)}`)
        : passed(`amount ${usd(value.value)} is within the limit of ${usd(limit)}`);
    }

    case "TransactionAmountVelocity": {
      const { timeframe } = rule.configuration;
      const limit = parseDecimal(rule.configuration.limit);
      const value = usdValue(request.network, request.asset, request.amount, facts);
      if (!value.ok) return triggered(`amount velocity cannot be checked: ${value.reason}`);
      const earlier = ctx.usage.total(timeframe);
      if (!earlier.ok) return triggered(`amount velocity cannot be checked: ${earlier.reason}`);
      const total = add(earlier.value, value.value);
      const span = `${usd(total)} in the last ${timeframe} min (${ctx.usage.count(timeframe)} earlier + this ${usd(value.value)})`;
      return compare(total, limit) > 0 ? triggered(`${span} exceeds the limit of ${usd(limit)}`) : passed(`${span} is within the limit of ${usd(limit)}`);
    }

    case "TransactionCountVelocity": {
      const { limit, timeframe } = rule.configuration;
      const count = ctx.usage.count(timeframe) + 1;
      const span = `${count} requests in the last ${timeframe} min including this one`;
      return count > limit ? triggered(`${span} exceeds the limit of ${limit}`) : passed(`${span} is within the limit of ${limit}`);
    }

    case "ChainalysisTransactionPrescreening": {
      const { fallbackBehaviours: fallback } = rule.configuration;
      const screening = facts.screening ?? (request.to === undefined
        ? { status: "Unscreenable" as const, provider: "none", detail: "the request has no recipient" }
        : { status: "Failed" as const, provider: "none", detail: "no screening result" });
      switch (screening.status) {
        case "Screened": {
          const hits = screening.findings.filter((f) => findingTriggers(f, rule.configuration));
          if (hits.length === 0) return passed(`${screening.provider}: recipient ${request.to ?? ""} has no finding`.replace(/ +$/, ""));
          return triggered(`${screening.provider}: ${hits.map(describeFinding).join("; ")}`);
        }
        case "Unscreenable":
          return fallback.skipUnscreenableTransaction ? passed(`not screenable, skipped: ${screening.detail}`) : triggered(`not screenable: ${screening.detail}`);
        case "UnsupportedNetwork":
          return fallback.skipUnsupportedNetwork ? passed(`network not supported, skipped: ${screening.detail}`) : triggered(`network not supported by ${screening.provider}: ${screening.detail}`);
        case "UnsupportedAsset":
          return fallback.skipUnsupportedAsset ? passed(`asset not supported, skipped: ${screening.detail}`) : triggered(`asset not supported by ${screening.provider}: ${screening.detail}`);
        case "Failed":
          return fallback.skipChainalysisFailure ? passed(`screening failed, skipped: ${screening.detail}`) : triggered(`screening failed: ${screening.detail}`);
      }
    }
  }
}

const LEVELS = ["LOW", "MEDIUM", "HIGH", "SEVERE"] as const;

type PrescreeningConfiguration = Extract<Rule, { kind: "ChainalysisTransactionPrescreening" }>["configuration"];

/** Sanctions always trigger; other findings trigger when the rule lists their category or alert level. */
function findingTriggers(f: ScreeningFinding, config: PrescreeningConfiguration): boolean {
  if (f.category === "sanctions") return true;
  if (f.categoryId !== undefined && (config.addresses.categoryIds.includes(f.categoryId) || config.exposures.direct.categoryIds.includes(f.categoryId))) return true;
  if (f.alertLevel !== undefined && LEVELS.indexOf(f.alertLevel) >= LEVELS.indexOf(config.alerts.alertLevel)) {
    return config.alerts.categoryIds.length === 0 || (f.categoryId !== undefined && config.alerts.categoryIds.includes(f.categoryId));
  }
  return false;
}

function describeFinding(f: ScreeningFinding): string {
  return `recipient ${f.address} is listed (${f.category}${f.categoryId !== undefined ? ` #${f.categoryId}` : ""}${f.alertLevel ? `, ${f.alertLevel}` : ""}) in ${f.source}`;
}
