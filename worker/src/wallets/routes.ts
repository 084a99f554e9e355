// Dfns /wallets: create (a distributed key generation on the share holders), list, get, and
// signature requests. Layers 1–2 ran before these handlers; layer 3 (the policy gate) decides a
// signature request before any ceremony starts; layer 4 is the share holders' own check and work.
import type { KeygenEvidence } from "../../../shared/src/mpc/keygen-attestation.js";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { autoDerivationPath, derivationPathProblem, walletIdOfKeyBinding } from "../../../shared/src/mpc/intent.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { newId } from "../orgs/ids.js";
import { permit, permitAny } from "../permissions/permit.js";
import { recordGateAudit } from "../policy/gate.js";
import { keyKindFor, walletAddressProblem, WALLET_NETWORK_NAMES, WALLET_NETWORKS, type WalletNetworkSpec } from "./chains.js";
import { signatureView } from "./signing.js";
import { isWalletId, walletRegistryOf, type WalletRecord } from "./wallet-registry.js";
import { shareHoldersOf } from "../signing/share-holders.js";
import { indexerOf } from "../indexer/network-indexer.js";
import { networkFor } from "../networks/networks.js";
import { publishEvent } from "../webhooks/publish.js";

export const walletRoutes = new Hono<AppEnv>();

const createWalletBody = z.object({
  network: z.enum(WALLET_NETWORK_NAMES, { message: `network must be one of ${WALLET_NETWORK_NAMES.join(", ")}` }),
  name: z.string().min(1).max(256).optional(),
  externalId: z.string().min(1).max(256).optional(),
  tags: z.array(z.string().min(1).max(64)).max(32).optional(),
  // Dfns lets a caller put the wallet on an existing key (signingKey.id): one key, one address on
  // several EVM chains. Otherwise every wallet gets its own fresh key.
  signingKey: z
    .object({
      id: z.string().regex(/^key-[0-9a-z-]{1,64}$/, "must be a key id").optional(),
      scheme: z.enum(["ECDSA", "EdDSA", "Schnorr"]).optional(),
      curve: z.enum(["secp256k1", "ed25519"]).optional(),
      // Dfns's hierarchical derivation: a child of a master key at a BIP32 path (non-hardened).
      deriveFrom: z
        .object({ keyId: z.string().regex(/^key-[0-9a-z-]{1,64}$/, "must be a key id"), path: z.string().max(400).optional() })
        .strict()
        .optional(),
    })
    .strict()
    .optional(),
  delayDelegation: z.boolean().optional(),
});

const signatureBody = z.object({ kind: z.enum(["Hash", "Message", "Transaction", "Eip712", "Eip191", "Eip7702", "Psbt"], { message: "kind must be Hash, Message, Transaction, Eip712, Eip191, Eip7702 or Psbt" }) }).passthrough();

const page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  paginationToken: z.string().regex(/^\d{1,15}$/, "invalid pagination token").optional(),
});

/** The Dfns wallet object. */
export function walletView(w: WalletRecord) {
  return {
    id: w.id,
    network: w.network,
    // A wallet whose stored address its key cannot spend from shows none (and is refused when used).
    ...(w.address && !walletAddressProblem(w) ? { address: w.address } : {}),
    signingKey: { id: w.keyId, scheme: w.scheme, curve: w.curve, publicKey: w.publicKey },
    status: w.status,
    dateCreated: w.dateCreated,
    ...(w.name ? { name: w.name } : {}),
    custodial: true,
    ...(w.externalId ? { externalId: w.externalId } : {}),
    tags: w.tags,
    // Tessera's own member (the SDK's types ignore it): what the share holders attested of the key,
    // for `npx tessera wallets verify` against the node identities the client pinned.
    ...(w.keygen ? { tessera: { keygen: w.keygen } } : {}),
  };
}

