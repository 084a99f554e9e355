// Signing intents: every kind's bytes against an independent computation (viem's own helpers,
// @noble/hashes), and the transfer / keygen checks that stand between a lying edge and a node.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { encodeFunctionData, erc20Abi, hashMessage, hashTypedData, keccak256, serializeTransaction, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { evmAddressOfKey } from "../chains/evm/calls.js";
import { privateKeyToAccount } from "viem/accounts";
import { recoverAuthorizationAddress } from "viem/utils";
import { canonicalJson, CanonicalJsonError } from "./canonical-json.js";
import { checkKeygenRequest, checkTransferTransaction, intentFromSignatureBody, IntentError, recomputeSigningMessage, requestIdOf, signingMessageFor, userTargetOf } from "./intent.js";

const tx = (o: Record<string, unknown> = {}): Hex =>
  serializeTransaction({ chainId: 11155111, type: "eip1559", to: "0x1111111111111111111111111111111111111111", value: 5n, nonce: 1, gas: 21_000n, maxFeePerGas: 3n, maxPriorityFeePerGas: 1n, ...o } as Parameters<typeof serializeTransaction>[0]);

describe("canonical JSON", () => {
  it("sorts keys at every depth, omits undefined members, keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: true, x: null }], c: "é\u2028\"" }, u: undefined })).toBe('{"a":{"c":"é\u2028\\"","d":[3,{"x":null,"y":true}]},"b":1}');
  });
  it("refuses what has no single encoding", () => {
    for (const bad of [1.5, Number.NaN, 2 ** 60, 10n, new Uint8Array(1), [undefined], new Date(0)]) {
      expect(() => canonicalJson({ v: bad })).toThrow(CanonicalJsonError);
    }
  });
});

describe("bytes to sign", () => {
  it("Hash: the 32 bytes for ECDSA, any bytes for FROST", () => {
    const h = "ab".repeat(32);
    expect(bytesToHex(signingMessageFor({ kind: "Hash", hash: `0x${h}` }, "ecdsa-secp256k1"))).toBe(h);
    expect(() => signingMessageFor({ kind: "Hash", hash: "0xabcd" }, "ecdsa-secp256k1")).toThrow(IntentError);
    expect(bytesToHex(signingMessageFor({ kind: "Hash", hash: "0xabcd" }, "frost-ed25519"))).toBe("abcd");
  });
  it("Message: EIP-191 for ECDSA, the raw bytes for EdDSA", () => {
    const raw = "0x68656c6c6f";
    expect(`0x${bytesToHex(signingMessageFor({ kind: "Message", message: raw }, "ecdsa-secp256k1"))}`).toBe(hashMessage({ raw }));
    expect(bytesToHex(signingMessageFor({ kind: "Message", message: raw }, "frost-ed25519"))).toBe("68656c6c6f");
  });
  it("Eip191 and Eip7702: what personal_sign and an EIP-7702 authorization sign, recomputed from the user's body", async () => {
    const raw = "0x68656c6c6f";
    expect(`0x${bytesToHex(signingMessageFor({ kind: "Eip191", message: raw }, "ecdsa-secp256k1"))}`).toBe(hashMessage({ raw }));
    // An EIP-7702 authorization signed over these bytes recovers to the signer (viem's own check).
    const account = privateKeyToAccount(`0x${"42".repeat(32)}`);
    const auth = { address: "0x2222222222222222222222222222222222222222", nonce: 3, chainId: 31337 } as const;
    const digest = signingMessageFor({ kind: "Eip7702", ...auth }, "ecdsa-secp256k1");
    const sig = await account.sign({ hash: `0x${bytesToHex(digest)}` });
    expect(await (recoverAuthorizationAddress as (a: unknown) => Promise<string>)({ authorization: auth, signature: sig })).toBe(account.address);
    expect(() => signingMessageFor({ kind: "Eip7702", ...auth }, "frost-ed25519")).toThrow(IntentError);
    const body = JSON.stringify({ kind: "Eip7702", ...auth, network: "Anvil" });
    const key = { keyId: "key-1", scheme: "ecdsa-secp256k1" as const, walletId: "wa-1", network: "Anvil" };
    const ok = recomputeSigningMessage({ intent: { kind: "Eip7702", ...auth }, userAction: { method: "POST", path: "/wallets/wa-1/signatures", payload: body }, key });
    expect(ok.ok && bytesToHex(ok.message)).toBe(bytesToHex(digest));
    // A lying edge: another delegate than the user named.
    const lie = recomputeSigningMessage({ intent: { kind: "Eip7702", ...auth, address: "0x3333333333333333333333333333333333333333" }, userAction: { method: "POST", path: "/wallets/wa-1/signatures", payload: body }, key });
    expect(lie.ok).toBe(false);
  });
  it("Transaction: keccak-256 of the unsigned serialization; signed or garbage refused; ECDSA only", () => {
    const t = tx();
    expect(bytesToHex(signingMessageFor({ kind: "Transaction", transaction: t }, "ecdsa-secp256k1"))).toBe(bytesToHex(keccak_256(hexToBytes(t.slice(2)))));
    const signed = serializeTransaction({ chainId: 1, type: "eip1559", to: "0x1111111111111111111111111111111111111111", value: 1n, nonce: 0, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }, { r: `0x${"11".repeat(32)}`, s: `0x${"22".repeat(32)}`, yParity: 0 });
    expect(() => signingMessageFor({ kind: "Transaction", transaction: signed }, "ecdsa-secp256k1")).toThrow(/already signed/);
    expect(() => signingMessageFor({ kind: "Transaction", transaction: "0xdeadbeef" }, "ecdsa-secp256k1")).toThrow(IntentError);
    expect(() => signingMessageFor({ kind: "Transaction", transaction: t }, "frost-ed25519")).toThrow(IntentError);
  });
  it("Eip712: viem's hashTypedData with the primary type ethers would pick", () => {
    const types = {
      Person: [{ name: "name", type: "string" }, { name: "wallet", type: "address" }],
      Mail: [{ name: "from", type: "Person" }, { name: "to", type: "Person[]" }, { name: "contents", type: "string" }],
    };
    const domain = { name: "Ether Mail", version: "1", chainId: 1, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" };
    const message = { from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" }, to: [{ name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" }], contents: "Hello, Bob!" };
    const expected = hashTypedData({ types, domain: domain as never, primaryType: "Mail", message: message as never });
    expect(`0x${bytesToHex(signingMessageFor({ kind: "Eip712", types, domain, message }, "ecdsa-secp256k1"))}`).toBe(expected);
    expect(() => signingMessageFor({ kind: "Eip712", types: { A: [], B: [] }, domain, message: {} }, "ecdsa-secp256k1")).toThrow(/exactly one primary type/);
  });
});

