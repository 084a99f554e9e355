// A share holder's signed statement about a key it just generated with the others: which key,
// for which wallet, with which public key and scheme, owned by which identity of the org's
// governance log, under which governance head. Each node signs it with its own node key (the
// Ed25519 key its libp2p peer id embeds), so anyone who pins the deployment's node identities
// (`.tessera/local.json` nodes, written by `npm start`) can check that a wallet's key really was
// made by those nodes for that owner — and not by a compromised edge that advertises an address
// of its own (`npx tessera wallets verify <walletId>`).
//
// Signed bytes: UTF-8( "tessera.keygen-attestation.v1" "\n" canonicalJson({claims, peerId}) ).
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { z } from "zod";
import { canonicalJson } from "./canonical-json.js";
import { publicKeyOfPeer } from "./round-statements.js";

export const KEYGEN_ATTESTATION_DOMAIN = "tessera.keygen-attestation.v1";

export const keygenClaimsSchema = z.strictObject({
  orgId: z.string().min(1).max(128),
  keyId: z.string().min(1).max(128),
  walletId: z.string().min(1).max(128).nullable(),
  publicKey: z.string().regex(/^([0-9a-f]{2})+$/),
  scheme: z.string().min(1).max(32),
  /** The owning identity in the org's governance log; null for an org the nodes do not govern. */
  owner: z.string().min(1).max(128).nullable(),
  governance: z.strictObject({ length: z.int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).nullable(),
});
export type KeygenClaims = z.infer<typeof keygenClaimsSchema>;

export const keygenAttestationSchema = z.strictObject({ peerId: z.string().min(40).max(100), signature: z.string().regex(/^[0-9a-f]{128}$/) });
export type KeygenAttestation = z.infer<typeof keygenAttestationSchema>;

/** What a wallet response carries (`tessera.keygen`): the claims once, and each node's signature over them. */
export const keygenEvidenceSchema = z.strictObject({ claims: keygenClaimsSchema, attestations: z.array(keygenAttestationSchema).max(32) });
export type KeygenEvidence = z.infer<typeof keygenEvidenceSchema>;

export function keygenAttestationBytes(claims: KeygenClaims, peerId: string): Uint8Array {
  return new TextEncoder().encode(`${KEYGEN_ATTESTATION_DOMAIN}\n${canonicalJson({ claims, peerId })}`);
}

/** The node's side: its 32-byte Ed25519 node-key seed signs the claims. */
export function signKeygenAttestation(claims: KeygenClaims, peerId: string, nodeKey: Uint8Array): KeygenAttestation {
  return { peerId, signature: bytesToHex(ed25519.sign(keygenAttestationBytes(claims, peerId), nodeKey)) };
}

export function verifyKeygenAttestation(claims: KeygenClaims, a: KeygenAttestation): boolean {
  try {
    return ed25519.verify(hexToBytes(a.signature), keygenAttestationBytes(claims, a.peerId), publicKeyOfPeer(a.peerId), { zip215: false });
  } catch {
    return false;
  }
}

export type WalletCheck = { ok: true; attestedBy: string[]; claims: KeygenClaims } | { ok: false; reason: string };

/**
 * A wallet as the API returned it, against the node identities the client pinned: the claims must
 * describe this wallet (its id, key id and public key), and every pinned node must have signed them.
 */
export function verifyWalletKeygen(wallet: { id: string; signingKey?: { id?: string; publicKey?: string }; tessera?: unknown }, pinnedPeers: readonly string[]): WalletCheck {
  if (pinnedPeers.length === 0) return { ok: false, reason: "no node identities are pinned (the config file has no `nodes`)" };
  const evidence = keygenEvidenceSchema.safeParse((wallet.tessera as { keygen?: unknown } | undefined)?.keygen);
  if (!evidence.success) return { ok: false, reason: `wallet ${wallet.id} carries no keygen attestations` };
  const { claims, attestations } = evidence.data;
  if (claims.walletId !== wallet.id) return { ok: false, reason: `the attestations are for wallet ${claims.walletId ?? "(none)"}, not ${wallet.id}` };
  if (claims.keyId !== wallet.signingKey?.id) return { ok: false, reason: `the attestations are for key ${claims.keyId}, the wallet names ${wallet.signingKey?.id ?? "(none)"}` };
  if (claims.publicKey !== wallet.signingKey?.publicKey?.toLowerCase()) return { ok: false, reason: `the nodes attested public key ${claims.publicKey}, the wallet shows ${wallet.signingKey?.publicKey ?? "(none)"}` };
  const good = new Set<string>();
  for (const a of attestations) {
    if (!pinnedPeers.includes(a.peerId)) continue;
    if (!verifyKeygenAttestation(claims, a)) return { ok: false, reason: `the attestation of node ${a.peerId} does not verify` };
    good.add(a.peerId);
  }
  const missing = pinnedPeers.filter((p) => !good.has(p));
  if (missing.length) return { ok: false, reason: `no valid attestation from pinned node${missing.length > 1 ? "s" : ""} ${missing.join(", ")}` };
  return { ok: true, attestedBy: [...good], claims };
}
