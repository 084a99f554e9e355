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

// Statements that cannot change who a token belongs to or what it may do: reads, and the writes of
// the user-action flow itself (challenges, user actions).
const LEAVES_IDENTITIES_ALONE = /^\s*(SELECT\b|INSERT\s+INTO\s+(challenges|user_actions)\b|UPDATE\s+(challenges|user_actions)\b|DELETE\s+FROM\s+(challenges|user_actions)\b)/i;

/**
 * The object's SQL, calling `beforeChange` before every statement that might change an identity, a
 * token, a credential, a permission or an assignment — that is, before every statement except a
 * read or a challenge / user-action write. Deliberately coarse: a statement it cannot classify
 * counts as a change, so a cache emptied by `beforeChange` can only be emptied too often.
 */
export function watchIdentityWrites(sql: SqlStorage, beforeChange: () => void): SqlStorage {
  const raw = sql.exec.bind(sql);
  const exec = (query: string, ...bindings: SqlStorageValue[]) => {
    if (!LEAVES_IDENTITIES_ALONE.test(query)) beforeChange();
    return raw(query, ...bindings);
  };
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "exec") return exec;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
