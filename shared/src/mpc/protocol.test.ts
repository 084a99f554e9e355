// decodeSessionResponse checks the frames every signature brings by hand instead of with zod: it
// must give exactly the schema's answer (accept the same frames, with the same value; refuse the
// same ones) — for well-formed frames of every common kind and for each way one can be altered.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeJsonFrame, decodeSessionResponse, sessionResponseFrame } from "./protocol.js";

const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"));
const session = hexOf(32);
const common = fc.oneof(
  fc.record({ type: fc.constant("accepted"), sessionId: session }),
  fc.record({ type: fc.constant("partial"), sessionId: session, partial: hexOf(96) }),
  fc.record({
    type: fc.constant("result"),
    sessionId: session,
    result: fc.oneof(
      fc.record({ kind: fc.constant("sign"), keyId: fc.string(), signature: hexOf(64), publicKey: hexOf(33), recid: fc.constantFrom(0, 1) }, { requiredKeys: ["kind", "keyId", "signature", "publicKey"] }),
      fc.record({ kind: fc.constant("presign"), keyId: fc.string(), presignatureIds: fc.array(session, { minLength: 1, maxLength: 8 }), publicKey: hexOf(33) }),
    ),
  }),
);
const frame = fc.record({ id: fc.integer({ min: 1, max: 2 ** 31 }), response: common });

/** One change somewhere in the frame: a member removed, added, or replaced by an odd value. */
const odd = fc.oneof(fc.constant(null), fc.constant(0), fc.constant(-1), fc.constant(1.5), fc.constant(2), fc.string(), hexOf(31), hexOf(96), fc.constant([]), fc.constant({}), fc.constant("AB".repeat(32)));
function mutate(value: unknown, path: number[], how: number, replacement: unknown): unknown {
  if (typeof value !== "object" || value === null) return replacement;
  const o = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(o);
  const k = keys[path[0]! % keys.length]!;
  if (path.length > 1 && typeof o[k] === "object" && o[k] !== null) o[k] = mutate(o[k], path.slice(1), how, replacement);
  else if (how === 0) delete o[k];
  else if (how === 1) o[`extra${path[0]}`] = replacement;
  else o[k] = replacement;
  return o;
}

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const same = (v: unknown) => {
  const fast = decodeSessionResponse(encode(v));
  const schema = decodeJsonFrame(encode(v), sessionResponseFrame);
  expect(fast.ok).toBe(schema.ok);
  if (fast.ok && schema.ok) expect(fast.value).toEqual(schema.value);
  return fast.ok;
};

describe("decodeSessionResponse", () => {
  it("accepts every well-formed accepted, partial, sign and presign answer as the schema does", () => {
    fc.assert(
      fc.property(frame, (f) => {
        expect(same(f)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses or accepts each altered frame exactly as the schema does", () => {
    fc.assert(
      fc.property(frame, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), odd, (f, path, how, replacement) => {
        same(mutate(f, path, how, replacement));
      }),
      { numRuns: 2000 },
    );
  });

  it("leaves failures, attestations and garbage to the schema", () => {
    const sessionId = "ab".repeat(32);
    expect(same({ id: 3, response: { type: "failure", sessionId: null, error: { code: "busy", message: "later", culprits: [], waitingFor: [] } } })).toBe(true);
    expect(same({ id: 3, response: { type: "result", sessionId, result: { kind: "keygen", keyId: "k", publicKey: "02" }, attestation: { peerId: "x", signature: "00" } } })).toBe(false);
    expect(same({ id: 0, response: { type: "accepted", sessionId } })).toBe(false);
    expect(same({ id: 2 ** 53, response: { type: "accepted", sessionId } })).toBe(false);
    expect(same([])).toBe(false);
    expect(decodeSessionResponse(new Uint8Array([0xff, 0xfe]))).toEqual({ ok: false, reason: "frame is not UTF-8 JSON" });
  });
});
