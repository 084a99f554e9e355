// The part of a Durable Object's SqlStorage the broadcast layer uses. Written against this
// interface (not the Workers type) so the same transfer engine runs in the Durable Object and, for
// component tests against a real chain, on Node's built-in SQLite.
export type SqlValue = string | number | null | ArrayBuffer;

export interface SqlCursor<T> {
  toArray(): T[];
}

export interface Sql {
  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): SqlCursor<T>;
}
