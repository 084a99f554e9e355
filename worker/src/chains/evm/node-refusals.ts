// What an EVM node's JSON-RPC error message means for a transaction. Nodes (geth, reth, erigon,
// anvil, hosted RPCs) word these differently; the patterns below cover the common spellings.
// Anything unrecognised is treated as temporary: retrying the same signed bytes is always safe,
// giving up on a transaction that might still be mined is not.
export type NodeRefusal =
  /** The node already has this exact transaction. */
  | "already-known"
  /** The nonce is used (by this transaction, mined, or by another one). */
  | "nonce-used"
  /** Another transaction with this nonce is in the pool and pays more. */
  | "replacement-underpriced"
  /** Executing the call reverts (estimation or eth_call). */
  | "reverted"
  /** The wallet cannot pay value + gas. */
  | "insufficient-funds"
  /** The node will never accept these bytes (bad gas, chain id, type, size, fee cap). */
  | "rejected"
  | "temporary";

const PATTERNS: [RegExp, NodeRefusal][] = [
  [/already known|known transaction|already imported|alreadyknown|transaction already exists|already in (the )?(mem)?pool/i, "already-known"],
  [/nonce too low|nonce has already been used|noncetoolow|invalid nonce|old nonce/i, "nonce-used"],
  [/replacement transaction underpriced|replacement.*underpriced|underpriced replacement/i, "replacement-underpriced"],
  [/revert/i, "reverted"],
  [/insufficient funds|insufficient balance|lack of funds/i, "insufficient-funds"],
  [
    /intrinsic gas too low|exceeds block gas limit|gas limit reached|invalid sender|invalid signature|chain ?id|transaction type not supported|tx type not supported|oversized data|max fee per gas less than block base fee|fee cap less than block base fee|max priority fee per gas higher than max fee per gas|tip above fee cap|fee cap too low|gas uint64 overflow|exceeds the configured cap/i,
    "rejected",
  ],
];

export function classifyNodeError(message: string, code?: number): NodeRefusal {
  for (const [re, kind] of PATTERNS) if (re.test(message)) return kind;
  // geth and anvil use code 3 for execution reverted (with revert data).
  if (code === 3) return "reverted";
  return "temporary";
}
