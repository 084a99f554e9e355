// The chains this deployment can reach. Each network has defaults (chain id, native asset,
// confirmations, explorer) and takes its RPC endpoints from the environment, so one code base
// serves mainnet, a testnet and a local anvil without edits. Everything is validated with zod
// when first read: a bad configuration is an operator error reported clearly, never a guess.
import { z } from "zod";

export const EVM_NETWORKS = ["Ethereum", "EthereumSepolia", "Anvil"] as const;
export const SOLANA_NETWORKS = ["Solana", "SolanaDevnet", "SolanaLocal"] as const;
/** Every network this deployment can move funds on, whatever its chain family. */
export const TRANSFER_NETWORKS = [...EVM_NETWORKS, ...SOLANA_NETWORKS] as const;
export type NetworkId = (typeof TRANSFER_NETWORKS)[number];

/** A token's id on its chain: an EVM contract (0x + 20 bytes) or a Solana mint (base58, 32 bytes). */
const address = z.string().regex(/^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$/, "must be a 0x-prefixed 20-byte contract or a base58 mint address");

const rpcUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL");

/** A token the assets endpoint always reports for this network, besides the native asset. */
const knownToken = z.object({ contract: address, symbol: z.string().min(1).max(16), decimals: z.number().int().min(0).max(36) });

export const networkConfig = z.object({
  id: z.enum(TRANSFER_NETWORKS),
  /** Which chain family's folder (worker/src/chains/<family>) handles this network. */
  family: z.enum(["evm", "bitcoin", "solana"]),
  /** EVM chain id (EIP-155); other families leave it 0. */
  chainId: z.number().int().nonnegative(),
  /** Tried in order: the next one is used when one is unreachable or answers garbage. */
  rpcUrls: z.array(rpcUrl).min(1).max(8),
  /** Blocks, counting the one that includes the transaction, before a transfer is Confirmed. */
  confirmations: z.number().int().min(1).max(1000),
  nativeAsset: z.object({ symbol: z.string().min(1).max(16), decimals: z.number().int().min(0).max(36) }),
  /** `{txHash}` is replaced by the transaction hash; null when the chain has no public explorer. */
  explorerTxUrl: z.string().includes("{txHash}").nullable(),
  /** How often a broadcast transaction's receipt is looked for. */
  pollIntervalMs: z.number().int().min(10).max(600_000),
  /** Per RPC request. */
  rpcTimeoutMs: z.number().int().min(100).max(120_000),
  tokens: z.array(knownToken).max(100),
});
export type NetworkConfig = z.infer<typeof networkConfig>;

type NetworkDefaults = Omit<NetworkConfig, "rpcUrls"> & { rpcEnv: string; defaultRpcUrls: string[] };

const DEFAULTS: Record<NetworkId, NetworkDefaults> = {
  Ethereum: {
    id: "Ethereum",
    family: "evm",
    chainId: 1,
    rpcEnv: "ETHEREUM_RPC_URL",
    defaultRpcUrls: [],
    confirmations: 12,
    nativeAsset: { symbol: "ETH", decimals: 18 },
    explorerTxUrl: "https://etherscan.io/tx/{txHash}",
    pollIntervalMs: 4_000,
    rpcTimeoutMs: 10_000,
    tokens: [],
  },
  EthereumSepolia: {
    id: "EthereumSepolia",
    family: "evm",
    chainId: 11155111,
    rpcEnv: "ETHEREUM_SEPOLIA_RPC_URL",
    defaultRpcUrls: [],
    confirmations: 3,
    nativeAsset: { symbol: "SEP", decimals: 18 },
    explorerTxUrl: "https://sepolia.etherscan.io/tx/{txHash}",
    pollIntervalMs: 4_000,
    rpcTimeoutMs: 10_000,
    tokens: [],
  },
  // A local development chain (anvil's default chain id). Automine makes every transaction a block.
  Anvil: {
    id: "Anvil",
    family: "evm",
    chainId: 31337,
    rpcEnv: "ANVIL_RPC_URL",
    defaultRpcUrls: ["http://127.0.0.1:8545"],
    confirmations: 1,
    nativeAsset: { symbol: "ETH", decimals: 18 },
    explorerTxUrl: null,
    pollIntervalMs: 200,
    rpcTimeoutMs: 5_000,
    tokens: [],
  },
  // Solana counts commitment, not blocks: confirmations 1 = "confirmed" (a supermajority voted),
  // more = "finalized" (rooted, about 32 slots later).
  Solana: {
    id: "Solana",
    family: "solana",
    chainId: 0,
    rpcEnv: "SOLANA_RPC_URL",
    defaultRpcUrls: [],
    confirmations: 32,
    nativeAsset: { symbol: "SOL", decimals: 9 },
    explorerTxUrl: "https://explorer.solana.com/tx/{txHash}",
    pollIntervalMs: 2_000,
    rpcTimeoutMs: 10_000,
    tokens: [],
  },
  SolanaDevnet: {
    id: "SolanaDevnet",
    family: "solana",
    chainId: 0,
    rpcEnv: "SOLANA_DEVNET_RPC_URL",
    defaultRpcUrls: [],
    confirmations: 32,
    nativeAsset: { symbol: "SOL", decimals: 9 },
    explorerTxUrl: "https://explorer.solana.com/tx/{txHash}?cluster=devnet",
    pollIntervalMs: 2_000,
    rpcTimeoutMs: 10_000,
    tokens: [],
  },
  // The local validator (scripts/solana-validator.ts), a new slot every 400 ms.
  SolanaLocal: {
    id: "SolanaLocal",
    family: "solana",
    chainId: 0,
    rpcEnv: "SOLANA_LOCAL_RPC_URL",
    defaultRpcUrls: ["http://127.0.0.1:8899"],
    confirmations: 1,
    nativeAsset: { symbol: "SOL", decimals: 9 },
    explorerTxUrl: null,
    pollIntervalMs: 200,
    rpcTimeoutMs: 5_000,
    tokens: [],
  },
};

