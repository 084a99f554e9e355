import type { Org } from "./orgs/org.js";
import type { Deployment } from "./deployment/deployment.js";
import type { AuditLog } from "./audit/audit-log.js";
import type { PolicyState } from "./policy/state.js";
import type { WalletTransfers } from "./broadcast/wallet-transfers.js";
import type { Webhooks } from "./webhooks/webhooks-object.js";
import type { ShareHolders } from "./signing/share-holders.js";
import type { WalletRegistry } from "./wallets/wallet-registry.js";
import type { NetworkIndexer } from "./indexer/network-indexer.js";
import type { NetworkEnv } from "./networks/networks.js";

/** Bindings and configuration of the edge API (wrangler.toml, secrets, `--var`). */
// Chain RPC URLs and per-network overrides (TESSERA_NETWORKS, `<NETWORK>_RPC_URL`) are declared
// once, with the module that reads them: NetworkEnv in networks/networks.ts.
export interface Env extends NetworkEnv {
  /** One SQLite Durable Object per organisation: identities, credentials, permissions, audit. */
  ORG: DurableObjectNamespace<Org>;
  /** One append-only audit log per organisation (named by org id): every request decision. */
  AUDIT: DurableObjectNamespace<AuditLog>;
  /** The deployment-wide object: the generated token-signing key when no secret is set. */
  DEPLOYMENT: DurableObjectNamespace<Deployment>;
  /** Layer 3, one per organisation (named by org id): policies, velocity usage, approvals. */
  POLICY_STATE: DurableObjectNamespace<PolicyState>;
  /** Layer 5, one per wallet (named "<orgId>:<walletId>"): its nonces, transfers and broadcast transactions. */
  WALLET_TRANSFERS: DurableObjectNamespace<WalletTransfers>;
  /** One per organisation (named by org id): webhook subscriptions, events and their deliveries. */
  WEBHOOKS: DurableObjectNamespace<Webhooks>;
  /** One per EVM network (named by the network): incoming and outgoing transfers of every wallet on it. */
  INDEXER: DurableObjectNamespace<NetworkIndexer>;
  /** Layer 4, one per organisation (named by org id): wallets, keys, signature requests. */
  WALLETS: DurableObjectNamespace<WalletRegistry>;
  /** Layer 4, one per organisation (named "org:<orgId>"): the coordinator of its ceremonies with the share-holder nodes. */
  SHARE_HOLDERS: DurableObjectNamespace<ShareHolders>;
  /** "org" (default): one coordinator object per organisation; "deployment": one for all (as before sharding). */
  TESSERA_COORDINATOR_SHARDS?: string;
  /** Local runs only: which coordinator process holds which object, {"org:<id>": n} (signing/share-holders.ts placedAt). */
  TESSERA_COORDINATOR_PLACEMENT?: string;
  /** "off": ECDSA signatures never use presignatures (the bench's comparison of both paths); default on. */
  TESSERA_PRESIGNATURES?: string;
  /** "off": the edge waits for the signers' results instead of assembling a signature from a presignature out of their partials (half a round trip more). */
  TESSERA_ASSEMBLE_PRESIGNED?: string;
  /** Presignatures kept ready per ECDSA key (default 32, at least one batch; 0: none), see signing/presignature-pool.ts. */
  TESSERA_PRESIGNATURE_POOL?: string;
  /** Presignatures one presigning ceremony makes (default 8, 1-64): its fixed costs at each node are paid once per batch. */
  TESSERA_PRESIGNATURE_BATCH?: string;
  /** A key's pool is topped up once fewer than this many are ready (default 16). */
  TESSERA_PRESIGNATURE_LOW_WATER?: string;
  /** Presigning ceremonies in flight at once per key while its pool fills (default 2). */
  TESSERA_PRESIGNATURE_REFILLS?: string;
  /** JSON {threshold, nodes:[{index, peerId, multiaddrs, region}]}: the share holders (websocket addresses). */
  TESSERA_SHARE_HOLDERS?: string;
  /** 32-byte hex Ed25519 secret key that signs ceremony authorizations (nodes know its public key). */
  TESSERA_EDGE_AUTH_KEY?: string;
  /** 32-byte hex seed of the edge's libp2p identity (nodes allow exactly this peer id). */
  TESSERA_EDGE_PEER_SEED?: string;
  /** Which edge this is, as the nodes' configuration names it (default "edge-local"). */
  TESSERA_EDGE_ID?: string;
  /** PKCS#8 PEM of a P-256 key that signs bearer tokens (ES256). Optional in dev and tests. */
  TOKEN_SIGNING_KEY?: string;
  /** Enables POST /admin/bootstrap for whoever presents it as a bearer token. Unset: disabled. */
  TESSERA_BOOTSTRAP_SECRET?: string;
  /** WebAuthn relying party id (a registrable domain, e.g. "localhost"). */
  WEBAUTHN_RP_ID?: string;
  WEBAUTHN_RP_NAME?: string;
  /** Comma-separated origins passkey ceremonies may come from (e.g. "http://localhost:8787"). */
  WEBAUTHN_ORIGINS?: string;
  /** JSON object of USD prices per whole unit, keyed "Network" (native) or "Network:contract", for USD policy rules. */
  POLICY_USD_PRICES?: string;
  /** Enables Chainalysis's sanctions API as a second screening provider beside the bundled OFAC list. */
  CHAINALYSIS_API_KEY?: string;
  CHAINALYSIS_API_URL?: string;
}
