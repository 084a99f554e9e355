// The MPC core in Node 22: DKLs23 ECDSA and FROST keygen, signing, derivation, refresh and
// hostile input, every signature checked with @noble/curves (an independent implementation).

import { beforeAll, describe, expect, it } from "vitest";
import { secp256k1, schnorr } from "@noble/curves/secp256k1.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { Ceremony, HEADER_BYTES, initMpc, KeyShare, MpcError, randomSessionId, runLocally, type MessageHeader, type Scheme } from "./index.js";

const enc = new TextEncoder();

function keygen(scheme: Scheme, n: number, t: number): KeyShare[] {
  const sessionId = randomSessionId();
  const parties = Array.from({ length: n }, (_, i) => i + 1);
  const cs = parties.map((me) => Ceremony.keygen({ scheme, sessionId, me, parties, threshold: t }));
  runLocally(cs);
  return cs.map((c) => c.keyShare());
}

type Tamper = (message: Uint8Array, header: MessageHeader) => Uint8Array | null;

function sign(shares: KeyShare[], signers: number[], message: Uint8Array, path?: string, tamper?: Tamper) {
  const sessionId = randomSessionId();
  const cs = signers.map((p) => Ceremony.sign({ share: shares[p - 1]!, sessionId, signers, message, ...(path ? { path } : {}) }));
  runLocally(cs, tamper ? { tamper } : {});
  const sigs = cs.map((c) => c.signature());
  // Every signer ends with the same signature.
  for (const s of sigs) expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
  return sigs[0]!;
}

function subsets(n: number, t: number): number[][] {
  const out: number[][] = [];
  const walk = (start: number, acc: number[]) => {
    if (acc.length === t) return void out.push(acc);
    for (let i = start; i <= n; i++) walk(i + 1, [...acc, i]);
  };
  walk(1, []);
  return out;
}

function expectEcdsa(sig: { signature: Uint8Array; recid?: number }, digest: Uint8Array, publicKey: Uint8Array) {
  expect(secp256k1.verify(sig.signature, digest, publicKey, { prehash: false })).toBe(true);
  const recovered = secp256k1.Signature.fromBytes(sig.signature, "compact").addRecoveryBit(sig.recid!).recoverPublicKey(digest);
  expect(Buffer.from(recovered.toBytes(true)).toString("hex")).toBe(Buffer.from(publicKey).toString("hex"));
}

/** BIP32 CKDpub, written here from the spec against noble, independent of the Rust code. */
function bip32Child(publicKey: Uint8Array, chainCode: Uint8Array, path: string): Uint8Array {
  let key = secp256k1.Point.fromBytes(publicKey);
  let cc = chainCode;
  for (const part of path.split("/").slice(1)) {
    const index = Number(part);
    const data = new Uint8Array(37);
    data.set(key.toBytes(true));
    new DataView(data.buffer).setUint32(33, index);
    const I = hmac(sha512, cc, data);
    const tweak = BigInt("0x" + Buffer.from(I.slice(0, 32)).toString("hex"));
    key = key.add(secp256k1.Point.BASE.multiply(tweak));
    cc = I.slice(32);
  }
  return key.toBytes(true);
}

beforeAll(async () => {
  await initMpc();
});