/** Per-network overrides an operator may set in TESSERA_NETWORKS (JSON), e.g. {"Anvil":{"chainId":1337}}. */
const networkOverride = networkConfig.omit({ id: true, family: true, rpcUrls: true }).partial().strict().optional();
const overrides = z.object(Object.fromEntries(TRANSFER_NETWORKS.map((n) => [n, networkOverride])) as Record<NetworkId, typeof networkOverride>).strict();

/** The environment variables this module reads. */
export interface NetworkEnv {
  ETHEREUM_RPC_URL?: string;
  ETHEREUM_SEPOLIA_RPC_URL?: string;
  ANVIL_RPC_URL?: string;
  SOLANA_RPC_URL?: string;
  SOLANA_DEVNET_RPC_URL?: string;
  SOLANA_LOCAL_RPC_URL?: string;
  TESSERA_NETWORKS?: string;
}

export class NetworkConfigError extends Error {
  override name = "NetworkConfigError";
}

export type NetworkAvailability = { ok: true; config: NetworkConfig } | { ok: false; reason: string };

/**
 * Every EVM network with its validated configuration, or the reason it is unavailable here
 * (no RPC URL configured). Throws NetworkConfigError when the configuration itself is invalid.
 */
export function loadNetworks(env: NetworkEnv): Record<NetworkId, NetworkAvailability> {
  let extra: Record<string, unknown> = {};
  if (env.TESSERA_NETWORKS !== undefined && env.TESSERA_NETWORKS.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.TESSERA_NETWORKS);
    } catch {
      throw new NetworkConfigError("TESSERA_NETWORKS is not valid JSON");
    }
    const checked = overrides.safeParse(parsed);
    if (!checked.success) throw new NetworkConfigError(`TESSERA_NETWORKS: ${describe(checked.error)}`);
    extra = checked.data;
  }
  const out = {} as Record<NetworkId, NetworkAvailability>;
  for (const id of TRANSFER_NETWORKS) {
    const { rpcEnv, defaultRpcUrls, ...defaults } = DEFAULTS[id];
    const raw = (env as Record<string, string | undefined>)[rpcEnv];
    const rpcUrls = raw && raw.trim() !== "" ? raw.split(",").map((u) => u.trim()).filter((u) => u !== "") : defaultRpcUrls;
    if (rpcUrls.length === 0) {
      out[id] = { ok: false, reason: `Network ${id} is not configured in this deployment (set ${rpcEnv})` };
      continue;
    }
    const candidate = { ...defaults, ...(extra[id] as object | undefined), rpcUrls };
    const checked = networkConfig.safeParse(candidate);
    if (!checked.success) throw new NetworkConfigError(`${id} (${rpcEnv} / TESSERA_NETWORKS): ${describe(checked.error)}`);
    out[id] = { ok: true, config: checked.data };
  }
  return out;
}

/** The configuration of one network, or the reason it cannot be used. */
export function networkFor(env: NetworkEnv, network: string): NetworkAvailability {
  if (!(TRANSFER_NETWORKS as readonly string[]).includes(network)) return { ok: false, reason: `Network ${network} is not supported for transfers` };
  return loadNetworks(env)[network as NetworkId];
}

export function explorerLink(config: NetworkConfig, txHash: string): string | null {
  return config.explorerTxUrl ? config.explorerTxUrl.replaceAll("{txHash}", txHash) : null;
}

function describe(err: z.ZodError): string {
  const first = err.issues[0];
  if (!first) return "invalid";
  return `${first.path.length ? first.path.join(".") : "value"}: ${first.message}`;
}
