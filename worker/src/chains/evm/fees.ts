// EIP-1559 fees from the node's recent history: the tip is a percentile of what recent blocks
// paid (by priority), and the fee cap leaves room for the base fee to double — six full blocks in
// a row — so a signed transaction stays includable without being re-signed.
import { feeHistorySchema, hexQuantity, type EvmRpc } from "../../networks/evm-rpc.js";

export type Priority = "Slow" | "Standard" | "Fast";

const PERCENTILE: Record<Priority, number> = { Slow: 10, Standard: 50, Fast: 90 };
const PERCENTILES = [PERCENTILE.Slow, PERCENTILE.Standard, PERCENTILE.Fast];
const HISTORY_BLOCKS = 10;

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export async function estimateFees(rpc: EvmRpc, priority: Priority): Promise<Fees> {
  const history = await rpc.call("eth_feeHistory", [`0x${HISTORY_BLOCKS.toString(16)}`, "latest", PERCENTILES], feeHistorySchema);
  // The last entry is the base fee of the next block.
  const nextBaseFee = history.baseFeePerGas[history.baseFeePerGas.length - 1]!;
  const column = PERCENTILES.indexOf(PERCENTILE[priority]);
  const paid = (history.reward ?? []).map((row) => row[column]).filter((v): v is bigint => v !== undefined && v > 0n);
  let tip = median(paid);
  if (tip === null) {
    // Empty recent blocks (a quiet testnet, a local chain): ask the node for its suggestion.
    const suggested = await rpc.call("eth_maxPriorityFeePerGas", [], hexQuantity);
    tip = priority === "Fast" ? suggested * 2n : priority === "Slow" ? suggested / 2n : suggested;
  }
  if (tip < 1n) tip = 1n;
  return { maxPriorityFeePerGas: tip, maxFeePerGas: nextBaseFee * 2n + tip };
}

function median(values: bigint[]): bigint | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor(sorted.length / 2)]!;
}
