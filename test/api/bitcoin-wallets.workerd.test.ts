// Bitcoin Taproot wallets made before the double-tweak fix carry an address their key cannot spend
// from. Such a stored wallet is never shown with its address and is refused with a clear 409 when
// used; a wallet whose address is its key's is served as usual.
import { env } from "cloudflare:test";
import { bech32m } from "@scure/base";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { walletAddress } from "../../shared/src/chains/bitcoin/rules.js";
import { walletRegistryOf, type WalletRecord } from "../../worker/src/wallets/wallet-registry.js";
import { json, newOrg } from "./fixtures.js";

/** The address the old code showed: the (already tweaked) group key tweaked a second time. */
function tweakedTwice(x: Uint8Array): string {
  const P = secp256k1.Point.fromBytes(Uint8Array.from([0x02, ...x]));
  const t = schnorr.utils.taggedHash("TapTweak", x);
  const Q = P.add(secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(t)));
  return bech32m.encode("bc", [1, ...bech32m.toWords(Q.toBytes(true).slice(1))]);
}

describe("Bitcoin Taproot wallets stored with the double-tweaked address", () => {
  it("are refused (409 with the reason) and listed without an address; a correct one is served", async () => {
    const { boot, sa } = await newOrg();
    const orgId = boot.orgId;
    const x = schnorr.getPublicKey(secp256k1.utils.randomSecretKey());
    const base: Omit<WalletRecord, "id" | "address"> = {
      orgId,
      network: "Bitcoin",
      name: null,
      externalId: null,
      tags: [],
      keyId: "key-old00-00000-0000000000",
      scheme: "Schnorr",
      curve: "secp256k1",
      publicKey: bytesToHex(x),
      status: "Active",
      dateCreated: new Date().toISOString(),
      creatorId: "us-x",
    };
    const registry = walletRegistryOf(env, orgId);
    await registry.addWallet({ ...base, id: "wa-old00-00000-0000000000", address: tweakedTwice(x) });
    await registry.addWallet({ ...base, id: "wa-new00-00000-0000000000", address: walletAddress("frost-bip340", bytesToHex(x), "Bitcoin") });

    const old = await sa.get("/wallets/wa-old00-00000-0000000000");
    expect(old.status).toBe(409);
    expect((await json<{ error: { message: string } }>(old)).error.message).toMatch(/address its key cannot spend from .*tweaked twice/);
    const transfer = await sa.signed("POST", "/wallets/wa-old00-00000-0000000000/transfers", { kind: "Native", to: "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", amount: "10000" });
    expect(transfer.status).toBe(409);
    const sign = await sa.signed("POST", "/wallets/wa-old00-00000-0000000000/signatures", { kind: "Hash", hash: `0x${"ab".repeat(32)}` });
    expect(sign.status).toBe(409);

    const list = await json<{ items: { id: string; address?: string }[] }>(await sa.get("/wallets"));
    expect(list.items.find((w) => w.id === "wa-old00-00000-0000000000")).not.toHaveProperty("address");
    expect(list.items.find((w) => w.id === "wa-new00-00000-0000000000")?.address).toMatch(/^bc1p/);
    expect((await sa.get("/wallets/wa-new00-00000-0000000000")).status).toBe(200);
  });
});
