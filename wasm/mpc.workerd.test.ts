// The same wasm/pkg inside workerd (the Workers runtime): a 2-of-3 DKLs23 keygen and a
// signature, verified with @noble/curves. workerd only runs precompiled modules, so the
// bundler hands us a WebAssembly.Module.
import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import wasmModule from "./pkg/tessera_mpc_bg.wasm";
import { Ceremony, initMpcSync, mpcVersion, randomSessionId, runLocally } from "./index.js";

describe("MPC core in workerd", () => {
  it("runs a 2-of-3 ECDSA keygen and signs; noble verifies", () => {
    initMpcSync(wasmModule);
    expect(mpcVersion()).toMatch(/^tessera-mpc /);
    const sessionId = randomSessionId();
    const keygen = [1, 2, 3].map((me) => Ceremony.keygen({ scheme: "ecdsa-secp256k1", sessionId, me, parties: [1, 2, 3], threshold: 2 }));
    runLocally(keygen);
    const shares = keygen.map((c) => c.keyShare());
    const digest = sha256(new TextEncoder().encode("signed inside workerd"));
    const signId = randomSessionId();
    const signing = [shares[0]!, shares[2]!].map((share) => Ceremony.sign({ share, sessionId: signId, signers: [1, 3], message: digest }));
    runLocally(signing);
    const { signature, recid } = signing[0]!.signature();
    expect(secp256k1.verify(signature, digest, shares[0]!.publicKey(), { prehash: false })).toBe(true);
    expect([0, 1]).toContain(recid);
  }, 120_000);
});
