// A Worker that dies while the share holders sign must not leave the request Executing forever:
// the wallet registry's alarm fails it after the ceremony deadline and releases its reservation.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { INTERRUPTED_AFTER_MS, type SignatureRecord } from "../../worker/src/wallets/wallet-registry.js";

const record = (id: string, startedAgoMs: number): SignatureRecord => {
  const at = new Date(Date.now() - startedAgoMs).toISOString();
  return {
    id,
    walletId: "wa-aaaaa-bbbbb-cccccccccc",
    keyId: "key-aaaaa-bbbbb-cccccccccc",
    network: "Anvil",
    requester: { userId: "us-aaaaa-bbbbb-cccccccccc" },
    requestBody: JSON.stringify({ kind: "Hash", hash: `0x${"11".repeat(32)}` }),
    status: "Executing",
    dateRequested: at,
    datePolicyResolved: at,
  };
};

describe("interrupted signature requests", () => {
  it("fails an Executing request past the ceremony deadline, leaves a recent one alone", async () => {
    const stub = env.WALLETS.get(env.WALLETS.idFromName("or-interrupted"));
    await stub.putSignature(record("sig-aaaaa-aaaaa-old0000000", INTERRUPTED_AFTER_MS + 60_000));
    await stub.putSignature(record("sig-aaaaa-aaaaa-new0000000", 1_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const old = await stub.getSignature("wa-aaaaa-bbbbb-cccccccccc", "sig-aaaaa-aaaaa-old0000000");
    const recent = await stub.getSignature("wa-aaaaa-bbbbb-cccccccccc", "sig-aaaaa-aaaaa-new0000000");
    expect(old?.status).toBe("Failed");
    expect(old?.reason).toMatch(/interrupted/);
    expect(recent?.status).toBe("Executing");
    // The recent one keeps a deadline of its own.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
  });
});
