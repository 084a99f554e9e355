// Network configuration (zod-validated, per deployment) and the classification of nodes' refusals.
import { describe, expect, it } from "vitest";
import { classifyNodeError } from "../../worker/src/chains/evm/node-refusals.js";
import { EVM_NETWORKS, explorerLink, kebabOf, loadNetworks, networkFor, NetworkConfigError, networkFromKebab, rpcEnvOf } from "../../worker/src/networks/networks.js";

describe("networks", () => {
  it("defaults: Anvil on loopback, Ethereum and Sepolia unavailable until an RPC is configured", () => {
    const n = loadNetworks({});
    expect(n.Anvil).toMatchObject({ ok: true, config: { chainId: 31337, rpcUrls: ["http://127.0.0.1:8545"], confirmations: 1, nativeAsset: { symbol: "ETH", decimals: 18 } } });
    expect(n.Ethereum).toEqual({ ok: false, reason: "Network Ethereum is not configured in this deployment (set ETHEREUM_RPC_URL, or rpcUrls for Ethereum in TESSERA_NETWORKS)" });
    expect(networkFor({}, "Tron")).toEqual({ ok: false, reason: "Network Tron is not supported for transfers" });
    expect(networkFor({}, "Bitcoin")).toEqual({ ok: false, reason: "Network Bitcoin is not configured in this deployment (set BITCOIN_RPC_URL, or rpcUrls for Bitcoin in TESSERA_NETWORKS)" });
    expect(loadNetworks({ BITCOIN_REGTEST_RPC_URL: "http://u:p@127.0.0.1:18443" }).BitcoinRegtest).toMatchObject({ ok: true, config: { family: "bitcoin", nativeAsset: { symbol: "BTC", decimals: 8 }, confirmations: 1 } });
  });

  it("Solana: the local validator on loopback, mainnet and devnet once an RPC is configured; SPL mints as tokens", () => {
    const n = loadNetworks({ SOLANA_DEVNET_RPC_URL: "https://api.devnet.solana.com", TESSERA_NETWORKS: JSON.stringify({ SolanaDevnet: { tokens: [{ contract: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", symbol: "USDC", decimals: 6 }] } }) });
    expect(n.SolanaLocal).toMatchObject({ ok: true, config: { family: "solana", rpcUrls: ["http://127.0.0.1:8899"], confirmations: 1, nativeAsset: { symbol: "SOL", decimals: 9 } } });
    expect(n.Solana).toEqual({ ok: false, reason: "Network Solana is not configured in this deployment (set SOLANA_RPC_URL, or rpcUrls for Solana in TESSERA_NETWORKS)" });
    expect(n.SolanaDevnet).toMatchObject({ ok: true, config: { family: "solana", confirmations: 32, tokens: [{ symbol: "USDC" }] } });
    expect(explorerLink((n.SolanaDevnet as { config: Parameters<typeof explorerLink>[0] }).config, "5sig")).toBe("https://explorer.solana.com/tx/5sig?cluster=devnet");
  });

  it("a network no family handles is not a transfer network", () => {
    expect(networkFor({}, "Tron")).toEqual({ ok: false, reason: "Network Tron is not supported for transfers" });
  });

  it("every Dfns EVM network name is known; each transfers once it has an RPC, and says which setting it lacks", () => {
    for (const name of ["Bsc", "BscTestnet", "ArbitrumOne", "Base", "Optimism", "Polygon", "AvalancheC", "EthereumHolesky", "Sonic", "Celo"]) expect(EVM_NETWORKS).toContain(name);
    expect(rpcEnvOf("BscTestnet")).toBe("BSC_TESTNET_RPC_URL");
    expect(rpcEnvOf("AvalancheCFuji")).toBe("AVALANCHE_C_FUJI_RPC_URL");
    expect(networkFor({}, "Bsc")).toEqual({ ok: false, reason: "Network Bsc is not configured in this deployment (set BSC_RPC_URL, or rpcUrls for Bsc in TESSERA_NETWORKS)" });
    const env = { BSC_TESTNET_RPC_URL: "http://127.0.0.1:9", TESSERA_NETWORKS: JSON.stringify({ Base: { rpcUrls: ["https://base.example"] } }) } as Record<string, string>;
    expect(networkFor(env, "BscTestnet")).toMatchObject({ ok: true, config: { chainId: 97, nativeAsset: { symbol: "tBNB", decimals: 18 }, confirmations: 3 } });
    expect(networkFor(env, "Base")).toMatchObject({ ok: true, config: { chainId: 8453, rpcUrls: ["https://base.example"] } });
    // A Dfns name without a built-in chain id needs one from the operator.
    expect(networkFor({ TEMPO_RPC_URL: "https://tempo.example" } as Record<string, string>, "Tempo")).toEqual({ ok: false, reason: "Network Tempo has no built-in chain id: set chainId for Tempo in TESSERA_NETWORKS" });
    expect(networkFor({ TESSERA_NETWORKS: JSON.stringify({ Tempo: { chainId: 4217, rpcUrls: ["https://tempo.example"] } }) }, "Tempo")).toMatchObject({ ok: true, config: { chainId: 4217 } });
    expect(kebabOf("EthereumSepolia")).toBe("ethereum-sepolia");
    expect(networkFromKebab("bsc-testnet")).toBe("BscTestnet");
    expect(networkFromKebab("nope")).toBeNull();
  });

  it("RPC URLs from the environment (comma-separated, in order) and overrides from TESSERA_NETWORKS", () => {
    const n = loadNetworks({
      ETHEREUM_RPC_URL: "https://a.example/key1, https://b.example",
      TESSERA_NETWORKS: JSON.stringify({ Ethereum: { confirmations: 20, tokens: [{ contract: "0x" + "ab".repeat(20), symbol: "USDC", decimals: 6 }] } }),
    });
    expect(n.Ethereum).toMatchObject({ ok: true, config: { chainId: 1, rpcUrls: ["https://a.example/key1", "https://b.example"], confirmations: 20, tokens: [{ symbol: "USDC" }] } });
    const cfg = (n.Ethereum as { config: Parameters<typeof explorerLink>[0] }).config;
    expect(explorerLink(cfg, "0xabc")).toBe("https://etherscan.io/tx/0xabc");
  });

  it("refuses an invalid configuration with the field at fault", () => {
    expect(() => loadNetworks({ TESSERA_NETWORKS: "{not json" })).toThrow(new NetworkConfigError("TESSERA_NETWORKS is not valid JSON"));
    expect(() => loadNetworks({ TESSERA_NETWORKS: JSON.stringify({ Anvil: { confirmations: 0 } }) })).toThrow(/Anvil\.confirmations/);
    expect(() => loadNetworks({ TESSERA_NETWORKS: JSON.stringify({ Tron: {} }) })).toThrow(NetworkConfigError);
    expect(() => loadNetworks({ TESSERA_NETWORKS: JSON.stringify({ Solana: { family: "evm" } }) })).toThrow(NetworkConfigError);
    expect(() => loadNetworks({ TESSERA_NETWORKS: JSON.stringify({ Anvil: { rpcUrl: "http://x" } }) })).toThrow(NetworkConfigError);
    expect(() => loadNetworks({ ANVIL_RPC_URL: "ftp://127.0.0.1:1" })).toThrow(/Anvil \(ANVIL_RPC_URL \/ TESSERA_NETWORKS\): rpcUrls\.0: /);
  });
});

describe("what a node's refusal means", () => {
  it.each([
    ["already known", "already-known"],
    ["ALREADY_EXISTS: already known", "already-known"],
    ["nonce too low: next nonce 5, tx nonce 4", "nonce-used"],
    ["replacement transaction underpriced", "replacement-underpriced"],
    ["execution reverted: ERC20: transfer amount exceeds balance", "reverted"],
    ["insufficient funds for gas * price + value: balance 0", "insufficient-funds"],
    ["max fee per gas less than block base fee", "rejected"],
    ["intrinsic gas too low", "rejected"],
    ["header not found", "temporary"],
    ["rate limit exceeded", "temporary"],
  ] as const)("%s → %s", (message, kind) => {
    expect(classifyNodeError(message)).toBe(kind);
  });
  it("code 3 is a revert whatever the wording", () => {
    expect(classifyNodeError("VM Exception", 3)).toBe("reverted");
  });
});
