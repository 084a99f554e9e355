// The ceremony authorization on its own: deterministic encoding (a fixed known answer), the edge
// signature, and every reason verifyAuthorization gives for refusing — with the node's state
// (keys, bans, replay cache) supplied as plain data.
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { encodeBase64Url, utf8 } from "../dfns/base64url.js";
import { encodeChallenge, userActionChallenge } from "../dfns/user-action.js";
import { walletIdOfKeyBinding } from "./intent.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import {
  authorizationBytes,
  credentialKeyId,
  signAuthorization,
  verifyAuthorization,
  type Authorization,
  type AuthorizationContext,
  type KeyRecordView,
  type SignedAuthorization,
} from "./authorization.js";

const PEERS = ["12D3KooWAeHaPCnhjjLzfoxyngGHbREYxKKA2VJZMLzqnspGsVeC", "12D3KooWEfaiJpcT976MjjRgVRG2K8FVDoa9Y7CZwx4LnHnfrxg6", "12D3KooWAECNLP3TqP7LEki5oxsYbnFn6ZbnM7Lw4EFjWe1cqVPc"];
const edgeKey = new Uint8Array(32).fill(7);
const edgePub = ed25519.getPublicKey(edgeKey);
const user = generateKeyPairSync("ed25519");
const userPem = user.publicKey.export({ type: "spki", format: "pem" }).toString();
const now = 1_800_000_000_000;

function evidence(method: string, path: string, body: unknown, orgId = "or-1", key = user.privateKey, pem = userPem, issuedAt = Math.floor(now / 1000), challengeOf?: (c: string) => string): UserActionEvidence {
  const payload = JSON.stringify(body);
  const expiry = issuedAt + 300;
  const challenge = (challengeOf ?? ((c) => c))(userActionChallenge({ method, path, payload, orgId, subject: "us-1", nonce: "n-1", issuedAt, expiry }));
  const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
  return {
    actionId: "ua-1",
    orgId,
    subject: "us-1",
    tokenId: "to-1",
    method,
    path,
    payload,
    nonce: "n-1",
    expiry,
    challenge,
    challengeIdentifier: "ch-1",
    credential: { credId: "cr-1", credentialUuid: "cu-1", kind: "Key", publicKey: pem },
    assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(new Uint8Array(nodeSign(null, clientData, key))), authenticatorData: null, userHandle: null },
    signedAt: "2027-01-15T08:00:00.000Z",
  };
}

const hash = "ab".repeat(32);
const key: KeyRecordView = {
  keyId: "key-1",
  scheme: "ecdsa-secp256k1",
  threshold: 2,
  parties: PEERS.map((peerId, i) => ({ index: i + 1, peerId })),
  orgId: "or-1",
  walletId: "wa-1",
  network: "EthereumSepolia",
  derivationPath: null,
  credentials: [credentialKeyId(userPem)!],
};

function signAuth(over: Partial<Authorization> = {}): Authorization {
  return {
    version: 1,
    kind: "sign",
    edgeId: "edge-1",
    sessionId: "11".repeat(32),
    keyId: "key-1",
    scheme: "ecdsa-secp256k1",
    parties: key.parties.slice(0, 2),
    nonce: "22".repeat(16),
    issuedAt: now,
    expiresAt: now + 60_000,
    message: hash,
    intent: { kind: "Hash", hash: `0x${hash}` },
    userAction: evidence("POST", "/wallets/wa-1/signatures", { kind: "Hash", hash: `0x${hash}` }),
    ...over,
  } as Authorization;
}

function context(over: Partial<AuthorizationContext> = {}): AuthorizationContext & { spent: Set<string> } {
  const spent = new Set<string>();
  const bound = new Map<string, string>();
  return {
    edgeKeys: new Map([["edge-1", edgePub]]),
    self: PEERS[0]!,
    expectedKind: "sign",
    now,
    key: (id) => (id === key.keyId ? key : undefined),
    isBanned: () => false,
    claim: (c) => {
      if (spent.has(c.nonce)) return { ok: false, reason: "nonce seen" };
      if (c.userAction && bound.has(c.userAction.challenge) && bound.get(c.userAction.challenge) !== c.userAction.binding) return { ok: false, reason: "user action used" };
      spent.add(c.nonce);
      if (c.userAction) bound.set(c.userAction.challenge, c.userAction.binding);
      return { ok: true };
    },
    spent,
    ...over,
  };
}

