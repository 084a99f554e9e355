// Onboarding: what a new share holder hands an org's administrator. `mpc-node init` writes it
// (join-request.json) and prints it: the node's peer id, region and the addresses it will listen
// on, signed with the node's own peer key — so whoever adds the node can check that the request
// comes from the key behind that peer id and was not altered on the way. Nothing secret is in
// it. `mpc-node join verify` checks one and prints the entries the others' configurations need
// (the nodes' `peers`, the edge's TESSERA_SHARE_HOLDERS).
import { peerIdFromString } from "@libp2p/peer-id";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { z } from "zod";
import { canonicalJson } from "../mpc/canonical-json.js";

export const JOIN_FORMAT = "tessera.mpc-node.join-request.v1";

export const joinRequestSchema = z.strictObject({
  format: z.literal(JOIN_FORMAT),
  peerId: z.string().min(40).max(100),
  region: z.string().regex(/^[A-Za-z0-9-]{1,32}$/),
  /** Where the other share holders dial it (TCP), and where the edge dials it (websocket). */
  addresses: z.strictObject({ nodes: z.array(z.string().min(1)).min(1).max(8), edge: z.array(z.string().min(1)).max(8) }),
  issuedAt: z.string().datetime(),
  /** Ed25519 by the node's peer key over the canonical JSON of everything above. */
  signature: z.string().regex(/^[0-9a-f]{128}$/),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

const signedPart = (r: Omit<JoinRequest, "signature">) => new TextEncoder().encode(canonicalJson({ format: r.format, peerId: r.peerId, region: r.region, addresses: r.addresses, issuedAt: r.issuedAt }));

export function createJoinRequest(o: { peerId: string; signingSeed: Uint8Array; region: string; nodes: string[]; edge: string[]; now?: Date }): JoinRequest {
  const body = { format: JOIN_FORMAT, peerId: o.peerId, region: o.region, addresses: { nodes: o.nodes, edge: o.edge }, issuedAt: (o.now ?? new Date()).toISOString() } as const;
  return { ...body, signature: bytesToHex(ed25519.sign(signedPart(body), o.signingSeed)) };
}

/** The request if its signature is the peer id's own, else why not. */
export function verifyJoinRequest(raw: unknown): { ok: true; request: JoinRequest } | { ok: false; reason: string } {
  const parsed = joinRequestSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `not a join request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  const r = parsed.data;
  let publicKey: Uint8Array | undefined;
  try {
    publicKey = peerIdFromString(r.peerId).publicKey?.raw;
  } catch {
    return { ok: false, reason: `${r.peerId} is not a peer id` };
  }
  if (!publicKey || publicKey.length !== 32) return { ok: false, reason: `${r.peerId} does not embed an Ed25519 public key` };
  if (!ed25519.verify(hexToBytes(r.signature), signedPart(r), publicKey)) return { ok: false, reason: `the signature is not ${r.peerId}'s over this request (altered, or not from that node)` };
  return { ok: true, request: r };
}

/** What the others' configurations need to admit the node (index: its party number in the org). */
export function configEntries(r: JoinRequest, index: number) {
  return {
    peer: { peerId: r.peerId, multiaddrs: r.addresses.nodes, region: r.region },
    shareHolder: { index, peerId: r.peerId, multiaddrs: r.addresses.edge, region: r.region },
  };
}
