// The edge↔node hop over TLS: the share holders listen for the edge on "/tls/ws" with a
// certificate from their config (self-signed here, made by openssl), the edge (workerd) dials
// wss and verifies it; noise still authenticates and encrypts inside. A wallet is created and
// signs through the official SDK; the nodes' websocket port speaks TLS only; and an edge that
// does not trust the certificate reaches no node at all.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error — a plain .mjs helper for npm start, without type declarations
import { ensureLocalOrg } from "../../worker/src/admin/local-bootstrap.mjs";
import { startLocalNetwork, type LocalNetwork } from "../../scripts/local-network.js";

let net: LocalNetwork;
let dir: string;
let dfns: DfnsApiClient;
/** The nodes' signing sessions that ended, from their log lines. */
const signed: string[] = [];
const log = (source: string, line: string) => {
  if (source.startsWith("node ") && line.includes('"session-finished"') && line.includes('"kind":"sign"')) signed.push(source);
};
const wsPortOf = (i: number) => Number(/\/tcp\/(\d+)\/tls\/ws$/.exec((JSON.parse(readFileSync(net.nodes[i]!.configPath, "utf8")) as { listen: { ws: string } }).listen.ws)![1]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tessera-wss-"));
  net = await startLocalNetwork({ stateDir: dir, chain: false, tls: true, log });
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: join(dir, "local.json") });
  dfns = new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
}, 240_000);

afterAll(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("edge to share holders over wss", () => {
  let walletId: string;
  let publicKey: string;

  it("creates a wallet and signs through the SDK with every node reached over TLS", async () => {
    const w = await dfns.wallets.createWallet({ body: { network: "KeyEdDSA", name: "wss" } });
    expect(w.status).toBe("Active");
    walletId = w.id;
    publicKey = w.signingKey.publicKey;
    const message = `0x${bytesToHex(new TextEncoder().encode("over tls"))}`;
    const res = await dfns.wallets.generateSignature({ walletId, body: { kind: "Message", message } });
    expect(res.status, res.reason).toBe("Signed");
    const sig = hexToBytes(res.signature!.r.slice(2) + res.signature!.s.slice(2));
    expect(ed25519.verify(sig, hexToBytes(message.slice(2)), hexToBytes(publicKey))).toBe(true);
  }, 120_000);

  it("the nodes' websocket port speaks TLS only, with the configured certificate", async () => {
    const cert = readFileSync(join(dir, "tls/cert.pem"), "utf8");
    const port = wsPortOf(0);
    const peer = await new Promise<{ authorized: boolean; san: string }>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, ca: cert, servername: "localhost" }, () => {
        resolve({ authorized: s.authorized, san: s.getPeerCertificate().subjectaltname ?? "" });
        s.end();
      });
      s.once("error", reject);
    });
    expect(peer).toMatchObject({ authorized: true });
    expect(peer.san).toContain("IP Address:127.0.0.1");
    // Plain HTTP (a ws:// upgrade) gets no answer: the listener has no plaintext server.
    await expect(fetch(`http://127.0.0.1:${port}/`, { headers: { upgrade: "websocket", connection: "upgrade" }, signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
  });

  it("an edge that does not trust the certificate reaches no node: the signature fails with 503, nothing is signed", async () => {
    await net.restartApi({ env: { NODE_EXTRA_CA_CERTS: "" } });
    const before = signed.length;
    const message = `0x${bytesToHex(new TextEncoder().encode("untrusted"))}`;
    const err = await dfns.wallets.generateSignature({ walletId, body: { kind: "Message", message } }).then(
      (r) => r,
      (e: unknown) => e,
    );
    // Either the API answers 503, or it records the request as Failed with the unreachable nodes.
    const failed = (err as { httpStatus?: number }).httpStatus === 503 || (err as { status?: string }).status === "Failed";
    expect(failed, JSON.stringify(err)).toBe(true);
    expect(signed.length).toBe(before);
    expect(before).toBe(2); // the first test's signature, by two nodes
  }, 120_000);
});