describe("threshold ECDSA (DKLs23)", () => {
  let k23: KeyShare[];
  let k35: KeyShare[];
  beforeAll(() => {
    k23 = keygen("ecdsa-secp256k1", 3, 2);
    k35 = keygen("ecdsa-secp256k1", 5, 3);
  }, 180_000);

  it("2-of-3: every pair signs; noble verifies and the recovery id recovers the group key", () => {
    const pk = k23[0]!.publicKey();
    expect(pk.length).toBe(33);
    for (const share of k23) expect(Buffer.from(share.publicKey()).equals(Buffer.from(pk))).toBe(true);
    for (const signers of subsets(3, 2)) {
      const digest = sha256(enc.encode(`2-of-3 ${signers.join(",")}`));
      expectEcdsa(sign(k23, signers, digest), digest, pk);
    }
  });

  /** One presigning ceremony of `count` presignatures; each party's, by presignature. */
  function presignBatch(signers: number[], count: number, onMessage?: (m: Uint8Array) => void): Map<number, Uint8Array>[] {
    const sessionId = randomSessionId();
    const presignatureIds = Array.from({ length: count }, () => randomSessionId());
    const cs = signers.map((p) => Ceremony.presign({ share: k23[p - 1]!, sessionId, signers, presignatureIds }));
    runLocally(cs, onMessage ? { onMessage } : {});
    const made = cs.map((c) => c.presignatures());
    return presignatureIds.map((_, i) => new Map(signers.map((p, j) => [p, made[j]![i]!])));
  }

  /** A signature from a presignature: one round, every signer ends with the same signature. */
  function onlineSign(signers: number[], pre: Map<number, Uint8Array>, message: Uint8Array, path?: string) {
    const sessionId = randomSessionId();
    const cs = signers.map((p) => Ceremony.signPresigned({ share: k23[p - 1]!, sessionId, signers, message, presignature: pre.get(p)!, ...(path ? { path } : {}) }));
    const started = cs.map((c) => c.start());
    for (const batch of started) for (const m of batch) cs.find((c) => c.me === m[35])!.receive(m);
    for (const c of cs) expect(c.done).toBe(true);
    const sigs = cs.map((c) => c.signature());
    for (const s of sigs) expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
    return sigs[0]!;
  }


  it("3-of-5: every one of the ten triples signs and verifies", () => {
    const pk = k35[0]!.publicKey();
    const all = subsets(5, 3);
    expect(all.length).toBe(10);
    for (const signers of all) {
      const digest = sha256(enc.encode(`3-of-5 ${signers.join(",")}`));
      expectEcdsa(sign(k35, signers, digest), digest, pk);
    }
  });

  it("signs with BIP32 non-hardened children, matching an independent CKDpub", () => {
    const pk = k23[0]!.publicKey();
    const cc = k23[0]!.chainCode();
    for (const path of ["m/0", "m/0/7", "m/44/60/0/0/3"]) {
      const expected = bip32Child(pk, cc, path);
      expect(Buffer.from(k23[1]!.derivePublicKey(path)).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
      const digest = sha256(enc.encode(path));
      expectEcdsa(sign(k23, [1, 3], digest, path), digest, expected);
    }
    expect(() => k23[0]!.derivePublicKey("m/0'")).toThrow(MpcError);
  });

  it("presignatures: presigned ahead of time, then one online round; noble verifies every signature, a child key signs from its master's presignature", () => {
    const pk = k23[0]!.publicKey();
    const presign = (signers: number[]) => presignBatch(signers, 1)[0]!;
    const online = onlineSign;
    for (const signers of subsets(3, 2)) {
      const digest = sha256(enc.encode(`presigned ${signers.join(",")}`));
      expectEcdsa(online(signers, presign(signers), digest), digest, pk);
    }
    const path = "m/0/7";
    const digest = sha256(enc.encode("presigned child"));
    expectEcdsa(online([1, 3], presign([1, 3]), digest, path), digest, bip32Child(pk, k23[0]!.chainCode(), path));

    // A presignature is bound to its signer set and its key.
    const pre = presign([1, 2]);
    expect(() => Ceremony.signPresigned({ share: k23[0]!, sessionId: randomSessionId(), signers: [1, 3], message: digest, presignature: pre.get(1)! })).toThrow(MpcError);
    const other = keygen("ecdsa-secp256k1", 3, 2);
    expect(() => Ceremony.signPresigned({ share: other[0]!, sessionId: randomSessionId(), signers: [1, 2], message: digest, presignature: pre.get(1)! })).toThrow(MpcError);
    // Parties using one presignature for different messages get no signature, only a typed error.
    const sessionId = randomSessionId();
    const a = Ceremony.signPresigned({ share: k23[0]!, sessionId, signers: [1, 2], message: sha256(enc.encode("one")), presignature: pre.get(1)! });
    const b = Ceremony.signPresigned({ share: k23[1]!, sessionId, signers: [1, 2], message: sha256(enc.encode("two")), presignature: pre.get(2)! });
    const [ma, mb] = [a.start(), b.start()];
    expect(() => b.receive(ma[0]!)).toThrow(MpcError);
    expect(() => a.receive(mb[0]!)).toThrow(MpcError);
  }, 120_000);

  it("a batch of presignatures from one ceremony: one message per round and recipient carries them all; each signs once, noble verifies every signature", () => {
    const pk = k23[0]!.publicKey();
    const sizes: number[] = [];
    const batch = presignBatch([2, 3], 4, (m) => sizes.push(m.length));
    // Two rounds, one message each way per round, whatever the batch size.
    expect(sizes).toHaveLength(4);
    expect(batch).toHaveLength(4);
    const rs = new Set<string>();
    batch.forEach((pre, i) => {
      const digest = sha256(enc.encode(`batch item ${i}`));
      const sig = onlineSign([2, 3], pre, digest);
      expectEcdsa(sig, digest, pk);
      rs.add(Buffer.from(sig.signature.subarray(0, 32)).toString("hex"));
    });
    // Four distinct presignatures: four distinct nonces.
    expect(rs.size).toBe(4);
    // Ids: 32 bytes each, distinct, none the session id.
    const sessionId = randomSessionId();
    const id = () => randomSessionId();
    const same = id();
    for (const presignatureIds of [[], [same, same], [sessionId], [new Uint8Array(31)]]) {
      expect(() => Ceremony.presign({ share: k23[0]!, sessionId, signers: [1, 2], presignatureIds })).toThrow(MpcError);
    }
    expect(() => Ceremony.presign({ share: k23[0]!, sessionId, signers: [1, 2], presignatureIds: Array.from({ length: 65 }, id) })).toThrow(MpcError);
  }, 120_000);

  it("a batch message with another item count, an overrunning or short item, or trailing bytes ends the batch naming its sender, and yields nothing", () => {
    const body = (m: Uint8Array) => m.subarray(HEADER_BYTES);
    const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
    // Round 1 of a 3-item batch from party 1 to party 2: broadcast bundle then direct bundle.
    const tampers: [string, (m: Uint8Array) => Uint8Array][] = [
      ["one item fewer (the last dropped, the count lowered)", (m) => {
        const b = body(m);
        const direct = 4 + u32(b, 0);
        let at = direct + 4;
        for (let i = 0; i < 2; i++) at += 4 + u32(b, at);
        const out = m.slice(0, HEADER_BYTES + at);
        new DataView(out.buffer).setUint32(HEADER_BYTES + direct, 2);
        return out;
      }],
      ["trailing bytes", (m) => Uint8Array.from([...m, 0])],
      ["a truncated item", (m) => m.slice(0, m.length - 1)],
      ["an overrunning item", (m) => {
        const out = m.slice();
        const b = body(out);
        const direct = 4 + u32(b, 0);
        const first = u32(b, direct + 4);
        new DataView(out.buffer).setUint32(HEADER_BYTES + direct + 4, first + 1_000_000);
        return out;
      }],
    ];
    for (const [what, change] of tampers) {
      const sessionId = randomSessionId();
      const presignatureIds = [randomSessionId(), randomSessionId(), randomSessionId()];
      const cs = [1, 2].map((p) => Ceremony.presign({ share: k23[p - 1]!, sessionId, signers: [1, 2], presignatureIds }));
      let err: unknown;
      try {
        runLocally(cs, { tamper: (m, h) => (h.round === 1 && h.from === 1 ? change(m) : m) });
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(MpcError);
      expect((err as MpcError).code, what).toBe("malformed");
      expect((err as MpcError).culprit, what).toBe(1);
      expect((err as MpcError).message, what).toMatch(/batch from party 1/);
      expect(cs[1]!.done).toBe(false);
      expect(() => cs[1]!.presignatures()).toThrow(MpcError);
    }
  }, 120_000);

  it("shares survive export/import and still sign", () => {
    const again = k23.map((s) => KeyShare.import(s.export()));
    const digest = sha256(enc.encode("round trip"));
    expectEcdsa(sign(again, [2, 3], digest), digest, k23[0]!.publicKey());
  });

  it("refresh keeps the public key, changes every share, and old and new shares do not mix", () => {
    const sessionId = randomSessionId();
    const cs = k23.map((share) => Ceremony.refresh({ share, sessionId, parties: [1, 2, 3] }));
    runLocally(cs);
    const fresh = cs.map((c) => c.keyShare());
    const pk = k23[0]!.publicKey();
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(fresh[i]!.publicKey()).equals(Buffer.from(pk))).toBe(true);
      expect(Buffer.from(fresh[i]!.export()).equals(Buffer.from(k23[i]!.export()))).toBe(false);
    }
    const digest = sha256(enc.encode("after refresh"));
    expectEcdsa(sign(fresh, [1, 2], digest), digest, pk);
    // An old share beside a new one: the ceremony fails with a typed error, never a signature.
    const mixed = [k23[0]!, fresh[1]!, fresh[2]!];
    let outcome: unknown;
    try {
      sign(mixed, [1, 2], digest);
      outcome = "signed";
    } catch (e) {
      outcome = e;
    }
    expect(outcome).toBeInstanceOf(MpcError);
    expect(["protocol-abort", "ban"]).toContain((outcome as MpcError).code);
  });

  describe("hostile or broken messages", () => {
    const digest = sha256(enc.encode("hostile"));

    function failure(f: () => unknown): MpcError {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MpcError);
        return e as MpcError;
      }
      throw new Error("expected a failure");
    }

    it("refuses truncated, wrong-session, misrouted and replayed messages without breaking the session", () => {
      const sessionId = randomSessionId();
      const [a, b] = [1, 2].map((p) => Ceremony.sign({ share: k23[p - 1]!, sessionId, signers: [1, 2], message: digest }));
      const fromA = a!.start();
      const fromB = b!.start();
      const m = fromA[0]!;
      expect(failure(() => b!.receive(m.slice(0, HEADER_BYTES - 1))).code).toBe("malformed");
      const other = m.slice();
      other[5]! ^= 1; // a byte of the session id
      expect(failure(() => b!.receive(other)).code).toBe("wrong-session");
      const misrouted = m.slice();
      misrouted[HEADER_BYTES - 1] = 3;
      expect(failure(() => b!.receive(misrouted)).code).toBe("misrouted");
      const stranger = m.slice();
      stranger[HEADER_BYTES - 2] = 3;
      expect(failure(() => b!.receive(stranger)).code).toBe("unknown-sender");
      // The genuine message still works after all those refusals; a second copy is a replay.
      const next = b!.receive(m);
      expect(failure(() => b!.receive(m)).code).toBe("replay");
      // Finish the run by hand; the signature is valid.
      const queue = [...fromB, ...next];
      const byParty = new Map([[1, a!], [2, b!]]);
      while (queue.length) {
        const msg = queue.shift()!;
        queue.push(...byParty.get(msg[HEADER_BYTES - 1]!)!.receive(msg));
      }
      expectEcdsa(a!.signature(), digest, k23[0]!.publicKey());
      // A message from an earlier round after the session finished is refused, typed.
      expect(failure(() => b!.receive(m)).code).toBe("finished");
    });

    it("buffers messages that arrive a round early and still signs correctly", () => {
      const sessionId = randomSessionId();
      const cs = [1, 3].map((p) => Ceremony.sign({ share: k23[p - 1]!, sessionId, signers: [1, 3], message: digest }));
      const byParty = new Map(cs.map((c) => [c.me, c]));
      // Deliver in reverse order of production (latest rounds first whenever possible).
      const pending: Uint8Array[] = [...cs[0]!.start(), ...cs[1]!.start()];
      while (pending.length) {
        const msg = pending.pop()!;
        pending.unshift(...byParty.get(msg[HEADER_BYTES - 1]!)!.receive(msg));
      }
      expectEcdsa(cs[0]!.signature(), digest, k23[0]!.publicKey());
    });

    it("a bit flipped anywhere in a body gives a typed error naming the sender, or still a correct signature", () => {
      const pk = k23[0]!.publicKey();
      let typed = 0;
      for (let trial = 0; trial < 24; trial++) {
        const targetRound = 1 + (trial % 3);
        let flipped = false;
        try {
          const sig = sign(k23, [1, 2], digest, undefined, (msg: Uint8Array, h: MessageHeader) => {
            if (flipped || h.round !== targetRound || h.from !== 2) return msg;
            flipped = true;
            const copy = msg.slice();
            const at = HEADER_BYTES + Math.floor(Math.random() * (copy.length - HEADER_BYTES));
            copy[at]! ^= 1 << Math.floor(Math.random() * 8);
            return copy;
          });
          // If the flip changed nothing that matters, the signature must still be right.
          expectEcdsa(sig, digest, pk);
        } catch (e) {
          expect(e).toBeInstanceOf(MpcError);
          const err = e as MpcError;
          expect(["malformed", "protocol-abort", "ban"]).toContain(err.code);
          if (err.culprit !== null) expect(err.culprit).toBe(2);
          typed++;
        }
      }
      expect(typed).toBeGreaterThan(12);
    });

    it("garbage bodies are malformed and blame their sender", () => {
      const err = failure(() =>
        sign(k23, [2, 3], digest, undefined, (msg: Uint8Array, h: MessageHeader) => {
          if (h.from !== 3 || h.round !== 1) return msg;
          const bad = msg.slice(0, HEADER_BYTES + 10);
          bad.fill(0xff, HEADER_BYTES);
          return bad;
        }),
      );
      expect(err.code).toBe("malformed");
      expect(err.culprit).toBe(3);
    });

    it("refuses bad parameters and foreign share bytes with bad-input", () => {
      const sid = randomSessionId();
      expect(failure(() => Ceremony.keygen({ scheme: "ecdsa-secp256k1", sessionId: sid, me: 1, parties: [1, 2, 3], threshold: 1 })).code).toBe("bad-input");
      expect(failure(() => Ceremony.keygen({ scheme: "ecdsa-secp256k1", sessionId: sid.slice(0, 5), me: 1, parties: [1, 2], threshold: 2 })).code).toBe("bad-input");
      expect(failure(() => Ceremony.keygen({ scheme: "nope" as Scheme, sessionId: sid, me: 1, parties: [1, 2], threshold: 2 })).code).toBe("bad-input");
      expect(failure(() => Ceremony.sign({ share: k23[0]!, sessionId: sid, signers: [1, 2], message: new Uint8Array(31) })).code).toBe("bad-input");
      expect(failure(() => Ceremony.sign({ share: k23[0]!, sessionId: sid, signers: [1, 2, 3], message: digest })).code).toBe("bad-input");
      expect(failure(() => Ceremony.sign({ share: k23[0]!, sessionId: sid, signers: [2, 3], message: digest })).code).toBe("bad-input");
      expect(failure(() => KeyShare.import(new Uint8Array([1, 2, 3, 4, 5, 6]))).code).toBe("bad-input");
      const bytes = k23[0]!.export();
      expect(failure(() => KeyShare.import(bytes.slice(0, bytes.length - 7))).code).toBe("bad-input");
    });
  });
});

