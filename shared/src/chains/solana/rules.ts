// The Solana family's rules, as every share-holder node runs them (ChainRules, ../family.ts):
//
//   transfer       POST /wallets/:id/transfers {kind:"Native"|"Spl"|"Spl2022", to, amount, mint?,
//                  memo?, createDestinationAccount?} with the message the edge built → the node
//                  rebuilds the one message that body allows for this wallet (transfer.ts) and
//                  signs those bytes only
//   Transaction    POST /wallets/:id/signatures {kind:"Transaction", transaction: 0x<serialized
//                  transaction>} → the message inside it, which the wallet must be a signer of
//
// Solana signs the message bytes themselves (Ed25519, FROST here): there is no digest step and no
// chain id inside a message — the recent blockhash ties it to one cluster.
import { hexToBytes } from "@noble/hashes/utils.js";
import { IntentError, type ChainRules, type JsonObject } from "../family.js";
import { checkTransferMessage, normalizeSolanaTransfer, SolanaTransferError } from "./transfer.js";
import { addressOf, decodeTransaction, SolanaWireError, type SolanaTransaction } from "./wire.js";

export const isSolanaNetwork = (network: string): boolean => /^Solana/.test(network);

/** The wallet's address: the Ed25519 group key itself, base58. */
export function solanaAddressOf(publicKeyHex: string): string {
  const bytes = hexToBytes(publicKeyHex.startsWith("0x") ? publicKeyHex.slice(2) : publicKeyHex);
  if (bytes.length !== 32) throw new IntentError(`a Solana wallet's key is 32 bytes, got ${bytes.length}`);
  return addressOf(bytes);
}

const bytesOfHex = (hex: string, what: string): Uint8Array => {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new IntentError(`${what} must be 0x-prefixed hex`);
  return hexToBytes(hex.slice(2));
};

/** A caller's serialized transaction (signature slots + message), of which `signer` must be a required signer. */
export function parseCallerTransaction(hex: string, signer: string): SolanaTransaction {
  let tx: SolanaTransaction;
  try {
    tx = decodeTransaction(bytesOfHex(hex, "transaction"));
  } catch (e) {
    if (e instanceof SolanaWireError) throw new IntentError(`not a serialized Solana transaction: ${e.message}`);
    throw e;
  }
  const signers = tx.message.accountKeys.slice(0, tx.message.header.numRequiredSignatures);
  if (!signers.includes(signer)) throw new IntentError(`the wallet ${signer} is not a signer of this transaction (signers: ${signers.join(", ")})`);
  return tx;
}

export const solanaRules: ChainRules = {
  owns: (network) => isSolanaNetwork(network),

  schemes: () => ["frost-ed25519"],

  transferBody(body: unknown): JsonObject {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new IntentError("user's transfer request: not a JSON object");
    const b = body as Record<string, unknown>;
    if (b.useDurableNonce === true) throw new IntentError("durable-nonce transfers are not supported");
    try {
      return normalizeSolanaTransfer(b) as JsonObject;
    } catch (e) {
      if (e instanceof SolanaTransferError) throw new IntentError(`user's transfer request: ${e.message}`);
      throw e;
    }
  },

  transferMessage(intent, key) {
    if (key.scheme !== "frost-ed25519") throw new IntentError(`Solana transfers are signed with frost-ed25519, not ${key.scheme}`);
    if (!key.publicKey) throw new IntentError("the node has no public key recorded for this wallet, so it cannot tell the wallet's address");
    const wallet = solanaAddressOf(key.publicKey);
    const message = bytesOfHex(intent.transaction, "the transaction");
    try {
      checkTransferMessage(normalizeSolanaTransfer(intent.transfer), wallet, message);
    } catch (e) {
      if (e instanceof SolanaTransferError) throw new IntentError(e.message);
      throw e;
    }
    return message;
  },

  signatureMessage(body, _network, key) {
    if (body.kind !== "Transaction" || typeof body.transaction !== "string") return null;
    if (key.scheme !== "frost-ed25519") throw new IntentError(`Solana transactions are signed with frost-ed25519, not ${key.scheme}`);
    if (!key.publicKey) throw new IntentError("the node has no public key recorded for this wallet, so it cannot tell the wallet's address");
    return parseCallerTransaction(body.transaction, solanaAddressOf(key.publicKey)).messageBytes;
  },
};