describe("transfers", () => {
  const to: Hex = "0x2222222222222222222222222222222222222222";
  it("native: recipient, amount, no data, the wallet's chain", () => {
    const native = { kind: "Native" as const, to, amount: "1000" };
    expect(() => checkTransferTransaction(native, tx({ to, value: 1000n }), "EthereumSepolia")).not.toThrow();
    expect(() => checkTransferTransaction(native, tx({ to, value: 999n }), "EthereumSepolia")).toThrow(/sends 999/);
    expect(() => checkTransferTransaction(native, tx({ value: 1000n }), "EthereumSepolia")).toThrow(/pays/);
    expect(() => checkTransferTransaction(native, tx({ to, value: 1000n, chainId: 1 }), "EthereumSepolia")).toThrow(/chain 1/);
    expect(() => checkTransferTransaction(native, tx({ to, value: 1000n, data: "0x00" }), "EthereumSepolia")).toThrow(/call data/);
    expect(() => checkTransferTransaction(native, tx({ to, value: 1000n }), "Nowhere")).toThrow(/not a known EVM network/);
    expect(() => checkTransferTransaction(native, tx({ to, value: 1000n, chainId: 31337 }), "Anvil", (n) => (n === "Anvil" ? 31337 : undefined))).not.toThrow();
  });
  it("ERC-20: the token contract, no value, exactly transfer(to, amount)", () => {
    const contract: Hex = "0x3333333333333333333333333333333333333333";
    const erc20 = { kind: "Erc20" as const, contract, to, amount: "77" };
    const data = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, 77n] });
    expect(() => checkTransferTransaction(erc20, tx({ to: contract, value: 0n, data }), "EthereumSepolia")).not.toThrow();
    expect(() => checkTransferTransaction(erc20, tx({ to: contract, value: 0n, data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, 78n] }) }), "EthereumSepolia")).toThrow(/transfer\(/);
    expect(() => checkTransferTransaction(erc20, tx({ to: contract, value: 1n, data }), "EthereumSepolia")).toThrow(/native value/);
    expect(() => checkTransferTransaction(erc20, tx({ to, value: 0n, data }), "EthereumSepolia")).toThrow(/calls/);
  });
});

