// Node's built-in SQLite behind the broadcast layer's Sql interface (the subset of a Durable
// Object's SqlStorage it uses), so the transfer engine and the webhook dispatcher run unchanged in
// Node component tests against a real chain.
import { DatabaseSync } from "node:sqlite";
import type { Sql, SqlValue } from "../../worker/src/broadcast/sql.js";

export function nodeSql(): Sql & { close(): void } {
  const db = new DatabaseSync(":memory:");
  return {
    exec<T>(query: string, ...bindings: SqlValue[]) {
      const rows = db.prepare(query).all(...(bindings as (string | number | null)[])) as T[];
      return { toArray: () => rows };
    },
    close: () => db.close(),
  };
}
