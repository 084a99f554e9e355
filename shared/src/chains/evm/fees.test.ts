// The nodes' fee and nonce rules for EVM transactions (./fees.ts).
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { keccak256, serializeTransaction } from "viem";
import { describe, expect, it } from "vitest";
import { ceilingForChain, feeCeilingProblem, NONCE_WINDOW, nonceGapProblem, provenNonce } from "./fees.js";
import { unsignedEvmTransaction } from "./rules.js";

const gwei = 10n ** 9n;
const tx = (o: { nonce?: number; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; gas?: bigint; chainId?: number } = {}) =>
  serializeTransaction({ chainId: 11155111, type: "eip1559", to: "0x000000000000000000000000000000000000dEaD", value: 1n, nonce: 0, gas: 21_000n, maxFeePerGas: 30n * gwei, maxPriorityFeePerGas: gwei, ...o });
const legacy = serializeTransaction({ chainId: 11155111, type: "legacy", to: "0x000000000000000000000000000000000000dEaD", value: 1n, nonce: 0, gas: 21_000n, gasPrice: 40n * gwei });
const ceiling = { maxFee: String(21_000n * 50n * gwei), maxPriorityFeePerGas: String(2n * gwei) };
const chainIdOf = (n: string) => ({ EthereumSepolia: 11155111, Ethereum: 1 })[n];

describe("fee ceilings", () => {
  it("caps gas × max fee per gas and the tip, for EIP-1559 and legacy transactions", () => {
    expect(feeCeilingProblem(unsignedEvmTransaction(tx()), ceiling, "EthereumSepolia")).toBeNull();
    expect(feeCeilingProblem(unsignedEvmTransaction(tx({ maxFeePerGas: 51n * gwei })), ceiling, "EthereumSepolia")).toMatch(/above the org's ceiling/);
    expect(feeCeilingProblem(unsignedEvmTransaction(tx({ gas: 21_000n * 2n })), ceiling, "EthereumSepolia")).toMatch(/above the org's ceiling/);
    expect(feeCeilingProblem(unsignedEvmTransaction(tx({ maxPriorityFeePerGas: 3n * gwei })), ceiling, "EthereumSepolia")).toMatch(/tips/);
    // A legacy gas price is all tip.
    expect(feeCeilingProblem(unsignedEvmTransaction(legacy), ceiling, "EthereumSepolia")).toMatch(/tips 40000000000/);
    expect(feeCeilingProblem(unsignedEvmTransaction(legacy), { maxFee: null, maxPriorityFeePerGas: null }, "EthereumSepolia")).toBeNull();
    expect(feeCeilingProblem(unsignedEvmTransaction(tx({ maxFeePerGas: 10n ** 20n })), undefined, "EthereumSepolia")).toBeNull();
  });

  it("applies the strictest ceiling of the networks on the transaction's chain, none of another chain's", () => {
    const all = { EthereumSepolia: ceiling, Ethereum: { maxFee: "1", maxPriorityFeePerGas: "1" } };
    expect(ceilingForChain(all, 11155111, chainIdOf)).toEqual({ network: "EthereumSepolia", ceiling });
    expect(ceilingForChain(all, 5, chainIdOf)).toBeNull();
  });
});

describe("the nonce rule", () => {
  it("allows the window of nonces from the next after the highest known signed, nothing beyond", () => {
    expect(nonceGapProblem(0, null)).toBeNull();
    expect(nonceGapProblem(NONCE_WINDOW - 1, null)).toBeNull();
    expect(nonceGapProblem(NONCE_WINDOW, null)).toMatch(/skips ahead/);
    expect(nonceGapProblem(4, 3)).toBeNull();
    expect(nonceGapProblem(2, 3)).toBeNull();
    expect(nonceGapProblem(3 + NONCE_WINDOW, 3)).toBeNull();
    expect(nonceGapProblem(4 + NONCE_WINDOW, 3)).toMatch(/skips ahead/);
  });

  it("a proof counts only when the key signed that transaction, on that chain", () => {
    const secret = secp256k1.utils.randomSecretKey();
    const publicKey = bytesToHex(secp256k1.getPublicKey(secret, true));
    const at4 = tx({ nonce: 4 });
    const sign = (t: string, k: Uint8Array) => bytesToHex(secp256k1.sign(hexToBytes(keccak256(t as `0x${string}`).slice(2)), k, { prehash: false }));
    expect(provenNonce({ transaction: at4, signature: sign(at4, secret) }, 11155111, publicKey)).toBe(4);
    expect(provenNonce({ transaction: at4, signature: sign(at4, secp256k1.utils.randomSecretKey()) }, 11155111, publicKey)).toBeNull();
    expect(provenNonce({ transaction: at4, signature: sign(at4, secret) }, 1, publicKey)).toBeNull();
    expect(provenNonce({ transaction: tx({ nonce: 9 }), signature: sign(at4, secret) }, 11155111, publicKey)).toBeNull();
  });
});