/** The wallet named in the path, of the caller's org; 404 otherwise (ids of other orgs included). */
export async function requireWallet(c: Context<AppEnv>): Promise<WalletRecord> {
  const id = c.req.param("walletId") ?? "";
  const w = isWalletId(id) ? await walletRegistryOf(c.env, c.get("caller").orgId).getWallet(id) : null;
  if (!w) throw new ApiError(404, "Wallet not found");
  const problem = walletAddressProblem(w);
  if (problem) throw new ApiError(409, problem);
  return w;
}

function spentUserAction(c: Context<AppEnv>) {
  const ua = c.get("userAction");
  if (!ua) throw new ApiError(401, "User action signature required");
  return ua;
}

walletRoutes.post("/wallets", permit("Wallets:Create"), async (c) => {
  const body = await parseBody(c, createWalletBody);
  const family = keyKindFor(body.network, body.signingKey?.scheme);
  if (!family) {
    const spec: WalletNetworkSpec = WALLET_NETWORKS[body.network];
    const schemes = [spec.scheme, ...(spec.others ?? []).map((k) => k.scheme)];
    throw new ApiError(400, `${body.network} wallets use ${schemes.join(" or ")} keys`);
  }
  if (body.signingKey?.curve && body.signingKey.curve !== family.curve) throw new ApiError(400, `${body.network} wallets use ${family.curve} keys`);
  const caller = c.get("caller");
  const deriveFrom = body.signingKey?.deriveFrom;
  if (deriveFrom) {
    if (body.signingKey?.id) throw new ApiError(400, "signingKey.id and signingKey.deriveFrom cannot be used together");
    if (family.mpcScheme !== "ecdsa-secp256k1") {
      throw new ApiError(400, `signingKey.deriveFrom derives ECDSA secp256k1 keys only (BIP32 non-hardened); a ${body.network} ${family.scheme} wallet gets a key of its own`);
    }
    const problem = deriveFrom.path === undefined ? null : derivationPathProblem(deriveFrom.path);
    if (problem) throw new ApiError(400, `signingKey.deriveFrom.path: ${problem}`);
    await existingKey(c, deriveFrom.keyId, family);
  }
  const onKey = body.signingKey?.id ? await existingKey(c, body.signingKey.id, family) : null;
  // On an existing key the wallet id is derived from the user's request: the nodes check it so.
  const walletId = onKey ? walletIdOfKeyBinding(spentUserAction(c).challenge) : newId("wa");
  const keyId = onKey?.keyId ?? newId("key");
  const key = onKey
    ? unwrap(await shareHoldersOf(c.env, caller.orgId).bindWallet({ walletId, keyId, userAction: spentUserAction(c) }))
    : deriveFrom
      ? unwrap(
          await shareHoldersOf(c.env, caller.orgId).derive({
            keyId,
            walletId,
            masterKeyId: deriveFrom.keyId,
            // Left out: the path every node derives from the user's own request.
            path: deriveFrom.path ?? autoDerivationPath(spentUserAction(c).challenge),
            userAction: spentUserAction(c),
          }),
        )
      : unwrap(await shareHoldersOf(c.env, caller.orgId).keygen({ keyId, walletId, scheme: family.mpcScheme, userAction: spentUserAction(c) }));
  const wallet: WalletRecord = {
    id: walletId,
    orgId: caller.orgId,
    network: body.network,
    name: body.name ?? null,
    externalId: body.externalId ?? null,
    tags: body.tags ?? [],
    keyId,
    scheme: family.scheme,
    curve: family.curve,
    publicKey: key.publicKey,
    address: family.address(key.publicKey),
    status: "Active",
    dateCreated: new Date().toISOString(),
    creatorId: caller.identityId,
    ...("keygen" in key && key.keygen ? { keygen: key.keygen as KeygenEvidence } : {}),
  };
  await walletRegistryOf(c.env, caller.orgId).addWallet(wallet);
  await publishEvent(c.env, caller.orgId, "wallet.created", { wallet: walletView(wallet) });
  // Deposits to the new address are found from now on (when the deployment reaches the chain).
  const reachable = networkFor(c.env, wallet.network);
  if (wallet.address && reachable.ok && reachable.config.family === "evm") {
    try {
      await indexerOf(c.env, wallet.network).watch(wallet.network, { address: wallet.address, orgId: caller.orgId, walletId });
    } catch (err) {
      console.error(`indexer ${wallet.network}: cannot follow ${wallet.id} yet (its next history read retries):`, (err as Error).message);
    }
  }
  return c.json(walletView(wallet));
});

