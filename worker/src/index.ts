import { Hono } from "hono";
import { Counter } from "./counter.js";

export interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ name: "tessera", status: "ok" }));

// A named counter kept in its own Durable Object: the smallest proof that
// SQLite-backed storage works end to end.
app.post("/counters/:name/increment", async (c) => {
  const stub = c.env.COUNTER.getByName(c.req.param("name"));
  return c.json({ value: await stub.increment() });
});

app.notFound((c) => c.json({ error: { message: "Not found" } }, 404));

export { Counter };
export default app;
