// The Solana chain family at the edge (ChainFamily, ../family.ts): a transfer body → what moves
// (SOL in lamports, 9 decimals; an SPL token in its mint's decimals, read from the mint account),
// caller-built transactions, balances (SOL + every token account the wallet owns), and the
// transfer logic (transfers.ts).
import { hexToBytes } from "@noble/hashes/utils.js";
import { parseMint, TOKEN_PROGRAM, TOKEN_PROGRAM_OF, TOKEN_2022_PROGRAM } from "../../../../shared/src/chains/solana/programs.js";
import { parseCallerTransaction } from "../../../../shared/src/chains/solana/rules.js";
import { normalizeSolanaTransfer, SolanaTransferError } from "../../../../shared/src/chains/solana/transfer.js";
import { isSolanaAddress } from "../../../../shared/src/chains/solana/wire.js";
import { IntentError } from "../../../../shared/src/chains/family.js";
import type { BroadcastBody, TransferBody } from "../../broadcast/wire.js";
import { ApiError } from "../../http/errors.js";
import type { NetworkConfig } from "../../networks/networks.js";
import type { AssetBalance, ChainFamily, PreparedRequest } from "../family.js";
import { RpcError, SolanaRpc } from "./rpc.js";
import { SolanaTransfers } from "./transfers.js";

const SOL_DECIMALS = 9;

/** Decimals and a symbol for a mint: the network's configured token, else the mint account itself. */
async function mintInfo(network: NetworkConfig, mint: string, tokenProgram: string): Promise<{ symbol: string; decimals: number; verified: boolean }> {
  const known = network.tokens.find((t) => t.contract === mint);
  let account;
  try {
    account = await new SolanaRpc(network).account(mint);
  } catch (err) {
    if (err instanceof RpcError && !err.isNodeError) throw new ApiError(503, `Cannot read mint ${mint}: ${err.message}`);
    throw err;
  }
  const parsed = account && account.owner === tokenProgram ? parseMint(account.data) : null;
  if (!parsed?.initialized) throw new ApiError(400, `Invalid request: mint: ${mint} is not a ${tokenProgram === TOKEN_PROGRAM ? "SPL Token" : "Token-2022"} mint on ${network.id}`);
  // The chain's decimals decide the amount; a configured entry only names the token.
  return { symbol: known?.symbol ?? `${mint.slice(0, 4)}…${mint.slice(-4)}`, decimals: parsed.decimals, verified: known !== undefined };
}

export const solanaFamily: ChainFamily = {
  name: "solana",

  isAddress: isSolanaAddress,

  async prepareTransfer(network, wallet, body: TransferBody): Promise<PreparedRequest> {
    const raw = body as Record<string, unknown>;
    if (raw.kind !== "Native" && raw.kind !== "Spl" && raw.kind !== "Spl2022") {
      throw new ApiError(400, `Invalid request: kind: ${String(raw.kind)} transfers are not possible on ${network.id} (Native, Spl, Spl2022)`);
    }
    if (raw.useDurableNonce === true) throw new ApiError(400, "Invalid request: useDurableNonce: durable-nonce transfers are not supported");
    let transfer;
    try {
      transfer = normalizeSolanaTransfer(raw);
    } catch (e) {
      if (e instanceof SolanaTransferError) throw new ApiError(400, `Invalid request: ${e.message}`);
      throw e;
    }
    if (transfer.to === wallet.address) throw new ApiError(400, "Invalid request: to: a wallet cannot transfer to itself");
    const common = { kind: "Transfer" as const, priority: "Standard" as const, externalId: (raw.externalId as string | undefined) ?? null, amount: transfer.amount, to: transfer.to };
    if (transfer.kind === "Native") {
      return { ...common, call: { to: transfer.to, value: BigInt(transfer.amount), data: "0x" }, asset: { ...network.nativeAsset, verified: true } };
    }
    const token = await mintInfo(network, transfer.mint, TOKEN_PROGRAM_OF[transfer.kind]);
    return { ...common, call: { to: transfer.to, value: BigInt(transfer.amount), data: "0x" }, asset: { symbol: token.symbol, decimals: token.decimals, contract: transfer.mint, verified: token.verified } };
  },

  /**
   * A caller-built transaction (`kind: "Transaction"`, the serialized transaction as 0x hex, its
   * signature slots included) is signed exactly as given in the wallet's slot and broadcast.
   */
  prepareTransaction(network, wallet, body: BroadcastBody): PreparedRequest {
    if (body.kind !== "Transaction") throw new ApiError(400, `Invalid request: kind: ${body.kind} is not supported on ${network.id}; send kind Transaction with a serialized Solana transaction`);
    let tx;
    try {
      tx = parseCallerTransaction(body.transaction, wallet.address);
    } catch (e) {
      if (e instanceof IntentError) throw new ApiError(400, `Invalid request: transaction: ${e.message}`);
      throw e;
    }
    // Broadcast needs every signature: the wallet adds its own, the fee payer's must be there (its id).
    const missing = tx.message.accountKeys.filter((k, i) => i < tx.message.header.numRequiredSignatures && k !== wallet.address && tx.signatures[i]!.every((b) => b === 0));
    if (missing.length) throw new ApiError(400, `Invalid request: transaction: not signed yet by ${missing.join(", ")}; only the wallet's signature can be added here`);
    const bytes = hexToBytes(body.transaction.slice(2));
    if (bytes.length > 1232) throw new ApiError(400, `Invalid request: transaction: ${bytes.length} bytes, more than a Solana packet (1232)`);
    return {
      kind: "Transaction",
      call: { to: wallet.address, value: 0n, data: "0x" },
      unsignedTransaction: body.transaction,
      priority: "Standard",
      asset: { ...network.nativeAsset, verified: true },
      externalId: body.externalId ?? null,
      // What a raw transaction moves is the program's business: no amount, so amount rules trigger.
      to: wallet.address,
    };
  },

  async balances(network, wallet): Promise<AssetBalance[]> {
    const rpc = new SolanaRpc(network);
    const [lamports, classic, t22] = await Promise.all([rpc.balance(wallet.address!), rpc.tokenAccounts(wallet.address!, TOKEN_PROGRAM), rpc.tokenAccounts(wallet.address!, TOKEN_2022_PROGRAM)]);
    const tokens = [...classic.map((a) => ({ ...a, kind: "Spl" })), ...t22.map((a) => ({ ...a, kind: "Spl2022" }))].map((a) => {
      const known = network.tokens.find((t) => t.contract === a.mint);
      return { kind: a.kind, mint: a.mint, symbol: known?.symbol ?? `${a.mint.slice(0, 4)}…${a.mint.slice(-4)}`, decimals: a.decimals, balance: a.amount, verified: known !== undefined };
    });
    return [{ kind: "Native", symbol: network.nativeAsset.symbol, decimals: SOL_DECIMALS, balance: lamports.toString(), verified: true }, ...tokens];
  },

  transfers: () => (ctx) => new SolanaTransfers(ctx),
};
