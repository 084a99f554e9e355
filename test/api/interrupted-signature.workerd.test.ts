// A Worker that dies while the share holders sign must not leave the request Executing forever:
// the wallet registry's alarm fails it after the ceremony deadline and releases its reservation.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../worker/src/policy/gate.js";
import { INTERRUPTED_AFTER_MS, type SignatureRecord } from "../../worker/src/wallets/wallet-registry.js";
import { gateInput, policySql } from "../policy/fixtures.js";
import { newOrg } from "./fixtures.js";

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

  it("commits the reservation of a signed request answered before its commit (the edge stopped), leaves a recent one to its own settling", async () => {
    const { boot } = await newOrg();
    const allowed = await Promise.all([0, 1].map(() => evaluatePolicies(env, boot.orgId, gateInput({ initiatorId: boot.serviceAccount.userId }))));
    const [old, recent] = allowed.map((g) => (g.status === "Allowed" ? g.reservation : expect.unreachable(`gate said ${g.status}`)));
    const stub = env.WALLETS.get(env.WALLETS.idFromName(boot.orgId));
    const signed = (id: string, agoMs: number, reservation: typeof old): SignatureRecord => ({
      ...record(id, agoMs + 1_000),
      status: "Signed",
      signature: { r: `0x${"22".repeat(32)}`, s: `0x${"33".repeat(32)}`, recid: 0, encoded: `0x${"22".repeat(32)}${"33".repeat(32)}1b` },
      dateSigned: new Date(Date.now() - agoMs).toISOString(),
      unsettled: true,
      reservation: reservation!,
    });
    await stub.putSignature(signed("sig-aaaaa-aaaaa-unsettled0", 5 * 60_000, old));
    await stub.putSignature(signed("sig-aaaaa-aaaaa-unsettled1", 1_000, recent));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const settled = await stub.getSignature("wa-aaaaa-bbbbb-cccccccccc", "sig-aaaaa-aaaaa-unsettled0");
    expect(settled?.status).toBe("Signed");
    expect(settled?.unsettled).toBeUndefined();
    expect(settled?.reservation).toBeUndefined();
    const states = async (id: string) => (await policySql<{ state: string }>(boot.orgId, "SELECT state FROM usage WHERE reservation_id = ?", id))[0]?.state;
    expect(await states(old!.reservationId)).toBe("Committed");
    // Still within its settling time: the answer's own settling does it, not the alarm.
    expect(await states(recent!.reservationId)).toBe("Reserved");
    expect((await stub.getSignature("wa-aaaaa-bbbbb-cccccccccc", "sig-aaaaa-aaaaa-unsettled1"))?.unsettled).toBe(true);
  });
});