describe("node-side recomputation from the user's request", () => {
  const key = { keyId: "key-1", scheme: "ecdsa-secp256k1" as const, walletId: "wa-1", network: "EthereumSepolia" };
  const hash = `0x${"cd".repeat(32)}`;
  it("derives the bytes from the user's body and requires the user's path to name this key or its wallet", () => {
    const body = JSON.stringify({ kind: "Hash", hash, network: "EthereumSepolia" });
    for (const path of ["/wallets/wa-1/signatures", "/keys/key-1/signatures"]) {
      const r = recomputeSigningMessage({ intent: { kind: "Hash", hash }, userAction: { method: "POST", path, payload: body }, key });
      expect(r.ok && bytesToHex(r.message)).toBe("cd".repeat(32));
    }
    for (const path of ["/wallets/wa-2/signatures", "/keys/key-2/signatures", "/wallets/wa-1/transfers", "/wallets", "/wallets/wa-1/signatures/x"]) {
      expect(recomputeSigningMessage({ intent: { kind: "Hash", hash }, userAction: { method: "POST", path, payload: body }, key }).ok).toBe(false);
    }
    expect(recomputeSigningMessage({ intent: { kind: "Hash", hash: `0x${"ce".repeat(32)}` }, userAction: { method: "POST", path: "/wallets/wa-1/signatures", payload: body }, key })).toMatchObject({ ok: false, reason: expect.stringMatching(/not what the user signed/) });
    expect(recomputeSigningMessage({ intent: { kind: "Hash", hash }, userAction: { method: "POST", path: "/wallets/wa-1/signatures", payload: JSON.stringify({ kind: "Hash", hash, taprootMerkleRoot: "00" }) }, key }).ok).toBe(false);
    expect(userTargetOf("GET", "/wallets/wa-1/signatures")).toBeNull();
    // Bytes are 0x-prefixed hex, as Dfns writes them; a bare or empty string is not a message.
    for (const bad of [{ kind: "Hash", hash: "cd".repeat(32) }, { kind: "Message", message: "" }, { kind: "Message", message: "abcd" }, { kind: "Message", message: "0xabc" }]) {
      expect(intentFromSignatureBody(JSON.stringify(bad)).ok).toBe(false);
    }
    expect(intentFromSignatureBody(JSON.stringify({ kind: "Message", message: "0x" })).ok).toBe(true);
  });
  it("a transfer must match the user's body, on the network the wallet was created on", () => {
    const to: Hex = "0x4444444444444444444444444444444444444444";
    const transfer = { kind: "Native" as const, to, amount: "5" };
    const userAction = { method: "POST", path: "/wallets/wa-1/transfers", payload: JSON.stringify({ ...transfer, priority: "Fast" }) };
    const transaction = tx({ to, value: 5n });
    const ok = recomputeSigningMessage({ intent: { kind: "Transfer", network: "EthereumSepolia", transfer, transaction }, userAction, key });
    expect(ok.ok && bytesToHex(ok.message)).toBe(bytesToHex(keccak_256(hexToBytes(transaction.slice(2)))));
    expect(recomputeSigningMessage({ intent: { kind: "Transfer", network: "EthereumSepolia", transfer: { ...transfer, amount: "6" }, transaction: tx({ to, value: 6n }) }, userAction, key })).toMatchObject({ ok: false });
    expect(recomputeSigningMessage({ intent: { kind: "Transfer", network: "Ethereum", transfer, transaction: tx({ to, value: 5n, chainId: 1 }) }, userAction, key })).toMatchObject({ ok: false, reason: expect.stringMatching(/created on EthereumSepolia/) });
    expect(recomputeSigningMessage({ intent: { kind: "Transfer", network: "EthereumSepolia", transfer, transaction }, userAction, key: { ...key, network: null } })).toMatchObject({ ok: false });
  });
  it("keygen: the user's create-wallet or create-key request must fit the scheme", () => {
    const wallet = (network: string) => ({ method: "POST", path: "/wallets", payload: JSON.stringify({ network }) });
    expect(checkKeygenRequest(wallet("EthereumSepolia"), "ecdsa-secp256k1")).toEqual({ ok: true, target: "wallet", network: "EthereumSepolia" });
    expect(checkKeygenRequest(wallet("EthereumSepolia"), "frost-ed25519").ok).toBe(false);
    expect(checkKeygenRequest(wallet("Solana"), "frost-ed25519").ok).toBe(true);
    expect(checkKeygenRequest({ method: "POST", path: "/keys", payload: JSON.stringify({ scheme: "EdDSA", curve: "ed25519" }) }, "frost-ed25519")).toEqual({ ok: true, target: "key" });
    expect(checkKeygenRequest({ method: "POST", path: "/keys", payload: JSON.stringify({ scheme: "ECDSA", curve: "secp256k1" }) }, "frost-ed25519").ok).toBe(false);
    expect(checkKeygenRequest({ method: "POST", path: "/wallets/wa-1/signatures", payload: "{}" }, "ecdsa-secp256k1").ok).toBe(false);
  });
});

