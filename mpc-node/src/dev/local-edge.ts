// A stand-in for the edge API while nodes are run on their own (tests, the demo, the benchmark):
// it holds an edge authorization key and one user's Key credential, and produces exactly what the
// Worker will produce — a user action signed by the credential over the Dfns commitment, wrapped
// in a ceremony authorization signed by the edge key. Nothing here is faked: nodes verify both
// signatures and recompute the digest as they would for the real edge.
import { generateKeyPairSync, randomUUID, sign as nodeSign, type KeyObject } from "node:crypto";
import { bytesToHex } from "@noble/hashes/utils.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBase64Url, utf8 } from "../../../shared/src/dfns/base64url.js";
import { userActionChallenge } from "../../../shared/src/dfns/user-action.js";
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import type { GovernanceHead } from "../../../shared/src/governance/log.js";
import {
  AUTHORIZATION_VERSION,
  governedSessionId,
  randomNonceHex,
  signAuthorization,
  type Authorization,
  type Party,
  type SignedAuthorization,
} from "../../../shared/src/mpc/authorization.js";
import { autoDerivationPath, intentFromSignatureBody, signingMessageFor, type ChainIdOf, type SigningIntent } from "../../../shared/src/mpc/intent.js";
import { dfnsSchemeOf, type MpcScheme } from "../../../shared/src/mpc/scheme.js";
import type { SigningPolicyFacts } from "../../../shared/src/policy/at-nodes.js";

export interface LocalUser {
  orgId: string;
  subject: string;
  credId: string;
  publicKeyPem: string;
  privateKey: KeyObject;
}