describe("threshold Schnorr (FROST)", () => {
  for (const [scheme, verify] of [
    ["frost-ed25519", (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => ed25519.verify(sig, msg, pk)],
    ["frost-bip340", (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => schnorr.verify(sig, msg, pk)],
  ] as const) {
    it(`${scheme}: 2-of-3 and 3-of-5 DKG, every subset signs, refresh keeps the key`, () => {
      for (const [n, t] of [[3, 2], [5, 3]] as const) {
        const shares = keygen(scheme, n, t);
        const pk = shares[0]!.publicKey();
        expect(pk.length).toBe(32);
        for (const signers of subsets(n, t)) {
          const message = enc.encode(`${scheme} ${n} ${signers.join(",")}`);
          const { signature } = sign(shares, signers, message);
          expect(signature.length).toBe(64);
          expect(verify(signature, message, pk)).toBe(true);
        }
        const sessionId = randomSessionId();
        const cs = shares.map((share) => Ceremony.refresh({ share, sessionId, parties: shares.map((s) => s.partyIndex) }));
        runLocally(cs);
        const fresh = cs.map((c) => c.keyShare());
        expect(Buffer.from(fresh[0]!.publicKey()).equals(Buffer.from(pk))).toBe(true);
        const message = enc.encode("after refresh");
        const signers = subsets(n, t)[0]!;
        expect(verify(sign(fresh, signers, message).signature, message, pk)).toBe(true);
        // Old and new shares together cannot produce a signature.
        const mixed = shares.map((s, i) => (i === 0 ? s : fresh[i]!));
        expect(() => sign(mixed, signers, message)).toThrow(MpcError);
      }
    });
  }

  it("a tampered signature share is caught and its sender named", () => {
    const shares = keygen("frost-ed25519", 3, 2);
    let err: unknown;
    try {
      sign(shares, [1, 3], enc.encode("tamper"), undefined, (msg: Uint8Array, h: MessageHeader) => {
        if (h.round !== 2 || h.from !== 3) return msg;
        const copy = msg.slice();
        copy[HEADER_BYTES + 10]! ^= 0x40;
        return copy;
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MpcError);
    expect((err as MpcError).culprit).toBe(3);
  });
});
