// The ceremony authorization on its own: deterministic encoding (a fixed known answer), the edge
// signature, and every reason verifyAuthorization gives for refusing — with the node's state
// (keys, bans, replay cache) supplied as plain data.
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { encodeBase64Url, utf8 } from "../dfns/base64url.js";
import { encodeChallenge, userActionChallenge } from "../dfns/user-action.js";
import { autoDerivationPath, walletIdOfKeyBinding } from "./intent.js";
import { governedSessionId } from "./authorization.js";
import type { GovernanceState } from "../governance/log.js";
import type { UserActionEvidence } from "../dfns/wire.js";
import {
  authorizationBytes,
  credentialKeyId,
  ed25519SigningKey,
  signAuthorization,
  signAuthorizationNative,
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

function evidence(method: string, path: string, body: unknown, orgId = "or-1", key = user.privateKey, pem = userPem, issuedAt = Math.floor(now / 1000), challengeOf?: (c: string) => string, subject = "us-1"): UserActionEvidence {
  const payload = JSON.stringify(body);
  const expiry = issuedAt + 300;
  const challenge = (challengeOf ?? ((c) => c))(userActionChallenge({ method, path, payload, orgId, subject, nonce: "n-1", issuedAt, expiry }));
  const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
  return {
    actionId: "ua-1",
    orgId,
    subject,
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
  it("signed with the runtime's Ed25519 (as the edge does): the same bytes as noble's, for many keys", async () => {
    for (let i = 0; i < 16; i++) {
      const secret = crypto.getRandomValues(new Uint8Array(32));
      const a = signAuth({ nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(16))) });
      const native = await signAuthorizationNative(a, await ed25519SigningKey(secret));
      expect(native).toEqual(signAuthorization(a, secret));
    }
    const r = await verifyAuthorization(await signAuthorizationNative(signAuth(), await ed25519SigningKey(edgeKey)), context());
    expect(r.ok).toBe(true);
    await expect(signAuthorizationNative({ ...signAuth(), expiresAt: now - 1 }, await ed25519SigningKey(edgeKey))).rejects.toThrow(/invalid authorization/);
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

describe("a wallet derived from a master key (deriveFrom)", () => {
  const body = (from: Record<string, unknown>, network = "EthereumSepolia") => ({ network, signingKey: { deriveFrom: from } });
  const create = (b: unknown, o: { orgId?: string; key?: typeof user.privateKey; pem?: string; subject?: string } = {}) =>
    evidence("POST", "/wallets", b, o.orgId ?? "or-1", o.key ?? user.privateKey, o.pem ?? userPem, Math.floor(now / 1000), undefined, o.subject ?? "us-1");
  function deriveAuth(over: Partial<Authorization> & { deriveFrom?: { keyId: string; path: string } } = {}): Authorization {
    return {
      version: 1,
      kind: "keygen",
      edgeId: "edge-1",
      sessionId: "33".repeat(32),
      keyId: "key-2",
      scheme: "ecdsa-secp256k1",
      parties: key.parties,
      nonce: "44".repeat(16),
      issuedAt: now,
      expiresAt: now + 60_000,
      threshold: 2,
      walletId: "wa-2",
      deriveFrom: { keyId: "key-1", path: "m/0/7" },
      userAction: create(body({ keyId: "key-1", path: "m/0/7" })),
      ...over,
    } as Authorization;
  }
  const keygenContext = (over: Partial<AuthorizationContext> = {}) => context({ expectedKind: "keygen", ...over });
  const derived: KeyRecordView = { ...key, keyId: "key-3", walletId: "wa-3", derivationPath: "m/1", masterKeyId: "key-1" };
  const withKeys = (...ks: KeyRecordView[]) => (id: string) => ks.find((k) => k.keyId === id);

  it("is authorized by the master key's own credential; the node records {master, path} and the user's network", async () => {
    const r = await verifyAuthorization(signAuthorization(deriveAuth(), edgeKey), keygenContext());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.binding).toEqual({ orgId: "or-1", walletId: "wa-2", network: "EthereumSepolia", derivationPath: "m/0/7", credentials: key.credentials, owner: null, masterKeyId: "key-1" });
  });
  it("a path left out is the one derived from the user's challenge, not one the edge picks", async () => {
    const ua = create(body({ keyId: "key-1" }));
    const auto = autoDerivationPath(ua.challenge);
    expect(auto).toMatch(/^m\/\d+\/\d+$/);
    expect(await code(signAuthorization(deriveAuth({ userAction: ua, deriveFrom: { keyId: "key-1", path: auto } }), edgeKey), keygenContext())).toBe("ok");
    expect(await code(signAuthorization(deriveAuth({ userAction: ua, deriveFrom: { keyId: "key-1", path: "m/0/7" } }), edgeKey), keygenContext())).toBe("intent");
  });
  it("refuses a path, a master key or a network other than the user's, and hardened paths", async () => {
    expect(await code(signAuthorization(deriveAuth({ deriveFrom: { keyId: "key-1", path: "m/0/8" } }), edgeKey), keygenContext())).toBe("intent");
    expect(await code(signAuthorization(deriveAuth({ userAction: create(body({ keyId: "key-9", path: "m/0/7" })) }), edgeKey), keygenContext())).toBe("intent");
    expect(await code(signAuthorization(deriveAuth({ userAction: create(body({ keyId: "key-1", path: "m/0/7" }, "SolanaDevnet")) }), edgeKey), keygenContext())).toBe("intent");
    const hardened = "m/2147483648";
    expect(await code(signAuthorization(deriveAuth({ deriveFrom: { keyId: "key-1", path: hardened }, userAction: create(body({ keyId: "key-1", path: hardened })) }), edgeKey), keygenContext())).toBe("intent");
  });
  it("refuses a credential not bound to the master key, and a user of another org", async () => {
    const stranger = generateKeyPairSync("ed25519");
    const strangerPem = stranger.publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(await code(signAuthorization(deriveAuth({ userAction: create(body({ keyId: "key-1", path: "m/0/7" }), { key: stranger.privateKey, pem: strangerPem }) }), edgeKey), keygenContext())).toBe("user-evidence");
    expect(await code(signAuthorization(deriveAuth({ userAction: create(body({ keyId: "key-1", path: "m/0/7" }), { orgId: "or-2" }) }), edgeKey), keygenContext())).toBe("user-evidence");
  });
  it("refuses a master this node does not hold, a derived master, other parties, EdDSA, and a refresh of a derived key", async () => {
    expect(await code(signAuthorization(deriveAuth({ deriveFrom: { keyId: "key-9", path: "m/0/7" }, userAction: create(body({ keyId: "key-9", path: "m/0/7" })) }), edgeKey), keygenContext())).toBe("mismatch");
    const fromDerived = deriveAuth({ deriveFrom: { keyId: "key-3", path: "m/0/7" }, userAction: create(body({ keyId: "key-3", path: "m/0/7" })) });
    expect(await code(signAuthorization(fromDerived, edgeKey), keygenContext({ key: withKeys(key, derived) }))).toBe("mismatch");
    expect(await code(signAuthorization(deriveAuth({ parties: [key.parties[0]!, key.parties[1]!, { index: 3, peerId: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo" }] }), edgeKey), keygenContext())).toBe("mismatch");
    expect(await code(signAuthorization(deriveAuth({ scheme: "frost-ed25519" }), edgeKey), keygenContext())).toBe("mismatch");
    const refresh = { version: 1, kind: "refresh", edgeId: "edge-1", sessionId: "55".repeat(32), keyId: "key-3", scheme: "ecdsa-secp256k1", parties: key.parties, nonce: "66".repeat(16), issuedAt: now, expiresAt: now + 60_000 } as Authorization;
    expect(await code(signAuthorization(refresh, edgeKey), context({ expectedKind: "refresh", key: withKeys(key, derived) }))).toBe("mismatch");
  });

  describe("in a governed org", () => {
    const spki = credentialKeyId(userPem)!;
    const state = (ops: string[], subject = "us-1"): GovernanceState =>
      ({
        orgId: "or-1",
        roots: ["00"],
        identities: { [subject]: { kind: "User", active: true, credentials: { "cu-1": { key: spki, active: true } } } },
        permissions: { "pm-1": { operations: ops, archived: false } },
        assignments: { "as-1": { permissionId: "pm-1", identityId: subject } },
        shareHolders: {},
        head: { length: 3, hash: "ab".repeat(32) },
      }) as GovernanceState;
    const governedAuth = (a: Authorization) => {
      const g = { ...a, governance: { length: 3, hash: "ab".repeat(32) } } as Authorization;
      return signAuthorization({ ...g, sessionId: governedSessionId(g) } as Authorization, edgeKey);
    };
    const owned = { ...key, owner: "us-1" };
    it("the master key's owner, holding Wallets:Create, derives; the child is owned by it", async () => {
      const r = await verifyAuthorization(governedAuth(deriveAuth()), keygenContext({ key: withKeys(owned), governance: async () => state(["Wallets:Create"]) }));
      expect(r.ok && r.binding?.owner).toBe("us-1");
    });
    it("refuses an identity without Wallets:Create, and anyone but the master key's owner", async () => {
      expect(await code(governedAuth(deriveAuth()), keygenContext({ key: withKeys(owned), governance: async () => state(["Wallets:Read"]) }))).toBe("governance");
      const other = deriveAuth({ userAction: create(body({ keyId: "key-1", path: "m/0/7" }), { subject: "us-2" }) });
      expect(await code(governedAuth(other), keygenContext({ key: withKeys(owned), governance: async () => state(["Wallets:Create"], "us-2") }))).toBe("governance");
      // The same identity id and credential, acting in another org, does not reach this org's master key.
      const elsewhere = deriveAuth({ userAction: create(body({ keyId: "key-1", path: "m/0/7" }), { orgId: "or-2" }) });
      expect(await code(governedAuth(elsewhere), keygenContext({ key: withKeys(owned), governance: async () => state(["Wallets:Create"]) }))).toBe("user-evidence");
    });
  });
});

describe("reshare: only as the org's governance log orders it", () => {
  const NEW = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo";
  const spki = credentialKeyId(userPem)!;
  const owned: KeyRecordView = { ...key, owner: "us-1", publicKey: `02${"11".repeat(32)}`, generation: 0 };
  const origin = evidence("POST", "/wallets", { network: "EthereumSepolia" });
  const retire = (peer = PEERS[0]!, body: unknown = { replacement: NEW }) => evidence("POST", `/tessera/share-holders/${peer}/retire`, body);
  const retiredInFavourOfNew = { [PEERS[0]!]: { active: false, replacement: NEW }, [NEW]: { active: true, region: "sa" } };
  const state = (o: { ops?: string[]; holders?: GovernanceState["shareHolders"] } = {}): GovernanceState =>
    ({
      orgId: "or-1",
      roots: ["00"],
      identities: { "us-1": { kind: "User", active: true, credentials: { "cu-1": { key: spki, active: true } } } },
      permissions: { "pm-1": { operations: o.ops ?? ["ShareHolders:Retire"], archived: false } },
      assignments: { "as-1": { permissionId: "pm-1", identityId: "us-1" } },
      shareHolders: o.holders ?? retiredInFavourOfNew,
      head: { length: 5, hash: "cd".repeat(32) },
    }) as GovernanceState;
  const reshareAuth = (over: Record<string, unknown> = {}) =>
    ({
      version: 1,
      kind: "reshare",
      edgeId: "edge-1",
      sessionId: "77".repeat(32),
      keyId: "key-1",
      scheme: "ecdsa-secp256k1",
      parties: [{ index: 1, peerId: NEW }, key.parties[1]!, key.parties[2]!],
      nonce: "88".repeat(16),
      issuedAt: now,
      expiresAt: now + 60_000,
      target: { index: 1, peerId: NEW },
      retired: PEERS[0]!,
      threshold: 2,
      publicKey: owned.publicKey!,
      generation: 0,
      walletId: "wa-1",
      origin,
      userAction: retire(),
      ...over,
    }) as Authorization;
  const governedAuth = (a: Authorization) => {
    const g = { ...a, governance: { length: 5, hash: "cd".repeat(32) } } as Authorization;
    return signAuthorization({ ...g, sessionId: governedSessionId(g) } as Authorization, edgeKey);
  };
  const at = (self: string, s: GovernanceState | null = state()) =>
    context({ expectedKind: "reshare", self, key: (id) => (id === "key-1" && self !== NEW ? owned : undefined), governance: async () => s });

  it("a holder and the replacement accept the reshare the log ordered; the replacement takes the key's binding from its origin", async () => {
    expect(await code(governedAuth(reshareAuth()), at(PEERS[1]!))).toBe("ok");
    const r = await verifyAuthorization(governedAuth(reshareAuth()), at(NEW));
    expect(r.ok && r.binding).toEqual({ orgId: "or-1", walletId: "wa-1", network: "EthereumSepolia", derivationPath: null, credentials: [spki], owner: "us-1" });
  });

  it("refuses a reshare the log did not order: no retirement, another replacement, a replacement it never added, an ungoverned org", async () => {
    expect(await code(governedAuth(reshareAuth()), at(PEERS[1]!, state({ holders: { [NEW]: { active: true } } })))).toBe("governance");
    const other = "12D3KooWAeHaPCnhjjLzfoxyngGHbREYxKKA2VJZMLzqnspGsVeD";
    expect(await code(governedAuth(reshareAuth()), at(PEERS[1]!, state({ holders: { [PEERS[0]!]: { active: false, replacement: other }, [NEW]: { active: true } } })))).toBe("governance");
    expect(await code(governedAuth(reshareAuth()), at(NEW, state({ holders: { [PEERS[0]!]: { active: false, replacement: NEW } } })))).toBe("governance");
    expect(await code(governedAuth(reshareAuth()), at(PEERS[1]!, null))).toBe("governance");
  });

  it("refuses an administrator without ShareHolders:Retire, and a user action that is not this retirement", async () => {
    expect(await code(governedAuth(reshareAuth()), at(PEERS[1]!, state({ ops: ["ShareHolders:Create"] })))).toBe("governance");
    expect(await code(governedAuth(reshareAuth({ userAction: retire(PEERS[2]!) })), at(PEERS[1]!))).toBe("intent");
    expect(await code(governedAuth(reshareAuth({ userAction: evidence("POST", "/permissions", { name: "p", operations: [] }) })), at(PEERS[1]!))).toBe("intent");
  });

  it("a holder refuses parties other than its key's with the retired index moved, and a shape or origin it did not record", async () => {
    // The edge slips the new node in at another holder's index (that holder moved to the retired one's).
    expect(await code(governedAuth(reshareAuth({ parties: [{ index: 1, peerId: PEERS[1]! }, { index: 2, peerId: NEW }, key.parties[2]!], target: { index: 2, peerId: NEW } })), at(PEERS[2]!))).toBe("mismatch");
    expect(await code(governedAuth(reshareAuth({ publicKey: `03${"22".repeat(32)}` })), at(PEERS[1]!))).toBe("mismatch");
    expect(await code(governedAuth(reshareAuth({ generation: 1 })), at(PEERS[1]!))).toBe("mismatch");
    expect(await code(governedAuth(reshareAuth({ walletId: "wa-2" })), at(PEERS[1]!))).toBe("mismatch");
    // The replacement refuses a key it already holds.
    expect(await code(governedAuth(reshareAuth()), context({ expectedKind: "reshare", self: NEW, key: () => owned, governance: async () => state() }))).toBe("mismatch");
  });

  it("once the log retired a holder, a signature naming it is refused; without it, the same request passes", async () => {
    const governedSign = (parties: Authorization["parties"]) => governedAuth(signAuth({ parties }));
    const signing = context({ expectedKind: "sign", self: PEERS[1]!, key: (id) => (id === "key-1" ? owned : undefined), governance: async () => state() });
    expect(await code(governedSign(key.parties.slice(0, 2)), signing)).toBe("governance");
    expect(await code(governedSign(key.parties.slice(1, 3)), signing)).toBe("ok");
  });
});
