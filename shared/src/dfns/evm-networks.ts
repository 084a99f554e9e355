// Every EVM network name Dfns accepts, with what is fixed about it: chain id, native asset, how
// many blocks make a transaction final, the public explorer. The edge builds transactions for these
// chain ids and the share-holder nodes check transactions against the same table (intent.ts), so
// both sides agree on which chain a network name means. Operators may add chain ids the table lacks
// (TESSERA_NETWORKS at the edge, evmChainIds in a node's configuration).

export interface EvmChainDefaults {
  /** null: Dfns knows the network but its chain id is not built in — the operator must give it. */
  chainId: number | null;
  native: [symbol: string, decimals?: number];
  confirmations: number;
  /** `{txHash}` is replaced by the transaction hash. */
  explorer?: string;
}

const main = (chainId: number | null, symbol: string, confirmations = 12, explorer?: string): EvmChainDefaults => ({
  chainId,
  native: [symbol],
  confirmations,
  ...(explorer ? { explorer } : {}),
});
const test = (chainId: number | null, symbol: string, explorer?: string): EvmChainDefaults => main(chainId, symbol, 3, explorer);

/**
 * Every EVM network name Dfns accepts (@dfns/sdk 0.8.21, networks/types.d.ts), plus the local Anvil.
 * Mainstream chains carry their chain id; the others need `chainId` in TESSERA_NETWORKS.
 */
export const EVM_CHAINS = {
  Ethereum: main(1, "ETH", 12, "https://etherscan.io/tx/{txHash}"),
  EthereumSepolia: test(11155111, "SEP", "https://sepolia.etherscan.io/tx/{txHash}"),
  EthereumHolesky: test(17000, "ETH", "https://holesky.etherscan.io/tx/{txHash}"),
  EthereumHoodi: test(560048, "ETH", "https://hoodi.etherscan.io/tx/{txHash}"),
  EthereumGoerli: test(5, "ETH"),
  EthereumClassic: main(61, "ETC", 40),
  EthereumClassicMordor: test(63, "METC"),
  ArbitrumOne: main(42161, "ETH", 12, "https://arbiscan.io/tx/{txHash}"),
  ArbitrumSepolia: test(421614, "ETH", "https://sepolia.arbiscan.io/tx/{txHash}"),
  ArbitrumGoerli: test(421613, "ETH"),
  Base: main(8453, "ETH", 12, "https://basescan.org/tx/{txHash}"),
  BaseSepolia: test(84532, "ETH", "https://sepolia.basescan.org/tx/{txHash}"),
  BaseGoerli: test(84531, "ETH"),
  Optimism: main(10, "ETH", 12, "https://optimistic.etherscan.io/tx/{txHash}"),
  OptimismSepolia: test(11155420, "ETH", "https://sepolia-optimism.etherscan.io/tx/{txHash}"),
  OptimismGoerli: test(420, "ETH"),
  Polygon: main(137, "POL", 64, "https://polygonscan.com/tx/{txHash}"),
  PolygonAmoy: test(80002, "POL", "https://amoy.polygonscan.com/tx/{txHash}"),
  PolygonMumbai: test(80001, "MATIC"),
  Bsc: main(56, "BNB", 15, "https://bscscan.com/tx/{txHash}"),
  BscTestnet: test(97, "tBNB", "https://testnet.bscscan.com/tx/{txHash}"),
  AvalancheC: main(43114, "AVAX", 1, "https://snowtrace.io/tx/{txHash}"),
  AvalancheCFuji: test(43113, "AVAX", "https://testnet.snowtrace.io/tx/{txHash}"),
  Celo: main(42220, "CELO", 12, "https://celoscan.io/tx/{txHash}"),
  CeloAlfajores: test(44787, "CELO"),
  FantomOpera: main(250, "FTM", 12, "https://ftmscan.com/tx/{txHash}"),
  FantomTestnet: test(4002, "FTM"),
  Sonic: main(146, "S", 12, "https://sonicscan.org/tx/{txHash}"),
  SonicTestnet: test(57054, "S"),
  Berachain: main(80094, "BERA", 12, "https://berascan.com/tx/{txHash}"),
  BerachainBepolia: test(80069, "BERA"),
  BerachainBArtio: test(80084, "BERA"),
  Ink: main(57073, "ETH"),
  InkSepolia: test(763373, "ETH"),
  Bob: main(60808, "ETH"),
  BobSepolia: test(808813, "ETH"),
  FlareC: main(14, "FLR"),
  FlareCCoston2: test(114, "C2FLR"),
  FlowEvm: main(747, "FLOW"),
  FlowEvmTestnet: test(545, "FLOW"),
  Plume: main(98866, "PLUME"),
  PlumeSepolia: test(98867, "PLUME"),
  Plasma: main(9745, "XPL"),
  PlasmaTestnet: test(9746, "XPL"),
  Race: main(6805, "ETH"),
  RaceSepolia: test(6806, "ETH"),
  Xdc: main(50, "XDC"),
  XdcApothem: test(51, "TXDC"),
  XLayer: main(196, "OKB"),
  XLayerSepolia: test(null, "OKB"),
  Adi: main(null, "ADI"),
  AdiTestnet: test(null, "ADI"),
  AdiTestnetAb: test(null, "ADI"),
  ArcTestnet: test(null, "USDC"),
  Areum: main(null, "AREUM"),
  BesuTestnet: test(null, "ETH"),
  Codex: main(null, "ETH"),
  CodexSepolia: test(null, "ETH"),
  Tempo: main(null, "USD"),
  TempoAndantino: test(null, "USD"),
  TempoModerato: test(null, "USD"),
  Tsc: main(null, "TSC"),
  TscTestnet1: test(null, "TSC"),
  // A local development chain (anvil's default chain id). Automine makes every transaction a block.
  Anvil: { chainId: 31337, native: ["ETH"], confirmations: 1 },
} as const satisfies Record<string, EvmChainDefaults>;

export type EvmNetworkName = keyof typeof EVM_CHAINS;

/** Chain id by network name, for the networks whose chain id is built in. */
export const EVM_CHAIN_ID_DEFAULTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(EVM_CHAINS as Record<string, EvmChainDefaults>).flatMap(([name, c]) => (c.chainId === null ? [] : [[name, c.chainId]])),
);
