// Addresses from group public keys, checked against published vectors.
import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { privateKeyToAddress } from "viem/accounts";
import { keyKindFor, walletAddressProblem, WALLET_NETWORKS } from "./chains.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("wallet addresses", () => {
  it("EVM: the address of a compressed secp256k1 key equals viem's address of its private key", () => {
    const sk = secp256k1.utils.randomSecretKey();
    const pk = hex(secp256k1.getPublicKey(sk, true));
    expect(WALLET_NETWORKS.EthereumSepolia.address(pk)).toBe(privateKeyToAddress(`0x${hex(sk)}`));
  });

  it("Bitcoin Taproot: the FROST group key is already the BIP341 output key, used as is (BIP86 vector m/86'/0'/0'/0/0)", () => {
    // BIP86: internal key cc8a4b…c115, tweaked → output key a60869…684c → bc1p5cyx…drcr. The share
    // holders return the tweaked (output) key, so the address must not tweak it again.
    const taproot = keyKindFor("Bitcoin", "Schnorr")!;
    expect(taproot.address("a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c")).toBe("bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr");
    expect(keyKindFor("BitcoinRegtest", "Schnorr")!.address("a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c")).toMatch(/^bcrt1p/);
  });

  it("Bitcoin ECDSA (the default): P2WPKH (BIP84 vector m/84'/0'/0'/0/0)", () => {
    expect(WALLET_NETWORKS.Bitcoin.address("0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c")).toBe("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
  });

  it("a wallet stored with another address than its key gives is refused, not shown", () => {
    const pk = "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c";
    // The double-tweaked address the old code stored for this key.
    const twice = "bc1p" + "x".repeat(58);
    expect(walletAddressProblem({ id: "wa-1", network: "Bitcoin", scheme: "Schnorr", publicKey: pk, address: twice })).toMatch(/cannot spend/);
    expect(walletAddressProblem({ id: "wa-1", network: "Bitcoin", scheme: "Schnorr", publicKey: pk, address: "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr" })).toBeNull();
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
