// What every layer of an organisation's Durable Object shares: its SQLite, its synchronous
// transactions (no await between a check and the write it guards) and the org's id. Each layer
// (auth/sessions.ts, auth/directory.ts, permissions/grants.ts, governance/log-store.ts) owns its
// own tables on it; worker/src/orgs/org.ts routes the object's RPC methods to them.
export interface OrgStorage {
  readonly sql: SqlStorage;
  transaction<T>(fn: () => T): T;
  orgId(): string | null;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
