import { DurableObject } from "cloudflare:workers";

/** Counts, durably: one row in the object's own SQLite database. */
export class Counter extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)");
  }

  increment(): number {
    const row = this.ctx.storage.sql
      .exec<{ value: number }>(
        "INSERT INTO counter (id, value) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET value = value + 1 RETURNING value",
      )
      .one();
    return row.value;
  }
}