/** The org's key a new wallet is put on: it must exist here and suit the network's family. */
async function existingKey(c: Context<AppEnv>, keyId: string, family: (typeof WALLET_NETWORKS)[keyof typeof WALLET_NETWORKS]): Promise<WalletRecord> {
  const owner = await walletRegistryOf(c.env, c.get("caller").orgId).walletOnKey(keyId);
  if (!owner) throw new ApiError(404, `Key ${keyId} not found`);
  if (owner.scheme !== family.scheme || owner.curve !== family.curve) throw new ApiError(400, `Key ${keyId} is ${owner.scheme}/${owner.curve}; this network needs ${family.scheme}/${family.curve}`);
  return owner;
}

walletRoutes.get("/wallets", permit("Wallets:Read"), async (c) => {
  const q = parseQuery(c, page);
  const r = await walletRegistryOf(c.env, c.get("caller").orgId).listWallets({ limit: q.limit, ...(q.paginationToken ? { before: Number(q.paginationToken) } : {}) });
  return c.json({ items: r.items.map(walletView), ...(r.next ? { nextPageToken: String(r.next) } : {}) });
});

walletRoutes.get("/wallets/:walletId", permit("Wallets:Read"), async (c) => c.json(walletView(await requireWallet(c))));

// ── signatures ────────────────────────────────────────────────────────────────────────────

walletRoutes.post("/wallets/:walletId/signatures", permitAny(["Keys:Signatures:Create", "Wallets:GenerateSignature"]), async (c) => {
  const walletId = c.req.param("walletId") ?? "";
  if (!isWalletId(walletId)) throw new ApiError(404, "Wallet not found");
  await parseBody(c, signatureBody);
  const caller = c.get("caller");
  // Layers 3–4 in the org's wallet registry, one call (./signature-request.ts); a refusal's or a
  // hold's audit line comes back to be written here, after this isolate's queued lines of the org.
  const out = await walletRegistryOf(c.env, caller.orgId).requestSignature({
    walletId,
    requester: { orgId: caller.orgId, userId: caller.userId, tokenId: caller.tokenId, identityId: caller.identityId },
    userAction: spentUserAction(c),
    http: { method: c.req.method, path: c.req.path },
  });
  if (!out.ok) throw new ApiError(out.status, out.message);
  if (out.value.audit) await recordGateAudit(c.env, caller.orgId, out.value.audit, c.executionCtx.waitUntil.bind(c.executionCtx));
  return c.json(signatureView(out.value.record));
});

walletRoutes.get("/wallets/:walletId/signatures", permitAny(["Keys:Signatures:Read", "Wallets:Read"]), async (c) => {
  const wallet = await requireWallet(c);
  const q = parseQuery(c, page);
  const r = await walletRegistryOf(c.env, c.get("caller").orgId).listSignatures(wallet.id, { limit: q.limit, ...(q.paginationToken ? { before: Number(q.paginationToken) } : {}) });
  return c.json({ walletId: wallet.id, keyId: wallet.keyId, items: r.items.map(signatureView), ...(r.next ? { nextPageToken: String(r.next) } : {}) });
});

walletRoutes.get("/wallets/:walletId/signatures/:signatureId", permitAny(["Keys:Signatures:Read", "Wallets:Read"]), async (c) => {
  const wallet = await requireWallet(c);
  const s = await walletRegistryOf(c.env, c.get("caller").orgId).getSignature(wallet.id, c.req.param("signatureId"));
  if (!s) throw new ApiError(404, "Signature request not found");
  return c.json(signatureView(s));
});