export function newLocalUser(orgId = `or-${randomUUID()}`): LocalUser {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { orgId, subject: `us-${randomUUID()}`, credId: `cr-${randomUUID()}`, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

export function randomSessionIdHex(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

export class LocalEdge {
  readonly publicKey: Uint8Array;

  constructor(
    readonly edgeId = "edge-local",
    readonly secretKey: Uint8Array = ed25519.utils.randomSecretKey(),
    readonly user: LocalUser = newLocalUser(),
    readonly ttlMs = 60_000,
  ) {
    this.publicKey = ed25519.getPublicKey(secretKey);
  }

  /** The user signs `method path body` the way the Dfns key signer does (clientData key.get). */
  userAction(method: string, path: string, body: unknown, user: LocalUser = this.user, expiresInSeconds = 300, issuedAt = Math.floor(Date.now() / 1000)): UserActionEvidence {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    const nonce = randomUUID();
    const expiry = issuedAt + expiresInSeconds;
    const challenge = userActionChallenge({ method, path, payload, orgId: user.orgId, subject: user.subject, nonce, issuedAt, expiry });
    const clientData = utf8(JSON.stringify({ type: "key.get", challenge }));
    const signature = nodeSign(null, clientData, user.privateKey);
    return {
      actionId: `ua-${randomUUID()}`,
      orgId: user.orgId,
      subject: user.subject,
      tokenId: `to-${randomUUID()}`,
      method,
      path,
      payload,
      nonce,
      expiry,
      challenge,
      challengeIdentifier: `ch-${randomUUID()}`,
      credential: { credId: user.credId, credentialUuid: `cu-${randomUUID()}`, kind: "Key", publicKey: user.publicKeyPem },
      assertion: { clientData: encodeBase64Url(clientData), signature: encodeBase64Url(new Uint8Array(signature)), authenticatorData: null, userHandle: null },
      signedAt: new Date().toISOString(),
    };
  }

  private common(keyId: string, scheme: MpcScheme, parties: Party[], sessionId = randomSessionIdHex()) {
    const now = Date.now();
    return { version: AUTHORIZATION_VERSION, edgeId: this.edgeId, sessionId, keyId, scheme, parties, nonce: randomNonceHex(), issuedAt: now, expiresAt: now + this.ttlMs } as const;
  }

  /** Signs any authorization with the edge key (tests use it to build hostile ones). */
  authorize(a: Authorization): SignedAuthorization {
    return signAuthorization(a, this.secretKey);
  }

  /** The same request under an org's governance head, with the session id derived as the nodes require. */
  governed(signed: SignedAuthorization, head: GovernanceHead, o: { deriveSessionId?: boolean } = {}): SignedAuthorization {
    const a = { ...signed.authorization, governance: head } as Authorization;
    return this.authorize(o.deriveSessionId === false ? a : ({ ...a, sessionId: governedSessionId(a) } as Authorization));
  }

  /** A key for a wallet (`POST /wallets {network}`) or a bare key (`POST /keys {scheme, curve}`). */
  keygen(o: { keyId: string; scheme: MpcScheme; parties: Party[]; threshold: number; walletId?: string; network?: string; derivationPath?: string; user?: LocalUser; sessionId?: string }): SignedAuthorization {
    const userAction = o.walletId
      ? this.userAction("POST", "/wallets", { network: o.network ?? "KeyECDSA" }, o.user)
      : this.userAction("POST", "/keys", dfnsSchemeOf(o.scheme), o.user);
    return this.authorize({
      ...this.common(o.keyId, o.scheme, o.parties, o.sessionId),
      kind: "keygen",
      threshold: o.threshold,
      ...(o.walletId ? { walletId: o.walletId } : {}),
      ...(o.derivationPath ? { derivationPath: o.derivationPath } : {}),
      userAction,
    });
  }

  /**
   * A wallet derived from master key `masterKeyId` (`POST /wallets {network, signingKey:{deriveFrom:{keyId, path?}}}`):
   * no ceremony, each node derives the child at the path the user's request names (or the one
   * derived from its challenge when `path` is left out).
   */
  derive(o: { keyId: string; masterKeyId: string; parties: Party[]; threshold: number; walletId: string; network?: string; path?: string; user?: LocalUser; sessionId?: string; authorizedPath?: string }): SignedAuthorization {
    const userAction = this.userAction("POST", "/wallets", { network: o.network ?? "KeyECDSA", signingKey: { deriveFrom: { keyId: o.masterKeyId, ...(o.path ? { path: o.path } : {}) } } }, o.user);
    return this.authorize({
      ...this.common(o.keyId, "ecdsa-secp256k1", o.parties, o.sessionId),
      kind: "keygen",
      threshold: o.threshold,
      walletId: o.walletId,
      deriveFrom: { keyId: o.masterKeyId, path: o.authorizedPath ?? o.path ?? autoDerivationPath(userAction.challenge) },
      userAction,
    });
  }

  /**
   * A signature the user asked for with `POST /keys/:keyId/signatures` (or the wallet's route),
   * `body` being the Dfns GenerateSignature body, e.g. {kind:"Hash", hash:"0x…"}.
   */
  sign(o: { keyId: string; scheme: MpcScheme; parties: Party[]; body: Record<string, unknown>; walletId?: string; derivationPath?: string; user?: LocalUser; sessionId?: string; chainIdOf?: ChainIdOf; presignature?: string }): SignedAuthorization {
    const path = o.walletId ? `/wallets/${o.walletId}/signatures` : `/keys/${o.keyId}/signatures`;
    const userAction = this.userAction("POST", path, o.body, o.user);
    const fromBody = intentFromSignatureBody(userAction.payload);
    if (!fromBody.ok) throw new Error(fromBody.reason);
    return this.signIntent({ ...o, intent: fromBody.intent, userAction });
  }

  /** Lower level: an explicit intent and user action (transfers, hostile tests). */
  signIntent(o: {
    keyId: string;
    scheme: MpcScheme;
    parties: Party[];
    intent: SigningIntent;
    userAction: UserActionEvidence;
    derivationPath?: string;
    sessionId?: string;
    message?: string;
    chainIdOf?: ChainIdOf;
    /** Governed orgs: the facts the nodes' policy evaluation takes from the edge (approvals, usage log). */
    policy?: SigningPolicyFacts;
    presignature?: string;
  }): SignedAuthorization {
    const message = o.message ?? bytesToHex(signingMessageFor(o.intent, o.scheme, o.chainIdOf));
    return this.authorize({
      ...this.common(o.keyId, o.scheme, o.parties, o.sessionId),
      kind: "sign",
      message,
      ...(o.derivationPath ? { derivationPath: o.derivationPath } : {}),
      intent: o.intent,
      userAction: o.userAction,
      ...(o.policy ? { policy: o.policy } : {}),
      ...(o.presignature ? { presignature: o.presignature } : {}),
    });
  }

  /** ECDSA presigning of `count` presignatures (default 1) for these signers (the coordinator's pool refill). */
  presign(o: { keyId: string; parties: Party[]; sessionId?: string; count?: number }): SignedAuthorization {
    return this.authorize({ ...this.common(o.keyId, "ecdsa-secp256k1", o.parties, o.sessionId), kind: "presign", count: o.count ?? 1 });
  }

  refresh(o: { keyId: string; scheme: MpcScheme; parties: Party[]; sessionId?: string }): SignedAuthorization {
    return this.authorize({ ...this.common(o.keyId, o.scheme, o.parties, o.sessionId), kind: "refresh" });
  }
}
