// The chains this deployment can reach. Every Dfns EVM network name is known here with its
// defaults (chain id, native asset, confirmations, explorer); a network becomes usable when an
// operator gives it RPC endpoints — `<NETWORK>_RPC_URL` (e.g. BSC_TESTNET_RPC_URL) or `rpcUrls`
// in TESSERA_NETWORKS — so one code base serves mainnets, testnets and local anvils without
// edits. Everything is validated with zod when read: a bad configuration is an operator error
// reported clearly, never a guess; a network without endpoints answers a 4xx naming the setting.
import { z } from "zod";
import { EVM_CHAINS, type EvmChainDefaults } from "../../../shared/src/dfns/evm-networks.js";

export { EVM_CHAINS };

export type EvmNetworkId = keyof typeof EVM_CHAINS;
export const EVM_NETWORKS = Object.keys(EVM_CHAINS) as [EvmNetworkId, ...EvmNetworkId[]];
export const isEvmNetwork = (network: string): network is EvmNetworkId => Object.hasOwn(EVM_CHAINS, network);
export const SOLANA_NETWORKS = ["Solana", "SolanaDevnet", "SolanaLocal"] as const;
export const BITCOIN_NETWORKS = ["Bitcoin", "BitcoinSignet", "BitcoinTestnet3", "BitcoinRegtest"] as const;
type OtherNetworkId = (typeof SOLANA_NETWORKS)[number] | (typeof BITCOIN_NETWORKS)[number];
/** Every network this deployment can move funds on, whatever its chain family. */
export const TRANSFER_NETWORKS = [...EVM_NETWORKS, ...SOLANA_NETWORKS, ...BITCOIN_NETWORKS] as [EvmNetworkId | OtherNetworkId, ...(EvmNetworkId | OtherNetworkId)[]];
export type NetworkId = (typeof TRANSFER_NETWORKS)[number];
const isTransferNetwork = (network: string): network is NetworkId => (TRANSFER_NETWORKS as readonly string[]).includes(network);

/** The environment variable holding a network's RPC URLs: EthereumSepolia → ETHEREUM_SEPOLIA_RPC_URL. */
export function rpcEnvOf(network: string): string {
  return `${network.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toUpperCase()}_RPC_URL`;
}

/** Dfns writes network names in kebab case in paths (/networks/ethereum-sepolia/…). */
export function networkFromKebab(segment: string): EvmNetworkId | null {
  const lowered = segment.toLowerCase();
  return EVM_NETWORKS.find((n) => kebabOf(n) === lowered || n.toLowerCase() === lowered) ?? null;
}
export function kebabOf(network: string): string {
  return network.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/([A-Z])([A-Z][a-z])/g, "$1-$2").toLowerCase();
}

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
  /** Blocks, counting the one that includes the transaction, before a transfer is Confirmed (and a deposit is reported). */
  confirmations: z.number().int().min(1).max(1000),
  nativeAsset: z.object({ symbol: z.string().min(1).max(16), decimals: z.number().int().min(0).max(36) }),
  /** `{txHash}` is replaced by the transaction hash; null when the chain has no public explorer. */
  explorerTxUrl: z.string().includes("{txHash}").nullable(),
  /** How often a broadcast transaction's receipt, and the chain's new blocks, are looked for. */
  pollIntervalMs: z.number().int().min(10).max(600_000),
  /** Per RPC request. */
  rpcTimeoutMs: z.number().int().min(100).max(120_000),
  tokens: z.array(knownToken).max(100),
});
export type NetworkConfig = z.infer<typeof networkConfig>;

/** Per-network settings an operator may give in TESSERA_NETWORKS (JSON), e.g. {"Bsc":{"rpcUrls":["https://…"]}}. */
const networkOverride = networkConfig.omit({ id: true, family: true }).partial().strict();

const overrides = z.record(z.string(), networkOverride).superRefine((v, ctx) => {
  for (const key of Object.keys(v)) if (!isTransferNetwork(key)) ctx.addIssue({ code: "custom", path: [key], message: `${key} is not a network this deployment can use (one of ${TRANSFER_NETWORKS.join(", ")})` });
});