async function code(signed: SignedAuthorization | unknown, ctx = context()) {
  const r = await verifyAuthorization(signed, ctx);
  return r.ok ? "ok" : r.code;
}

describe("encoding and signature", () => {
  it("is deterministic: key order and whitespace in the sender's JSON do not matter", () => {
    const a = signAuth();
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a).reverse()))) as Authorization;
    expect(bytesToHex(authorizationBytes(shuffled))).toBe(bytesToHex(authorizationBytes(a)));
    const text = new TextDecoder().decode(authorizationBytes(a));
    expect(text.startsWith('tessera.mpc.authorization.v1\n{"edgeId":"edge-1","expiresAt":1800000060000,"intent":{"hash":"0x')).toBe(true);
  });
  it("a valid authorization passes once, and its user-derived message is returned", async () => {
    const ctx = context();
    const r = await verifyAuthorization(signAuthorization(signAuth(), edgeKey), ctx);
    expect(r.ok && r.message && bytesToHex(r.message)).toBe(hash);
    expect(await code(signAuthorization(signAuth(), edgeKey), ctx)).toBe("replayed");
  });
});

describe("refusals", () => {
  it("forged, unknown edge, malformed", async () => {
    expect(await code(signAuthorization(signAuth(), new Uint8Array(32).fill(8)))).toBe("forged");
    const s = signAuthorization(signAuth(), edgeKey);
    expect(await code({ ...s, authorization: { ...s.authorization, keyId: "key-2" } })).toBe("forged");
    expect(await code(signAuthorization(signAuth({ edgeId: "edge-2" }), edgeKey))).toBe("unknown-edge");
    expect(await code({ ...s, authorization: { ...s.authorization, extra: 1 } })).toBe("malformed");
    expect(await code({ authorization: s.authorization })).toBe("malformed");
    expect(await code("nonsense")).toBe("malformed");
  });
  it("expired, not yet valid, or valid for too long", async () => {
    expect(await code(signAuthorization(signAuth({ issuedAt: now - 120_000, expiresAt: now - 1 }), edgeKey))).toBe("expired");
    expect(await code(signAuthorization(signAuth({ issuedAt: now + 60_000, expiresAt: now + 90_000 }), edgeKey))).toBe("expired");
    expect(await code(signAuthorization(signAuth({ expiresAt: now + 3_600_000 }), edgeKey))).toBe("expired");
  });
  it("mismatched with what the node holds", async () => {
    expect(await code(signAuthorization(signAuth(), edgeKey), context({ expectedKind: "keygen" }))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ parties: key.parties.slice(1) }), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ keyId: "key-9" }), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ scheme: "frost-ed25519" }), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ parties: key.parties }), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ parties: [{ index: 1, peerId: PEERS[0]! }, { index: 2, peerId: PEERS[2]! }] }), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth({ derivationPath: "m/0" } as Partial<Authorization>), edgeKey))).toBe("mismatch");
    expect(await code(signAuthorization(signAuth(), edgeKey), context({ isBanned: (_k, p) => p === PEERS[1] }))).toBe("banned");
  });
  it("without the key owner's own request for exactly these bytes", async () => {
    const other = generateKeyPairSync("ed25519");
    const otherPem = other.publicKey.export({ type: "spki", format: "pem" }).toString();
    const body = { kind: "Hash", hash: `0x${hash}` };
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-1/signatures", body, "or-1", other.privateKey, otherPem) }), edgeKey))).toBe("user-evidence");
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-1/signatures", body, "or-2") }), edgeKey))).toBe("user-evidence");
    const ua = evidence("POST", "/wallets/wa-1/signatures", body);
    expect(await code(signAuthorization(signAuth({ userAction: { ...ua, payload: JSON.stringify({ kind: "Hash", hash: `0x${"ac".repeat(32)}` }) } }), edgeKey))).toBe("user-evidence");
    expect(await code(signAuthorization(signAuth({ message: "ac".repeat(32) }), edgeKey))).toBe("intent");
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-2/signatures", body) }), edgeKey))).toBe("intent");
    // One user action, one message: the same action for other bytes is refused even with a fresh nonce.
    const ctx = context();
    const sneaky = evidence("POST", "/wallets/wa-1/transfers", { kind: "Native", to: "0x1111111111111111111111111111111111111111", amount: "1" });
    expect(await code(signAuthorization(signAuth({ userAction: sneaky }), edgeKey), ctx)).toBe("intent");
  });
  it("a login assertion, or a user action older than the cap", async () => {
    const body = { kind: "Hash", hash: `0x${hash}` };
    const t = Math.floor(now / 1000);
    // The user's key signed a Login statement (as it does when logging in); the edge dresses it as this request.
    const login = evidence("POST", "/wallets/wa-1/signatures", body, "or-1", user.privateKey, userPem, t, () => encodeChallenge({ kind: "Login", orgId: "or-1", nonce: "n-1", issuedAt: t, expiry: t + 300 }));
    const refusedLogin = await verifyAuthorization(signAuthorization(signAuth({ userAction: login }), edgeKey), context());
    expect(refusedLogin).toMatchObject({ ok: false, code: "user-evidence", reason: expect.stringMatching(/Login challenge is not a user action/) });
    // A genuine action for exactly these bytes, issued 5 min 1 s ago; at 4 min 59 s it still passes.
    const old = evidence("POST", "/wallets/wa-1/signatures", body, "or-1", user.privateKey, userPem, t - 301);
    const refusedOld = await verifyAuthorization(signAuthorization(signAuth({ userAction: old }), edgeKey), context());
    expect(refusedOld).toMatchObject({ ok: false, code: "user-evidence", reason: expect.stringMatching(/older than the 300 s allowed/) });
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-1/signatures", body, "or-1", user.privateKey, userPem, t - 299) }), edgeKey))).toBe("ok");
    // Issued in the future (beyond the clock skew).
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-1/signatures", body, "or-1", user.privateKey, userPem, t + 120) }), edgeKey))).toBe("user-evidence");
  });
});

