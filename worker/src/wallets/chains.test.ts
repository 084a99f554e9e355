// Addresses from group public keys, checked against published vectors.
import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { privateKeyToAddress } from "viem/accounts";
import { WALLET_NETWORKS } from "./chains.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("wallet addresses", () => {
  it("EVM: the address of a compressed secp256k1 key equals viem's address of its private key", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const pk = hex(secp256k1.getPublicKey(sk, true));
    expect(WALLET_NETWORKS.EthereumSepolia.address(pk)).toBe(privateKeyToAddress(`0x${hex(sk)}`));
  });

  it("Bitcoin: BIP86 key-path Taproot vector (m/86'/0'/0'/0/0)", () => {
    // BIP86: internal key cc8a4b…c115 → output address bc1p5cyx…drcr
    expect(WALLET_NETWORKS.Bitcoin.address("cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115")).toBe(
      "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
    );
  });

  it("Solana: base58 of the ed25519 key (system program id for the all-zero key)", () => {
    expect(WALLET_NETWORKS.Solana.address("00".repeat(32))).toBe("11111111111111111111111111111111");
    const pk = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    expect(WALLET_NETWORKS.SolanaDevnet.address(hex(pk))).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  });

  it("key-only networks have no address", () => {
    expect(WALLET_NETWORKS.KeyECDSA.address("02" + "11".repeat(32))).toBeNull();
  });
});
