// The pure rules of a chain family that the share-holder nodes run (and the edge, to compute the
// same bytes): which keys a wallet on a network may use, what a user's transfer body means, and —
// the node's own check — that the transaction the edge built does exactly what that body says,
// from which the node computes the bytes it signs. No I/O: a node signs only what it derived itself
// from the user's signed words and the transaction in front of it.
import type { MpcScheme } from "../mpc/scheme.js";

export type JsonObject = { [key: string]: unknown };

/** A refusal with the reason a node reports (and the edge turns into a 400). */
export class IntentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntentError";
  }
}

/** What a node knows of the key asked to sign (from its keygen record). */
export interface SigningKeyView {
  scheme: MpcScheme;
  /** The group public key as the share holders returned it (hex); absent in old records. */
  publicKey?: string | null;
}

/** Per-deployment knowledge a family may need (EVM: chain ids of the networks it serves). */
export interface RulesContext {
  chainIdOf: (network: string) => number | undefined;
}

export interface TransferIntentView {
  network: string;
  /** The user's transfer body, as the family's `transferBody` normalized it. */
  transfer: JsonObject;
  /** The unsigned transaction the edge built (0x hex). */
  transaction: string;
  /** Which signature of a multi-signature transaction (Bitcoin: the input index). */
  index?: number | undefined;
}

export interface ChainRules {
  /** Does this family handle wallets on `network` (a Dfns network name)? */
  owns(network: string, ctx: RulesContext): boolean;
  /** The key schemes a wallet on `network` may use (the first is the default). */
  schemes(network: string): MpcScheme[];
  /** The user's POST /wallets/:id/transfers body → the fields that decide what is signed; throws IntentError. */
  transferBody(body: unknown, network: string): JsonObject;
  /** Checks the transaction against the transfer and returns the bytes this node signs; throws IntentError. */
  transferMessage(intent: TransferIntentView, key: SigningKeyView, ctx: RulesContext): Uint8Array;
  /**
   * The bytes to sign for a generateSignature body whose meaning depends on the chain (Bitcoin `Psbt`,
   * Solana `Transaction`); null when the body is not one of this family's (the generic kinds apply).
   */
  signatureMessage?(body: JsonObject, network: string, key: SigningKeyView, index?: number): Uint8Array | null;
  /**
   * For transactions that need several signatures (Bitcoin: one per input): what one user action
   * may sign — the node lets the action sign any number of messages with the same binding, and
   * nothing else. Without it, one user action signs exactly one message.
   */
  claimBinding?(transaction: string): string;
}