/** The environment variables this module reads: TESSERA_NETWORKS and `<NETWORK>_RPC_URL` per network. */
export interface NetworkEnv {
  /** JSON per-network overrides, e.g. {"Anvil":{"chainId":1337,"confirmations":2}}. */
  TESSERA_NETWORKS?: string;
  /** The local chain's RPC (default http://127.0.0.1:8545). */
  ANVIL_RPC_URL?: string;
  /** JSON-RPC endpoints, comma-separated, tried in order. */
  ETHEREUM_RPC_URL?: string;
  ETHEREUM_SEPOLIA_RPC_URL?: string;
  SOLANA_RPC_URL?: string;
  SOLANA_DEVNET_RPC_URL?: string;
  SOLANA_LOCAL_RPC_URL?: string;
  /** Bitcoin node JSON-RPC, credentials in the URL; BitcoinRegtest is the local btcd. */
  BITCOIN_RPC_URL?: string;
  BITCOIN_SIGNET_RPC_URL?: string;
  BITCOIN_TESTNET3_RPC_URL?: string;
  BITCOIN_REGTEST_RPC_URL?: string;
}

export class NetworkConfigError extends Error {
  override name = "NetworkConfigError";
}

export type NetworkAvailability = { ok: true; config: NetworkConfig } | { ok: false; reason: string };

const DEFAULT_RPC: Partial<Record<NetworkId, string[]>> = { Anvil: ["http://127.0.0.1:8545"], SolanaLocal: ["http://127.0.0.1:8899"] };

type FamilyDefaults = Omit<NetworkConfig, "rpcUrls" | "id" | "tokens">;
type SolanaDefaults = FamilyDefaults;
// Solana counts commitment, not blocks: confirmations 1 = "confirmed" (a supermajority voted),
// more = "finalized" (rooted, about 32 slots later).
const SOLANA: Record<(typeof SOLANA_NETWORKS)[number], SolanaDefaults> = {
  Solana: { family: "solana", chainId: 0, confirmations: 32, nativeAsset: { symbol: "SOL", decimals: 9 }, explorerTxUrl: "https://explorer.solana.com/tx/{txHash}", pollIntervalMs: 2_000, rpcTimeoutMs: 10_000 },
  SolanaDevnet: {
    family: "solana",
    chainId: 0,
    confirmations: 32,
    nativeAsset: { symbol: "SOL", decimals: 9 },
    explorerTxUrl: "https://explorer.solana.com/tx/{txHash}?cluster=devnet",
    pollIntervalMs: 2_000,
    rpcTimeoutMs: 10_000,
  },
  // The local validator (scripts/solana-validator.ts), a new slot every 400 ms.
  SolanaLocal: { family: "solana", chainId: 0, confirmations: 1, nativeAsset: { symbol: "SOL", decimals: 9 }, explorerTxUrl: null, pollIntervalMs: 200, rpcTimeoutMs: 5_000 },
};

// Bitcoin: a node's JSON-RPC (btcd with --txindex --addrindex: an address's coins are found with
// searchrawtransactions), credentials in the URL (http://user:pass@host:port); amounts in satoshis.
const btc = (confirmations: number, explorerTxUrl: string | null, pollIntervalMs: number): FamilyDefaults => ({
  family: "bitcoin",
  chainId: 0,
  confirmations,
  nativeAsset: { symbol: "BTC", decimals: 8 },
  explorerTxUrl,
  pollIntervalMs,
  rpcTimeoutMs: 10_000,
});
const BITCOIN: Record<(typeof BITCOIN_NETWORKS)[number], FamilyDefaults> = {
  Bitcoin: btc(3, "https://mempool.space/tx/{txHash}", 30_000),
  BitcoinSignet: btc(1, "https://mempool.space/signet/tx/{txHash}", 10_000),
  BitcoinTestnet3: btc(1, "https://mempool.space/testnet/tx/{txHash}", 10_000),
  // The local regtest btcd of `npm start` and the tests (scripts/btcd/regtest.ts), mining by itself.
  BitcoinRegtest: btc(1, null, 200),
};

let parsedOverrides: { text: string; value: Record<string, z.infer<typeof networkOverride>> } | null = null;

