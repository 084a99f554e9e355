// A wallet's earlier usage, indexed once per decision so that every velocity policy's window is
// a binary search, not a scan: commits sorted newest first with running counts and USD totals,
// in-flight reservations (which count whatever their age) kept apart. With 40 velocity policies
// over 500 entries this turns 20 000 decimal additions per decision into 500.
import { add, fromBaseUnits, multiply, parseDecimal, ZERO, type Decimal } from "./decimal.js";
import { priceKey } from "./price-key.js";
import type { Facts, UsageEntry } from "./types.js";

export type Valuation = { ok: true; value: Decimal } | { ok: false; reason: string };

/** USD value of an earlier request: its stored value, else today's price, else unknown. */
function usageValue(entry: UsageEntry, facts: Facts): Valuation {
  if (entry.amount === undefined || !entry.asset) return { ok: true, value: ZERO }; // a raw signature moves no known amount
  if (entry.usdValue !== undefined) return { ok: true, value: parseDecimal(entry.usdValue) };
  const price = facts.usdPrices?.[priceKey(entry.network, entry.asset)];
  if (price === undefined) return { ok: false, reason: `an earlier request (${entry.id}) cannot be valued: no USD price for ${entry.asset.symbol} on ${entry.network}` };
  return { ok: true, value: multiply(fromBaseUnits(entry.amount, entry.asset.decimals), parseDecimal(price)) };
}

function plus(a: Valuation, b: Valuation): Valuation {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return { ok: true, value: add(a.value, b.value) };
}

export class UsageWindow {
  /** Built on first use: a decision without velocity policies never pays for the index. */
  private index: { reserved: UsageEntry[]; committed: UsageEntry[] } | null = null;
  private reservedTotal: Valuation | null = null;
  /** totals[i] = USD of the i newest commits (built on first use). */
  private totals: Valuation[] | null = null;

  constructor(
    private readonly usage: UsageEntry[],
    private readonly now: number,
    private readonly facts: Facts,
  ) {}

  private get reserved(): UsageEntry[] {
    return this.indexed().reserved;
  }

  private get committed(): UsageEntry[] {
    return this.indexed().committed;
  }

  private indexed() {
    this.index ??= {
      reserved: this.usage.filter((e) => e.state === "Reserved"),
      committed: this.usage.filter((e) => e.state === "Committed").sort((a, b) => b.at - a.at),
    };
    return this.index;
  }

  /** Number of commits inside (now − minutes, now]. */
  private committedInside(minutes: number): number {
    const start = this.now - minutes * 60_000;
    let lo = 0;
    let hi = this.committed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.committed[mid]!.at > start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Requests counting inside the window: every reservation plus the commits inside it. */
  count(minutes: number): number {
    return this.reserved.length + this.committedInside(minutes);
  }

  /** USD total of the requests counting inside the window (or why it cannot be known). */
  total(minutes: number): Valuation {
    if (this.totals === null) {
      const totals: Valuation[] = [{ ok: true, value: ZERO }];
      for (const e of this.committed) totals.push(plus(totals[totals.length - 1]!, usageValue(e, this.facts)));
      this.totals = totals;
    }
    this.reservedTotal ??= this.reserved.reduce<Valuation>((sum, e) => plus(sum, usageValue(e, this.facts)), { ok: true, value: ZERO });
    return plus(this.reservedTotal, this.totals[this.committedInside(minutes)]!);
  }
}
