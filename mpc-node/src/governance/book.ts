// What this node believes about each governed organisation: the org's root of trust (learned out
// of band, `mpc-node orgs add`) and its governance log, replayed entry by entry with the pure
// rules of shared/src/governance/log.ts. Entries arrive with ceremony requests from the edge; an
// entry is kept only if the log as this node knows it authorizes it, so the edge can withhold
// entries but never invent one. Syncs of one org run one at a time.
import { z } from "zod";
import { applyEntry, entryHash, genesis, governanceEffect, type GovernanceEntry, type GovernanceState } from "../../../shared/src/governance/log.js";
import { userActionEvidenceSchema } from "../../../shared/src/mpc/authorization.js";
import type { NodeStore } from "../storage/node-store.js";

export const governanceEntrySchema = z.strictObject({
  orgId: z.string().min(1).max(128),
  index: z.int().nonnegative(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
  evidence: userActionEvidenceSchema.nullable(),
  effect: governanceEffect,
  at: z.string().max(64),
});

export type SyncResult = { ok: true; applied: number } | { ok: false; reason: string };

export class GovernanceBook {
  private readonly states = new Map<string, GovernanceState>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Pick<NodeStore, "governedOrg" | "governanceEntries" | "appendGovernanceEntries">,
    private readonly rpId = "localhost",
  ) {}

  /** The org's state as this node knows it; null if the org has no root of trust here. */
  async state(orgId: string): Promise<GovernanceState | null> {
    const cached = this.states.get(orgId);
    if (cached) return cached;
    const org = this.store.governedOrg(orgId);
    if (!org) return null;
    let state = genesis(orgId, org.roots, org.rootPermission);
    for (const text of this.store.governanceEntries(orgId)) {
      // Entries in our own store were verified when they were appended.
      const applied = await applyEntry(state, JSON.parse(text) as GovernanceEntry, { verifySignatures: false, rpId: this.rpId });
      if (!applied.ok) throw new Error(`stored governance log of ${orgId} does not replay: ${applied.reason}`);
      state = applied.state;
    }
    this.states.set(orgId, state);
    return state;
  }

  /** Applies the entries beyond this node's head, in order; stops at the first one the log does not authorize. */
  sync(orgId: string, entries: unknown[]): Promise<SyncResult> {
    const previous = this.locks.get(orgId) ?? Promise.resolve();
    const run = previous.then(() => this.syncNow(orgId, entries));
    this.locks.set(orgId, run.catch(() => {}));
    return run;
  }

  private async syncNow(orgId: string, entries: unknown[]): Promise<SyncResult> {
    let state = await this.state(orgId);
    if (!state) return { ok: true, applied: 0 };
    const fresh: { index: number; entry: string; hash: string }[] = [];
    let problem: string | null = null;
    for (const raw of entries) {
      // Entries this node already holds are skipped before any parsing.
      const index = (raw as { index?: unknown } | null)?.index;
      if (typeof index === "number" && index < state.head.length) continue;
      const parsed = governanceEntrySchema.safeParse(raw);
      if (!parsed.success) {
        problem = `a governance entry is malformed: ${parsed.error.issues[0]?.message ?? ""}`;
        break;
      }
      const entry = parsed.data as GovernanceEntry;
      if (entry.orgId !== orgId || entry.index < state.head.length) continue;
      const applied = await applyEntry(state, entry, { rpId: this.rpId });
      if (!applied.ok) {
        problem = `governance entry refused: ${applied.reason}`;
        break;
      }
      state = applied.state;
      fresh.push({ index: entry.index, entry: JSON.stringify(entry), hash: entryHash(entry) });
    }
    if (fresh.length > 0) {
      this.store.appendGovernanceEntries(orgId, fresh);
      this.states.set(orgId, state);
    }
    return problem ? { ok: false, reason: problem } : { ok: true, applied: fresh.length };
  }

  /** Forgets the cached state (after `orgs add` by another process, the store is re-read). */
  forget(orgId: string): void {
    this.states.delete(orgId);
  }
}
