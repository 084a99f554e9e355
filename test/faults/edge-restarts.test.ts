// Faults at the edge, with the whole network as real processes (three nodes, anvil, wrangler dev)
// and the chain's RPC behind a switchable proxy (test/chain/rpc-fault-proxy.ts, standing in for a
// third-party RPC provider): the RPC stops while a transfer is being broadcast, and the Worker is
// killed (wrangler and workerd SIGKILLed) and restarted in the middle of it. Nothing the API
// stored may be lost — wallets, signatures, transfers, policies, permissions, the velocity
// counters, the audit entries — and the transfer in flight ends Confirmed once the RPC is back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local-network.js";
import { startFaultProxy, type FaultProxy } from "../chain/rpc-fault-proxy.js";
import { apiState, getJson, startRig, until, type Rig } from "../adversarial/network-rig.js";

let rig: Rig;
let proxy: FaultProxy;
let walletId: string;
const RECIPIENT = "0x000000000000000000000000000000000000bEEF";
const COUNT_LIMIT = 6;

async function chain<T>(method: string, params: unknown[]): Promise<T> {
  const res = await fetch(rig.net.chainUrl!, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return ((await res.json()) as { result: T }).result;
}

type AuditPage = { items: { id: string | number }[]; nextPageToken?: string | number };
async function auditIds(): Promise<string[]> {
  const out: string[] = [];
  let token: string | number | undefined;
  do {
    const page = await getJson<AuditPage>(rig.root, `/audit?limit=500${token !== undefined ? `&paginationToken=${token}` : ""}`);
    out.push(...page.items.map((i) => String(i.id)));
    token = page.nextPageToken;
  } while (token !== undefined);
  return out;
}

const settled = (transferId: string, ms = 90_000) =>
  until(`transfer ${transferId}`, () => rig.dfns.wallets.getTransfer({ walletId, transferId }), (t) => ["Confirmed", "Failed", "Rejected"].includes(t.status), ms);

beforeAll(async () => {
  // anvil's port is chosen first so the proxy in front of it can be given to the Worker.
  const chainPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${chainPort}`);
  rig = await startRig("faults-edge", { chain: true, chainPort, vars: { ANVIL_RPC_URL: proxy.url, TESSERA_NETWORKS: JSON.stringify({ Anvil: { pollIntervalMs: 200 } }) } });
  const w = await rig.dfns.wallets.createWallet({ body: { network: "Anvil" as never, name: "restarts" } });
  walletId = w.id;
  await chain("anvil_setBalance", [w.address, "0x8ac7230489e80000"]);
}, 240_000);

afterAll(async () => {
  await rig?.stop();
  await proxy?.stop();
});

describe("the RPC stops during a broadcast and the Worker crashes meanwhile", () => {
  it("the transfer waits with the reason, survives the crash, and confirms once the RPC is back; nothing stored is lost", async () => {
    // Some of everything: a count velocity policy (its counter), a signature, a confirmed transfer.
    await rig.dfns.policies.createPolicy({
      body: { name: `${COUNT_LIMIT} signing requests per hour`, activityKind: "Wallets:Sign", rule: { kind: "TransactionCountVelocity", configuration: { limit: COUNT_LIMIT, timeframe: 60 } }, action: { kind: "Block" } } as never,
    });
    expect((await rig.dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: `0x${"ab".repeat(32)}` } })).status).toBe("Signed");
    const first = await rig.dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to: RECIPIENT, amount: "1000" } });
    expect((await settled(first.id)).status).toBe("Confirmed");

    // The RPC goes down; a transfer is submitted and cannot be broadcast.
    proxy.mode = "down";
    const stuck = await rig.dfns.wallets.transferAsset({ walletId, body: { kind: "Native", to: RECIPIENT, amount: "2000" } });
    const waiting = await until("transfer waiting on the RPC", () => rig.dfns.wallets.getTransfer({ walletId, transferId: stuck.id }), (t) => Boolean(t.reason) || t.status === "Executing", 60_000);
    expect(["Pending", "Executing"]).toContain(waiting.status);

    const before = await apiState(rig.root, [walletId]);
    const audit = await auditIds();
    expect(audit.length).toBeGreaterThan(5);

    // The Worker crashes (wrangler and workerd SIGKILLed) and is started again on the same state.
    await rig.net.restartApi({ crash: true });
    expect(await apiState(rig.root, [walletId])).toEqual(before);
    const auditAfter = await auditIds();
    expect(auditAfter.filter((id) => audit.includes(id)).sort()).toEqual([...audit].sort());
    expect((await rig.dfns.wallets.getTransfer({ walletId, transferId: stuck.id })).status).not.toMatch(/Confirmed|Failed|Rejected/);

    // The RPC comes back: the transfer in flight is broadcast and confirmed (the wallet object's
    // alarm carried it across the restart), the amount landed exactly once.
    proxy.mode = "pass";
    const balanceBefore = BigInt(await chain<string>("eth_getBalance", [RECIPIENT, "latest"]));
    expect((await settled(stuck.id, 120_000)).status).toBe("Confirmed");
    expect(BigInt(await chain<string>("eth_getBalance", [RECIPIENT, "latest"])) - balanceBefore).toBe(2000n);

    // The velocity counter survived: 3 requests were counted (signature + two transfers), so exactly
    // COUNT_LIMIT - 3 more hashes are signed and the next is blocked.
    const results = [];
    for (let i = 0; i < COUNT_LIMIT - 3 + 1; i++) results.push((await rig.dfns.wallets.generateSignature({ walletId, body: { kind: "Hash", hash: `0x${String(i).padStart(2, "0").repeat(32)}` } })).status);
    expect(results).toEqual([...Array(COUNT_LIMIT - 3).fill("Signed"), "Rejected"]);
  }, 240_000);

  it("a graceful restart (SIGTERM) keeps everything too", async () => {
    const before = await apiState(rig.root, [walletId]);
    const audit = await auditIds();
    await rig.net.restartApi();
    expect(await apiState(rig.root, [walletId])).toEqual(before);
    expect((await auditIds()).filter((id) => audit.includes(id)).length).toBe(audit.length);
  }, 120_000);
});