describe("contract calls, nonce fills and replacements (what a lying edge cannot get signed)", () => {
  const sk = secp256k1.utils.randomSecretKey();
  const publicKey = bytesToHex(secp256k1.getPublicKey(sk, true));
  const self = evmAddressOfKey(publicKey);
  const key = { keyId: "key-1", scheme: "ecdsa-secp256k1" as const, walletId: "wa-1", network: "EthereumSepolia", publicKey };
  const counter = "0x2222222222222222222222222222222222222222";
  const data = "0xd09de08a";
  const ua = (path: string, body: unknown, challenge = "ch-original") => ({ method: "POST", path, payload: JSON.stringify(body), challenge });
  const check = (intent: unknown, userAction: { method: string; path: string; payload: string }) => recomputeSigningMessage({ intent: intent as never, userAction, key });

  it("EvmCall: exactly the user's call, with the user's gas where given", () => {
    const body = { kind: "Evm", to: counter, data, gasLimit: "60000" };
    const call = { kind: "Evm", to: counter, value: "0", data, gasLimit: "60000" };
    const good = tx({ to: counter, value: 0n, data, gas: 60_000n });
    expect(check({ kind: "EvmCall", network: "EthereumSepolia", call, transaction: good }, ua("/wallets/wa-1/transactions", body)).ok).toBe(true);
    for (const bad of [tx({ to: counter, value: 1n, data, gas: 60_000n }), tx({ to: counter, value: 0n, data: "0xdeadbeef", gas: 60_000n }), tx({ to: counter, value: 0n, data, gas: 90_000n }), tx({ to: counter, value: 0n, data, gas: 60_000n, chainId: 1 })]) {
      expect(check({ kind: "EvmCall", network: "EthereumSepolia", call, transaction: bad }, ua("/wallets/wa-1/transactions", body)).ok).toBe(false);
    }
    // The edge's call must be the user's: another target under the same user action is refused.
    expect(check({ kind: "EvmCall", network: "EthereumSepolia", call: { ...call, to: self }, transaction: tx({ to: self, value: 0n, data, gas: 60_000n }) }, ua("/wallets/wa-1/transactions", body)).ok).toBe(false);
  });

  it("NonceFill: only a 21000-gas zero-value transfer to the wallet itself", () => {
    const userAction = ua("/wallets/wa-1/transfers", { kind: "Native", to: counter, amount: "5" });
    expect(check({ kind: "NonceFill", network: "EthereumSepolia", transaction: tx({ to: self, value: 0n }) }, userAction).ok).toBe(true);
    expect(check({ kind: "NonceFill", network: "EthereumSepolia", transaction: tx({ to: counter, value: 0n }) }, userAction).ok).toBe(false);
    expect(check({ kind: "NonceFill", network: "EthereumSepolia", transaction: tx({ to: self, value: 1n }) }, userAction).ok).toBe(false);
    expect(check({ kind: "NonceFill", network: "EthereumSepolia", transaction: tx({ to: self, value: 0n, data, gas: 50_000n }) }, userAction).ok).toBe(false);
  });

  describe("Replacement", () => {
    const transferBody = { kind: "Native", to: counter, amount: "5" };
    const original = ua("/wallets/wa-1/transfers", transferBody);
    const requestId = requestIdOf("transfers", original.challenge);
    const first = tx({ to: counter, value: 5n, nonce: 7, maxFeePerGas: 100n, maxPriorityFeePerGas: 10n });
    const signWith = (secret: Uint8Array, t: Hex) => {
      const sig = secp256k1.sign(hexToBytes(keccak256(t).slice(2)), secret, { prehash: false, format: "compact" });
      return { r: `0x${bytesToHex(sig.slice(0, 32))}`, s: `0x${bytesToHex(sig.slice(32, 64))}`, yParity: 0 as const };
    };
    const replacement = (mode: "SpeedUp" | "Cancel", transaction: Hex, over: Record<string, unknown> = {}) => ({
      kind: "Replacement",
      network: "EthereumSepolia",
      mode,
      original: { userAction: original, intent: { kind: "Transfer", network: "EthereumSepolia", transfer: transferBody, transaction: first }, signature: signWith(sk, first) },
      transaction,
      ...over,
    });
    const speedUp = tx({ to: counter, value: 5n, nonce: 7, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n });
    const cancel = tx({ to: self, value: 0n, nonce: 7, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n });

    it("speed-up and cancel at the original's nonce are signed", () => {
      expect(check(replacement("SpeedUp", speedUp), ua(`/wallets/wa-1/transfers/${requestId}/speed-up`, {})).ok).toBe(true);
      expect(check(replacement("Cancel", cancel), ua(`/wallets/wa-1/transfers/${requestId}/cancel`, {})).ok).toBe(true);
    });

    it("refused: another nonce (a second payment), an original this key never signed, another request, another recipient, no fee bump", () => {
      const path = `/wallets/wa-1/transfers/${requestId}/speed-up`;
      // The guarded check: the replacement must sit at the original's nonce.
      expect(check(replacement("SpeedUp", tx({ to: counter, value: 5n, nonce: 8, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n })), ua(path, {}))).toMatchObject({ ok: false, reason: expect.stringMatching(/nonce/) });
      // An "original" at a fresh nonce that the key never signed: the edge cannot prove it.
      const forgedFirst = tx({ to: counter, value: 5n, nonce: 9, maxFeePerGas: 100n, maxPriorityFeePerGas: 10n });
      const forged = replacement("SpeedUp", tx({ to: counter, value: 5n, nonce: 9, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n }));
      (forged.original as { intent: { transaction: Hex } }).intent.transaction = forgedFirst;
      (forged.original as { signature: unknown }).signature = signWith(secp256k1.utils.randomSecretKey(), forgedFirst);
      expect(check(forged, ua(path, {}))).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed by this key/) });
      // The user's speed-up names another request than the one the original action created.
      expect(check(replacement("SpeedUp", speedUp), ua(`/wallets/wa-1/transfers/xfr-someotherrequest/speed-up`, {}))).toMatchObject({ ok: false, reason: expect.stringMatching(/did not create/) });
      expect(check(replacement("SpeedUp", tx({ to: self, value: 5n, nonce: 7, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n })), ua(path, {})).ok).toBe(false);
      expect(check(replacement("SpeedUp", tx({ to: counter, value: 5n, nonce: 7, maxFeePerGas: 105n, maxPriorityFeePerGas: 20n })), ua(path, {})).ok).toBe(false);
      // A cancel pays the wallet itself and nothing else; a speed-up action cannot carry a cancel.
      expect(check(replacement("Cancel", tx({ to: counter, value: 0n, nonce: 7, maxFeePerGas: 200n, maxPriorityFeePerGas: 20n })), ua(`/wallets/wa-1/transfers/${requestId}/cancel`, {})).ok).toBe(false);
      expect(check(replacement("Cancel", cancel), ua(path, {})).ok).toBe(false);
      // A replacement intent under a plain transfer action, and a transfer intent under a speed-up action.
      expect(check(replacement("SpeedUp", speedUp), original).ok).toBe(false);
      expect(check({ kind: "Transfer", network: "EthereumSepolia", transfer: transferBody, transaction: speedUp }, ua(path, {})).ok).toBe(false);
    });
  });
});
