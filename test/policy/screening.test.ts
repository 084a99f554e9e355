// Screening providers in Node: the bundled OFAC list (real data, every asset's addresses), the
// Chainalysis sanctions API client against a local stand-in of that third-party service (it is
// unreachable from here), and how the two combine.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChainalysisSanctionsApi } from "../../worker/src/policy/screening/chainalysis-api.js";
import bundled from "../../worker/src/policy/screening/ofac-sdn-addresses.json";
import { CombinedScreening } from "../../worker/src/policy/screening/provider.js";
import { SanctionsListScreening } from "../../worker/src/policy/screening/sanctions-list.js";
import type { PolicyRequest } from "../../shared/src/policy/types.js";

const request = (to: string | undefined): PolicyRequest => ({ kind: "Transfer", walletId: "wa-1", walletTags: [], network: "Ethereum", initiatorId: "us-1", ...(to ? { to } : {}) });

describe("bundled sanctions list", () => {
  const list = new SanctionsListScreening();

  it("holds the whole shipped snapshot and finds entries of every asset", async () => {
    const total = new Set(Object.values(bundled.addresses).flat().map((a) => (a.startsWith("0x") ? a.toLowerCase() : a))).size;
    expect(list.size).toBe(total);
    expect(list.size).toBeGreaterThan(600);
    for (const [asset, addresses] of Object.entries(bundled.addresses)) {
      const result = await list.screen(request(addresses[0]!));
      expect(result.status === "Screened" && result.findings[0]?.source, asset).toMatch(new RegExp(`listed as .*${asset}`));
    }
  });

  it("matches EVM addresses in any letter case, base58 exactly, and reports no finding for others", async () => {
    const btc = bundled.addresses.XBT[0]!;
    expect(await list.screen(request("0X098B716B8AAF21512996DC57EB0615E2383E2F96".replace("0X", "0x")))).toMatchObject({ findings: [{ category: "sanctions" }] });
    expect(await list.screen(request(btc))).toMatchObject({ findings: [{ category: "sanctions" }] });
    if (!btc.startsWith("bc1")) expect(await list.screen(request(btc.toLowerCase()))).toMatchObject({ findings: [] });
    expect(await list.screen(request("0x2222222222222222222222222222222222222222"))).toEqual({ status: "Screened", provider: "local sanctions list", findings: [] });
    expect(await list.screen(request(undefined))).toMatchObject({ status: "Unscreenable" });
  });
});

describe("Chainalysis sanctions API provider", () => {
  let server: Server;
  let base = "";
  const seen: { url: string; key: string | undefined }[] = [];
  beforeAll(async () => {
    // Stand-in for the hosted API (unreachable here), answering in its documented shape.
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", key: req.headers["x-api-key"] as string | undefined });
      if (req.headers["x-api-key"] !== "test-key") return void res.writeHead(403).end('{"message":"forbidden"}');
      const address = decodeURIComponent((req.url ?? "").split("/").pop() ?? "");
      const identifications = address === "0xbad0000000000000000000000000000000000bad" ? [{ category: "sanctions", name: "SANCTIONS: OFAC SDN Test", description: "x", url: "https://example.invalid" }] : [];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ identifications }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("asks GET /api/v1/address/:address with the key and turns identifications into findings", async () => {
    const api = new ChainalysisSanctionsApi({ apiKey: "test-key", baseUrl: base });
    expect(await api.screen(request("0xbad0000000000000000000000000000000000bad"))).toEqual({
      status: "Screened",
      provider: "Chainalysis sanctions API",
      findings: [{ address: "0xbad0000000000000000000000000000000000bad", category: "sanctions", source: "Chainalysis sanctions API: SANCTIONS: OFAC SDN Test" }],
    });
    expect(seen.at(-1)).toEqual({ url: "/api/v1/address/0xbad0000000000000000000000000000000000bad", key: "test-key" });
    expect(await api.screen(request("0x2222222222222222222222222222222222222222"))).toMatchObject({ status: "Screened", findings: [] });
    expect(await new ChainalysisSanctionsApi({ apiKey: "wrong", baseUrl: base }).screen(request("0x2222222222222222222222222222222222222222"))).toEqual({ status: "Failed", provider: "Chainalysis sanctions API", detail: "HTTP 403" });
  });

  it("combined with the local list: a hit from either is a hit; an unreachable API makes a clean answer incomplete", async () => {
    const both = new CombinedScreening([new SanctionsListScreening(), new ChainalysisSanctionsApi({ apiKey: "test-key", baseUrl: base })]);
    expect(await both.screen(request("0xbad0000000000000000000000000000000000bad"))).toMatchObject({ status: "Screened", findings: [{ category: "sanctions" }] });
    expect(await both.screen(request("0x098B716B8Aaf21512996dC57EB0615e2383E2f96"))).toMatchObject({ status: "Screened", findings: [{ source: expect.stringMatching(/OFAC SDN/) }] });
    const down = new CombinedScreening([new SanctionsListScreening(), new ChainalysisSanctionsApi({ apiKey: "k", baseUrl: "http://127.0.0.1:9", timeoutMs: 2_000 })]);
    expect(await down.screen(request("0x2222222222222222222222222222222222222222"))).toMatchObject({ status: "Failed", provider: "Chainalysis sanctions API" });
    // …but a local hit still blocks even when the API is down.
    expect(await down.screen(request("0x098B716B8Aaf21512996dC57EB0615e2383E2f96"))).toMatchObject({ status: "Screened", findings: [{ category: "sanctions" }] });
  });
});
