// The same wasm/pkg in a real browser (Debian's chromium, headless): the page loads
// wasm/index.ts (types stripped by Node, nothing else changed) and runs a 2-of-3 DKLs23
// keygen and signature; Node verifies the result with @noble/curves.
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { stripTypeScriptTypes } from "node:module";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { browserAvailable, launchChromium } from "../test/browser/chromium.js";

const root = new URL("./", import.meta.url);

const PAGE = `<!doctype html><meta charset="utf-8"><title>tessera-mpc</title>
<script type="module">
  import { initMpc, Ceremony, runLocally, randomSessionId, mpcVersion } from "/wasm/index.js";
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  try {
    await initMpc();
    const sessionId = randomSessionId();
    const keygen = [1, 2, 3].map((me) => Ceremony.keygen({ scheme: "ecdsa-secp256k1", sessionId, me, parties: [1, 2, 3], threshold: 2 }));
    runLocally(keygen);
    const shares = keygen.map((c) => c.keyShare());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("signed in chromium")));
    const signId = randomSessionId();
    const signing = [shares[1], shares[2]].map((share) => Ceremony.sign({ share, sessionId: signId, signers: [2, 3], message: digest }));
    runLocally(signing);
    const sig = signing[0].signature();
    window.result = { version: mpcVersion(), userAgent: navigator.userAgent, publicKey: hex(shares[0].publicKey()), digest: hex(digest), signature: hex(sig.signature), recid: sig.recid };
  } catch (e) {
    window.result = { error: String(e && e.stack || e) };
  }
</script>`;

function serve(): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      if (path === "/wasm/index.js") {
        const ts = await readFile(new URL("index.ts", root), "utf8");
        return void res.writeHead(200, { "content-type": "text/javascript" }).end(stripTypeScriptTypes(ts, { mode: "transform" }));
      }
      const m = /^\/wasm\/pkg\/(tessera_mpc\.js|tessera_mpc_bg\.wasm)$/.exec(path);
      if (m) {
        const type = m[1]!.endsWith(".wasm") ? "application/wasm" : "text/javascript";
        return void res.writeHead(200, { "content-type": type }).end(await readFile(new URL(`pkg/${m[1]}`, root)));
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(!browserAvailable)("MPC core in chromium", () => {
  let server: Server;
  beforeAll(async () => {
    server = await serve();
  });
  afterAll(() => server?.close());

  it("runs a 2-of-3 ECDSA keygen and signs in the page; noble verifies", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 110_000 });
      const result = (await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result)) as Record<string, string | number>;
      expect(result.error).toBeUndefined();
      expect(String(result.userAgent)).toMatch(/Chrome/);
      const sig = Buffer.from(String(result.signature), "hex");
      const digest = Buffer.from(String(result.digest), "hex");
      const pk = Buffer.from(String(result.publicKey), "hex");
      expect(secp256k1.verify(sig, digest, pk, { prehash: false })).toBe(true);
      const recovered = secp256k1.Signature.fromBytes(sig, "compact").addRecoveryBit(Number(result.recid)).recoverPublicKey(digest);
      expect(Buffer.from(recovered.toBytes(true)).equals(pk)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
