// `npm start` as a newcomer meets it: ready within 60 s, a local org and credentials file, and a
// second start that keeps the wallet created during the first (shares, registry and org state).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DfnsApiClient } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local-network.js";
import { bitcoinRpc } from "../../scripts/btcd/regtest-miner.js";

const startScript = new URL("../../scripts/start.mjs", import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), "tessera-start-"));
let child: ChildProcess | undefined;

async function npmStart(env: Record<string, string>): Promise<{ output: string; ms: number }> {
  const t0 = Date.now();
  child = spawn(process.execPath, [startScript], { env: { ...process.env, ...env, TESSERA_STATE_DIR: stateDir }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      if (/ready in [\d.]+ s/.test(output) && /Ctrl-C stops everything/.test(output)) resolve();
    };
    child!.stdout!.on("data", onData);
    child!.stderr!.on("data", onData);
    child!.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  return { output, ms: Date.now() - t0 };
}

async function stop(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null) return;
  const gone = new Promise((r) => c.once("exit", r));
  c.kill("SIGINT"); // what Ctrl-C sends
  await gone;
}

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("is ready in under 60 s, and a second start keeps the wallet of the first", async () => {
    const env = {
      TESSERA_API_PORT: String(await freePort()),
      TESSERA_CHAIN_PORT: String(await freePort()),
      TESSERA_SOLANA_PORT: String(await freePort()),
      TESSERA_BITCOIN_PORT: String(await freePort()),
      TESSERA_NODE_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    };
    const first = await npmStart(env);
    expect(first.ms).toBeLessThan(60_000);
    expect(first.output).toMatch(/Try it:/);
    const cfg = JSON.parse(readFileSync(join(stateDir, "local.json"), "utf8")) as { baseUrl: string; authToken: string; credId: string; privateKeyPem: string; orgId: string; chains: Record<string, string> };
    // Every local chain's RPC, by network name, answering its standard JSON-RPC.
    expect(cfg.chains.SolanaLocal).toBe(`http://127.0.0.1:${env.TESSERA_SOLANA_PORT}`);
    const health = await fetch(cfg.chains.SolanaLocal!, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getHealth" }) });
    expect(((await health.json()) as { result: string }).result).toBe("ok");
    expect(cfg.chains.Anvil).toBe(`http://127.0.0.1:${env.TESSERA_CHAIN_PORT}`);
    // btcd: credentials inside the URL; segwit and taproot active; blocks made by itself.
    const btcUrl = new URL(cfg.chains.BitcoinRegtest!);
    expect(`${btcUrl.hostname}:${btcUrl.port}`).toBe(`127.0.0.1:${env.TESSERA_BITCOIN_PORT}`);
    const btc = bitcoinRpc(cfg.chains.BitcoinRegtest!);
    const info = await btc<{ chain: string; blocks: number; bip9_softforks: Record<string, { status: string }> }>("getblockchaininfo");
    expect([info.chain, info.bip9_softforks.segwit?.status, info.bip9_softforks.taproot?.status]).toEqual(["regtest", "active", "active"]);
    const dfns = () => new DfnsApiClient({ baseUrl: cfg.baseUrl, authToken: cfg.authToken, signer: new AsymmetricKeySigner({ credId: cfg.credId, privateKey: cfg.privateKeyPem }) });
    // "Anvil" is our local network; the SDK's enum lists only public ones.
    const wallet = await dfns().wallets.createWallet({ body: { network: "Anvil" as never, name: "kept" } });
    await stop();
    expect(child!.exitCode !== null || child!.signalCode !== null).toBe(true);

    const second = await npmStart(env);
    expect(second.output).toMatch(/reused/);
    expect(second.ms).toBeLessThan(60_000);
    const again = await dfns().wallets.getWallet({ walletId: wallet.id });
    expect(again.address).toBe(wallet.address);
    // The shares survived too: the nodes still sign with the key.
    const sig = await dfns().wallets.generateSignature({ walletId: wallet.id, body: { kind: "Hash", hash: `0x${"ab".repeat(32)}` } });
    expect(sig.status).toBe("Signed");
    await stop();
  }, 240_000);
});
