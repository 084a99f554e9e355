import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Counter } from "../../worker/src/counter.js";

describe("worker inside workerd", () => {
  it("answers the hello route", async () => {
    const res = await SELF.fetch("http://tessera.test/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "tessera", status: "ok" });
  });

  it("counts in a SQLite-backed Durable Object", async () => {
    const first = await SELF.fetch("http://tessera.test/counters/a/increment", { method: "POST" });
    const second = await SELF.fetch("http://tessera.test/counters/a/increment", { method: "POST" });
    const other = await SELF.fetch("http://tessera.test/counters/b/increment", { method: "POST" });
    expect(await first.json()).toEqual({ value: 1 });
    expect(await second.json()).toEqual({ value: 2 });
    expect(await other.json()).toEqual({ value: 1 });

    const stub = env.COUNTER.getByName("a");
    const stored = await runInDurableObject(stub, (_instance: Counter, state) =>
      state.storage.sql.exec<{ value: number }>("SELECT value FROM counter WHERE id = 1").one().value,
    );
    expect(stored).toBe(2);
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await SELF.fetch("http://tessera.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "Not found" } });
  });
});