function overridesOf(env: NetworkEnv): Record<string, z.infer<typeof networkOverride>> {
  const text = env.TESSERA_NETWORKS?.trim() ?? "";
  if (text === "") return {};
  if (parsedOverrides?.text === text) return parsedOverrides.value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NetworkConfigError("TESSERA_NETWORKS is not valid JSON");
  }
  const checked = overrides.safeParse(parsed);
  if (!checked.success) throw new NetworkConfigError(`TESSERA_NETWORKS: ${describe(checked.error)}`);
  parsedOverrides = { text, value: checked.data };
  return checked.data;
}

function load(env: NetworkEnv, id: NetworkId, extra: Record<string, z.infer<typeof networkOverride>>): NetworkAvailability {
  const rpcEnv = rpcEnvOf(id);
  const own = extra[id] ?? {};
  const raw = (env as Record<string, unknown>)[rpcEnv];
  const fromEnv = typeof raw === "string" && raw.trim() !== "" ? raw.split(",").map((u) => u.trim()).filter((u) => u !== "") : null;
  const rpcUrls = fromEnv ?? own.rpcUrls ?? DEFAULT_RPC[id] ?? [];
  if (rpcUrls.length === 0) {
    return { ok: false, reason: `Network ${id} is not configured in this deployment (set ${rpcEnv}, or rpcUrls for ${id} in TESSERA_NETWORKS)` };
  }
  if (!isEvmNetwork(id)) {
    const defaults = Object.hasOwn(BITCOIN, id) ? BITCOIN[id as (typeof BITCOIN_NETWORKS)[number]] : SOLANA[id as (typeof SOLANA_NETWORKS)[number]];
    const checked = networkConfig.safeParse({ id, ...defaults, tokens: [], ...own, rpcUrls });
    if (!checked.success) throw new NetworkConfigError(`${id} (${rpcEnv} / TESSERA_NETWORKS): ${describe(checked.error)}`);
    return { ok: true, config: checked.data };
  }
  const d: EvmChainDefaults = EVM_CHAINS[id];
  const chainId = own.chainId ?? d.chainId;
  if (chainId === null) return { ok: false, reason: `Network ${id} has no built-in chain id: set chainId for ${id} in TESSERA_NETWORKS` };
  const candidate = {
    id,
    family: "evm",
    chainId,
    confirmations: d.confirmations,
    nativeAsset: { symbol: d.native[0], decimals: d.native[1] ?? 18 },
    explorerTxUrl: d.explorer ?? null,
    pollIntervalMs: id === "Anvil" ? 200 : 4_000,
    rpcTimeoutMs: id === "Anvil" ? 5_000 : 10_000,
    tokens: [],
    ...own,
    rpcUrls,
  };
  const checked = networkConfig.safeParse(candidate);
  if (!checked.success) throw new NetworkConfigError(`${id} (${rpcEnv} / TESSERA_NETWORKS): ${describe(checked.error)}`);
  return { ok: true, config: checked.data };
}

/**
 * Every EVM network with its validated configuration, or the reason it is unavailable here.
 * Throws NetworkConfigError when the configuration itself is invalid.
 */
export function loadNetworks(env: NetworkEnv): Record<NetworkId, NetworkAvailability> {
  const extra = overridesOf(env);
  const out = {} as Record<NetworkId, NetworkAvailability>;
  for (const id of TRANSFER_NETWORKS) out[id] = load(env, id, extra);
  return out;
}

/** The networks that can be used now (an RPC configured). */
export function configuredNetworks(env: NetworkEnv): NetworkConfig[] {
  return Object.values(loadNetworks(env)).flatMap((n) => (n.ok ? [n.config] : []));
}

/** The configuration of one network, or the reason it cannot be used. */
export function networkFor(env: NetworkEnv, network: string): NetworkAvailability {
  if (!isTransferNetwork(network)) return { ok: false, reason: `Network ${network} is not supported for transfers` };
  return load(env, network, overridesOf(env));
}

export function explorerLink(config: NetworkConfig, txHash: string): string | null {
  return config.explorerTxUrl ? config.explorerTxUrl.replaceAll("{txHash}", txHash) : null;
}

function describe(err: z.ZodError): string {
  const first = err.issues[0];
  if (!first) return "invalid";
  return `${first.path.length ? first.path.join(".") : "value"}: ${first.message}`;
}