describe("a wallet put on an existing key (walletBinding)", () => {
  const body = { kind: "Hash", hash: `0x${hash}` };
  const binding = evidence("POST", "/wallets", { network: "BscTestnet", signingKey: { id: "key-1" } });
  const bound = walletIdOfKeyBinding(binding.challenge);

  it("signs for the wallet whose id derives from the user's own creation request", async () => {
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", `/wallets/${bound}/signatures`, body), walletBinding: binding } as Partial<Authorization>), edgeKey))).toBe("ok");
  });

  it("refuses a wallet id the edge made up, a binding to another key, by another credential, or that creates nothing", async () => {
    // The guarded check: the wallet in the user's path must be the one derived from the binding.
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", "/wallets/wa-made-up/signatures", body), walletBinding: binding } as Partial<Authorization>), edgeKey))).toBe("intent");
    const otherKey = evidence("POST", "/wallets", { network: "BscTestnet", signingKey: { id: "key-2" } });
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", `/wallets/${walletIdOfKeyBinding(otherKey.challenge)}/signatures`, body), walletBinding: otherKey } as Partial<Authorization>), edgeKey))).toBe("intent");
    const other = generateKeyPairSync("ed25519");
    const stranger = evidence("POST", "/wallets", { network: "BscTestnet", signingKey: { id: "key-1" } }, "or-1", other.privateKey, other.publicKey.export({ type: "spki", format: "pem" }).toString());
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", `/wallets/${walletIdOfKeyBinding(stranger.challenge)}/signatures`, body), walletBinding: stranger } as Partial<Authorization>), edgeKey))).toBe("user-evidence");
    const notCreation = evidence("POST", "/wallets/wa-1/signatures", { network: "BscTestnet", signingKey: { id: "key-1" } });
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", `/wallets/${walletIdOfKeyBinding(notCreation.challenge)}/signatures`, body), walletBinding: notCreation } as Partial<Authorization>), edgeKey))).toBe("intent");
    const forged = { ...binding, payload: JSON.stringify({ network: "Bsc", signingKey: { id: "key-1" } }) };
    expect(await code(signAuthorization(signAuth({ userAction: evidence("POST", `/wallets/${bound}/signatures`, body), walletBinding: forged } as Partial<Authorization>), edgeKey))).toBe("user-evidence");
  });
});
