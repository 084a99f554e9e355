// What a signature is *for*, and the bytes that follow from it. The edge uses this module to turn
// a user's request into the message the share holders sign; every share holder runs the same code
// on the body the user signed (the payload inside the user's UserActionEvidence), so a node signs
// only bytes it derived itself from the user's own words — never bytes the edge merely claims.
//
//   intent        user body (Dfns wire format)                 bytes signed (ECDSA / FROST)
//   Hash          POST …/signatures {kind:"Hash", hash}         the 32-byte hash / the hash bytes
//   Message       POST …/signatures {kind:"Message", message}   EIP-191 hashMessage(raw) / raw bytes
//   Transaction   POST …/signatures|transactions                keccak256(unsigned serialized EVM tx);
//                 {kind:"Transaction", transaction: 0x…}        for a family with its own format (Solana)
//                                                               what its rules say (the message inside)
//   Eip712        POST …/signatures {kind:"Eip712", types,      viem hashTypedData (primary type derived
//                 domain, message}                              as ethers does: the unreferenced type)
//   Eip191        POST …/signatures {kind:"Eip191", message}    hashMessage(raw) ("\x19Ethereum Signed Message:\n")
//   Eip7702       POST …/signatures {kind:"Eip7702", address,   keccak256(0x05 || rlp([chainId, address, nonce]))
//                 nonce, chainId}
//   EvmCall       POST …/transactions {kind:"Evm"|"Eip1559",    keccak256(unsigned EVM tx the edge built), after
//                 to, value?, data?, gasLimit?, fees?}          checking it makes exactly that call
//   NonceFill     (the user action of a request whose nonce     keccak256 of a 21000-gas zero-value transfer from
//                 was left unused)                              the wallet to itself; once per user action
//   Replacement   POST …/transfers|transactions/:id/            keccak256 of the replacement, at the nonce of the
//                 speed-up|cancel                               original the user's request created and the key signed
//   Transfer      POST /wallets/:id/transfers                   what the wallet's chain family says, after
//                 {kind:"Native"|"Erc20"|…, to, amount, …}      checking the transaction the edge built does
//                                                               exactly what the body says (shared/src/chains)
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { getAddress, hashMessage, hashTypedData, isAddress, keccak256, type Hex, type TypedDataDefinition } from "viem";
import { hashAuthorization } from "viem/utils";
import { z } from "zod";
import { EVM_CHAIN_IDS, unsignedEvmTransaction, checkTransferTransaction as checkEvmTransfer, type EvmTransferBody } from "../chains/evm/rules.js";
import { IntentError, type SigningKeyView } from "../chains/family.js";
import { rulesFor } from "../chains/index.js";
import { checkCallTransaction, checkChain, checkReplacement, checkSelfTransfer, evmAddressOfKey, signedByKey, type EvmCallBody } from "../chains/evm/calls.js";
import { bitcoinRules } from "../chains/bitcoin/rules.js";
import { canonicalJson } from "./canonical-json.js";
import { dfnsSchemeOf, type MpcScheme } from "./scheme.js";

export { EVM_CHAIN_IDS, IntentError };

// ------------------------------------------------------------------ formats

// Dfns writes bytes as 0x-prefixed hex; anything else is refused rather than guessed at.
const hexData = z
  .string()
  .max(2 * 128 * 1024 + 2)
  .regex(/^0x([0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex bytes");
const typedDataField = z.strictObject({ name: z.string().min(1).max(256), type: z.string().min(1).max(256) });
const typedDataTypes = z.record(z.string().min(1).max(256), z.array(typedDataField).max(256));
const jsonObject = z.record(z.string(), z.json());
const address = z.string().refine((a) => isAddress(a, { strict: false }), "must be an EVM address");
const amount = z.string().regex(/^[0-9]{1,78}$/, "must be a decimal integer in the asset's smallest unit");
const safeInt = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

// The intents an authorization may carry (exact fields, nothing else).
const hashIntent = z.strictObject({ kind: z.literal("Hash"), hash: hexData });
const messageIntent = z.strictObject({ kind: z.literal("Message"), message: hexData });
const transactionIntent = z.strictObject({ kind: z.literal("Transaction"), transaction: hexData });
/** Bitcoin: the wallet's input `index` of the caller's PSBT. */
const psbtIntent = z.strictObject({ kind: z.literal("Psbt"), psbt: hexData, index: z.int().min(0).max(65_535).optional() });
const eip712Intent = z.strictObject({ kind: z.literal("Eip712"), types: typedDataTypes, domain: jsonObject, message: jsonObject });
// The transfer body is the chain family's normalized copy of the user's body (checked by the family).
const transferIntent = z.strictObject({
  kind: z.literal("Transfer"),
  network: z.string().min(1).max(64),
  transfer: jsonObject,
  transaction: hexData,
  /** Which signature of a multi-signature transaction (Bitcoin: the input). */
  index: z.int().min(0).max(65_535).optional(),
});

const eip191Intent = z.strictObject({ kind: z.literal("Eip191"), message: hexData });
const eip7702Intent = z.strictObject({ kind: z.literal("Eip7702"), address, nonce: safeInt, chainId: safeInt });
const network = z.string().min(1).max(64);
const evmCallBody = z.strictObject({
  kind: z.enum(["Evm", "Eip1559"]),
  to: address,
  value: amount,
  data: hexData,
  gasLimit: amount.optional(),
  maxFeePerGas: amount.optional(),
  maxPriorityFeePerGas: amount.optional(),
});
const evmCallIntent = z.strictObject({ kind: z.literal("EvmCall"), network, call: evmCallBody, transaction: hexData });
const nonceFillIntent = z.strictObject({ kind: z.literal("NonceFill"), network, transaction: hexData });
const ecdsaSignature = z.strictObject({ r: z.string().regex(/^0x[0-9a-fA-F]{64}$/), s: z.string().regex(/^0x[0-9a-fA-F]{64}$/), yParity: z.union([z.literal(0), z.literal(1)]) });
/**
 * Speed-up (the same call, higher fees) or cancel (a zero-value transfer to the wallet itself) of a
 * request that has not confirmed, at the nonce of the request's first signed transaction: the
 * original request's user action, the intent it was signed under and that signature prove which
 * nonce that is, so a replacement can only ever take the original's place, never add a payment.
 * `original.userAction` is checked as the user's evidence by authorization.ts.
 */
const replacementIntent = z.strictObject({
  kind: z.literal("Replacement"),
  network,
  mode: z.enum(["SpeedUp", "Cancel"]),
  original: z.strictObject({
    userAction: z.record(z.string(), z.unknown()),
    intent: z.discriminatedUnion("kind", [transferIntent, evmCallIntent, transactionIntent]),
    signature: ecdsaSignature,
  }),
  transaction: hexData,
});

export const signingIntent = z.discriminatedUnion("kind", [
  hashIntent,
  messageIntent,
  transactionIntent,
  eip712Intent,
  eip191Intent,
  eip7702Intent,
  transferIntent,
  evmCallIntent,
  nonceFillIntent,
  replacementIntent,
  psbtIntent,
]);
export type ReplacementIntent = z.infer<typeof replacementIntent>;
export type { EvmCallBody };
export type SigningIntent = z.infer<typeof signingIntent>;
export type TransferBody = EvmTransferBody;

// The user bodies as the Dfns SDK sends them. Unknown extra fields (network, externalId,
// blockchainKind) are tolerated; fields that would change what is signed are refused below.
const signatureBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("Hash"), hash: hexData, taprootMerkleRoot: z.undefined({ message: "taproot tweaks are not supported" }).optional() }),
  z.object({ kind: z.literal("Message"), message: hexData }),
  z.object({ kind: z.literal("Transaction"), transaction: hexData }),
  z.object({ kind: z.literal("Eip712"), types: typedDataTypes, domain: jsonObject, message: jsonObject }),
  z.object({ kind: z.literal("Eip191"), message: hexData }),
  z.object({ kind: z.literal("Eip7702"), address, nonce: safeInt, chainId: safeInt }),
  z.object({ kind: z.literal("Psbt"), psbt: hexData }),
]);
const evmCallRequestBody = z.object({
  kind: z.enum(["Evm", "Eip1559"]),
  to: address,
  value: amount.optional(),
  data: hexData.optional(),
  gasLimit: amount.optional(),
  maxFeePerGas: amount.optional(),
  maxPriorityFeePerGas: amount.optional(),
});

/** The user's Evm / Eip1559 body in the one form nodes and edge compare (absent value 0, data 0x). */
export function normalizeEvmCall(body: z.infer<typeof evmCallRequestBody>): EvmCallBody {
  return {
    kind: body.kind,
    to: body.to,
    value: body.value ?? "0",
    data: (body.data ?? "0x").toLowerCase(),
    ...(body.gasLimit !== undefined ? { gasLimit: body.gasLimit } : {}),
    ...(body.kind === "Eip1559" && body.maxFeePerGas !== undefined ? { maxFeePerGas: body.maxFeePerGas } : {}),
    ...(body.kind === "Eip1559" && body.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: body.maxPriorityFeePerGas } : {}),
  };
}

/** The id of a transfer or transaction request, derived from the user action that created it. */
export function requestIdOf(collection: "transfers" | "transactions", challenge: string): string {
  return `${collection === "transfers" ? "xfr" : "tx"}-${bytesToHex(sha256(new TextEncoder().encode(`tessera.request-id.v1\n${challenge}`))).slice(0, 26)}`;
}

const createWalletBody = z.object({ network: z.string().min(1).max(64) });
const createKeyBody = z.object({ scheme: z.enum(["ECDSA", "EdDSA", "Schnorr"]), curve: z.enum(["secp256k1", "ed25519"]) });

// ------------------------------------------------------------------ networks

export type ChainIdOf = (network: string) => number | undefined;
export const defaultChainIdOf: ChainIdOf = (network) => (Object.hasOwn(EVM_CHAIN_IDS, network) ? EVM_CHAIN_IDS[network] : undefined);

/** Which schemes a wallet on `network` may use; null when the network is not one we know. */
function schemesForNetwork(network: string, chainIdOf: ChainIdOf): MpcScheme[] | null {
  const family = rulesFor(network, { chainIdOf });
  if (family) return family.schemes(network);
  if (network === "KeyECDSA") return ["ecdsa-secp256k1"];
  if (network === "KeyEdDSA" || /^Solana/.test(network) || /^Aptos/.test(network) || /^Sui/.test(network)) return ["frost-ed25519"];
  if (/^Bitcoin/.test(network)) return ["ecdsa-secp256k1", "frost-bip340"];
  return null;
}

// ------------------------------------------------------------------ user requests

export type IntentCheck<T> = ({ ok: true } & T) | { ok: false; reason: string };

/** The resource a user action names, from its path. */
export type UserTarget =
  | { kind: "wallet"; walletId: string; action: "signatures" | "transfers" | "transactions" }
  | { kind: "wallet"; walletId: string; action: "replace"; collection: "transfers" | "transactions"; requestId: string; mode: "SpeedUp" | "Cancel" }
  | { kind: "key"; keyId: string; action: "signatures" }
  | { kind: "create-wallet" }
  | { kind: "create-key" };

const idSegment = "([A-Za-z0-9._~-]{1,128})";
const routes: [RegExp, (m: RegExpExecArray) => UserTarget][] = [
  [new RegExp(`^/wallets/${idSegment}/(signatures|transfers|transactions)$`), (m) => ({ kind: "wallet", walletId: m[1]!, action: m[2] as "signatures" })],
  [
    new RegExp(`^/wallets/${idSegment}/(transfers|transactions)/${idSegment}/(speed-up|cancel)$`),
    (m) => ({ kind: "wallet", walletId: m[1]!, action: "replace", collection: m[2] as "transfers", requestId: m[3]!, mode: m[4] === "cancel" ? "Cancel" : "SpeedUp" }),
  ],
  [new RegExp(`^/keys/${idSegment}/signatures$`), (m) => ({ kind: "key", keyId: m[1]!, action: "signatures" })],
  [/^\/wallets$/, () => ({ kind: "create-wallet" })],
  [/^\/keys$/, () => ({ kind: "create-key" })],
];

export function userTargetOf(method: string, path: string): UserTarget | null {
  if (method !== "POST") return null;
  for (const [re, build] of routes) {
    const m = re.exec(path);
    if (m) return build(m);
  }
  return null;
}

function parseJson(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

/**
 * A keygen's user action: `POST /wallets {network}` or `POST /keys {scheme, curve}`, consistent
 * with the scheme the authorization asks for. Returns the wallet's network, which the node records
 * so later transfers are checked against the chain the user chose.
 */
export function checkKeygenRequest(
  action: { method: string; path: string; payload: string },
  scheme: MpcScheme,
  chainIdOf: ChainIdOf = defaultChainIdOf,
): IntentCheck<{ target: "wallet" | "key"; network?: string }> {
  const target = userTargetOf(action.method, action.path);
  const body = parseJson(action.payload);
  if (target?.kind === "create-wallet") {
    const parsed = createWalletBody.safeParse(body);
    if (!parsed.success) return { ok: false, reason: `user's wallet request: ${issues(parsed.error)}` };
    const allowed = schemesForNetwork(parsed.data.network, chainIdOf);
    if (allowed && !allowed.includes(scheme)) return { ok: false, reason: `a ${parsed.data.network} wallet cannot use ${scheme}` };
    return { ok: true, target: "wallet", network: parsed.data.network };
  }
  if (target?.kind === "create-key") {
    const parsed = createKeyBody.safeParse(body);
    if (!parsed.success) return { ok: false, reason: `user's key request: ${issues(parsed.error)}` };
    const wanted = dfnsSchemeOf(scheme);
    if (parsed.data.scheme !== wanted.scheme || parsed.data.curve !== wanted.curve) {
      return { ok: false, reason: `the user asked for a ${parsed.data.scheme}/${parsed.data.curve} key, not ${scheme}` };
    }
    return { ok: true, target: "key" };
  }
  return { ok: false, reason: `the user action (${action.method} ${action.path}) does not create a wallet or key` };
}

const walletOnKeyBody = z.object({ network: z.string().min(1).max(64), signingKey: z.object({ id: z.string().min(1).max(128) }) });

/**
 * The id of a wallet created on an existing key, derived from the user's creation request (its
 * user-action challenge), so that anyone holding that request can tell which wallet it created.
 */
export function walletIdOfKeyBinding(challenge: string): string {
  return `wa-${bytesToHex(sha256(new TextEncoder().encode(`tessera.wallet-on-key.v1\n${challenge}`))).slice(0, 26)}`;
}

/** A user's `POST /wallets {network, signingKey:{id}}` putting a wallet for `network` on key `keyId`. */
export function walletOnKeyRequest(action: { method: string; path: string; payload: string }, keyId: string, scheme: MpcScheme, chainIdOf: ChainIdOf = defaultChainIdOf): IntentCheck<{ network: string }> {
  if (userTargetOf(action.method, action.path)?.kind !== "create-wallet") return { ok: false, reason: `the wallet binding (${action.method} ${action.path}) does not create a wallet` };
  const body = walletOnKeyBody.safeParse(parseJson(action.payload));
  if (!body.success) return { ok: false, reason: `the wallet binding: ${issues(body.error)}` };
  if (body.data.signingKey.id !== keyId) return { ok: false, reason: `the wallet binding puts a wallet on key ${body.data.signingKey.id}, not ${keyId}` };
  const allowed = schemesForNetwork(body.data.network, chainIdOf);
  if (allowed && !allowed.includes(scheme)) return { ok: false, reason: `a ${body.data.network} wallet cannot use ${scheme}` };
  return { ok: true, network: body.data.network };
}

// ------------------------------------------------------------------ derived wallets (deriveFrom)

/** A non-hardened BIP32 path: `m` then 1-32 indices below 2^31. */
export const DERIVATION_PATH = /^m(\/(0|[1-9][0-9]{0,9})){1,32}$/;

/** A derivation path's indices are all non-hardened (below 2^31). */
export function derivationPathProblem(path: string): string | null {
  if (!DERIVATION_PATH.test(path)) return `derivation path ${JSON.stringify(path).slice(0, 80)} must look like m/0/7: 1-32 non-hardened indices`;
  if (path.split("/").slice(1).some((i) => Number(i) >= 2 ** 31)) return `derivation path ${path} has a hardened index (≥ 2^31): the share holders derive non-hardened children only`;
  return null;
}

/**
 * The path of a derived wallet whose creator left `signingKey.deriveFrom.path` out: two indices
 * taken from the user's creation request (its user-action challenge), so every share holder
 * computes the same path from the user's own request and the edge cannot choose it.
 */
export function autoDerivationPath(challenge: string): string {
  const h = sha256(new TextEncoder().encode(`tessera.derive-path.v1\n${challenge}`));
  const index = (o: number) => ((h[o]! << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!) >>> 1;
  return `m/${index(0)}/${index(4)}`;
}

const derivedWalletBody = z.object({
  network: z.string().min(1).max(64),
  signingKey: z.object({ deriveFrom: z.object({ keyId: z.string().min(1).max(128), path: z.string().min(1).max(400).optional() }) }),
});

/**
 * A user's `POST /wallets {network, signingKey:{deriveFrom:{keyId, path?}}}` deriving a wallet from
 * master key `masterKeyId`: the network it names and the path it asked for (or the one derived from
 * its challenge when it named none).
 */
export function derivedWalletRequest(
  action: { method: string; path: string; payload: string; challenge: string },
  masterKeyId: string,
  scheme: MpcScheme,
  chainIdOf: ChainIdOf = defaultChainIdOf,
): IntentCheck<{ network: string; path: string }> {
  if (userTargetOf(action.method, action.path)?.kind !== "create-wallet") return { ok: false, reason: `the user action (${action.method} ${action.path}) does not create a wallet` };
  const body = derivedWalletBody.safeParse(parseJson(action.payload));
  if (!body.success) return { ok: false, reason: `user's derived-wallet request: ${issues(body.error)}` };
  const from = body.data.signingKey.deriveFrom;
  if (from.keyId !== masterKeyId) return { ok: false, reason: `the user derives from key ${from.keyId}, not ${masterKeyId}` };
  const allowed = schemesForNetwork(body.data.network, chainIdOf);
  if (allowed && !allowed.includes(scheme)) return { ok: false, reason: `a ${body.data.network} wallet cannot use ${scheme}` };
  const path = from.path ?? autoDerivationPath(action.challenge);
  const problem = derivationPathProblem(path);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, network: body.data.network, path };
}

/**
 * The intent the edge puts in a signing authorization for a `…/signatures` (or `…/transactions`)
 * request body: the fields that determine the signed bytes, copied verbatim.
 */
export function intentFromSignatureBody(payload: string): IntentCheck<{ intent: SignatureIntent }> {
  const parsed = signatureBody.safeParse(parseJson(payload));
  if (!parsed.success) return { ok: false, reason: `user's signature request: ${issues(parsed.error)}` };
  const b = parsed.data;
  switch (b.kind) {
    case "Hash":
      return { ok: true, intent: { kind: "Hash", hash: b.hash } };
    case "Message":
      return { ok: true, intent: { kind: "Message", message: b.message } };
    case "Transaction":
      return { ok: true, intent: { kind: "Transaction", transaction: b.transaction } };
    case "Eip712":
      return { ok: true, intent: { kind: "Eip712", types: b.types, domain: b.domain, message: b.message } };
    case "Eip191":
      return { ok: true, intent: { kind: "Eip191", message: b.message } };
    case "Eip7702":
      return { ok: true, intent: { kind: "Eip7702", address: b.address, nonce: b.nonce, chainId: b.chainId } };
    case "Psbt":
      // One signature per wallet input: the edge names the input (`index`) in each request.
      return { ok: true, intent: { kind: "Psbt", psbt: b.psbt } };
  }
}

/** A signature body's intent; a PSBT's names its input only when it is sent to the nodes. */
export type SignatureIntent = Exclude<SigningIntent, { kind: "Transfer" }>;

// ------------------------------------------------------------------ bytes to sign

const bytesOf = (h: string): Uint8Array => hexToBytes(h.startsWith("0x") ? h.slice(2) : h);
const as0x = (h: string): Hex => (h.startsWith("0x") ? h : `0x${h}`) as Hex;

/** ethers' rule: the primary type is the one no other type refers to. */
function primaryTypeOf(types: Record<string, { name: string; type: string }[]>): string {
  const names = Object.keys(types).filter((t) => t !== "EIP712Domain");
  const referenced = new Set<string>();
  for (const t of names) for (const f of types[t]!) referenced.add(f.type.replace(/(\[\d*\])+$/, ""));
  const roots = names.filter((t) => !referenced.has(t));
  if (roots.length !== 1) throw new IntentError(`EIP-712 types must have exactly one primary type, found ${roots.length ? roots.join(", ") : "none"}`);
  return roots[0]!;
}

/**
 * The exact bytes the share holders sign for an intent: a 32-byte digest for ECDSA, the message
 * itself for FROST (which hashes internally). Throws IntentError when the intent does not fit the
 * scheme. `chainIdOf` resolves a transfer's network (ignored by other kinds).
 */
export function signingMessageFor(intent: SigningIntent, scheme: MpcScheme, chainIdOf: ChainIdOf = defaultChainIdOf, publicKey?: string | null, network?: string | null): Uint8Array {
  const ecdsa = scheme === "ecdsa-secp256k1";
  switch (intent.kind) {
    case "Hash": {
      const bytes = bytesOf(intent.hash);
      if (ecdsa && bytes.length !== 32) throw new IntentError(`an ECDSA hash must be 32 bytes, got ${bytes.length}`);
      if (bytes.length === 0) throw new IntentError("the hash is empty");
      return bytes;
    }
    case "Message": {
      const raw = bytesOf(intent.message);
      return ecdsa ? bytesOf(hashMessage({ raw })) : raw;
    }
    case "Transaction": {
      // A chain whose transactions are not EVM's says what is signed (Solana: the message inside).
      const own = network ? rulesFor(network, { chainIdOf })?.signatureMessage?.(intent, network, { scheme, publicKey: publicKey ?? null }) : null;
      if (own) return own;
      if (!ecdsa) throw new IntentError(`EVM transactions are signed with ECDSA, not ${scheme}`);
      unsignedEvmTransaction(intent.transaction);
      return bytesOf(keccak256(as0x(intent.transaction)));
    }
    case "Eip712": {
      if (!ecdsa) throw new IntentError(`EIP-712 data is signed with ECDSA, not ${scheme}`);
      try {
        const primaryType = primaryTypeOf(intent.types);
        return bytesOf(hashTypedData({ types: intent.types, domain: intent.domain, primaryType, message: intent.message } as unknown as TypedDataDefinition));
      } catch (e) {
        if (e instanceof IntentError) throw e;
        throw new IntentError(`EIP-712 data cannot be hashed: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    case "Eip191": {
      // EIP-191 version 0x45 ("\x19Ethereum Signed Message:\n" + length + message), as personal_sign.
      if (!ecdsa) throw new IntentError(`EIP-191 messages are signed with ECDSA, not ${scheme}`);
      return bytesOf(hashMessage({ raw: bytesOf(intent.message) }));
    }
    case "Eip7702": {
      // keccak256(0x05 || rlp([chainId, address, nonce])): the EOA delegates its code to `address`.
      if (!ecdsa) throw new IntentError(`EIP-7702 authorizations are signed with ECDSA, not ${scheme}`);
      return bytesOf(hashAuthorization({ address: getAddress(intent.address), chainId: intent.chainId, nonce: intent.nonce }));
    }
    case "Psbt": {
      const message = bitcoinRules.signatureMessage!(intent, "", { scheme, publicKey: publicKey ?? null }, intent.index);
      if (!message) throw new IntentError("not a PSBT");
      return message;
    }
    case "Transfer": {
      const rules = rulesFor(intent.network, { chainIdOf });
      if (!rules) throw new IntentError(`network ${intent.network} is not one this node can check transfers for`);
      return rules.transferMessage(intent, { scheme, publicKey: publicKey ?? null }, { chainIdOf });
    }
    case "EvmCall": {
      if (!ecdsa) throw new IntentError(`EVM transactions are signed with ECDSA, not ${scheme}`);
      checkCallTransaction(intent.call, intent.transaction, intent.network, chainIdOf);
      return bytesOf(keccak256(as0x(intent.transaction)));
    }
    case "NonceFill":
    case "Replacement":
      // Their checks need the wallet's own address and the user's requests: recomputeSigningMessage runs them.
      if (!ecdsa) throw new IntentError(`EVM transactions are signed with ECDSA, not ${scheme}`);
      unsignedEvmTransaction(intent.transaction);
      return bytesOf(keccak256(as0x(intent.transaction)));
  }
}

/** The EVM transaction the edge built must do exactly what the user's transfer body says (see shared/src/chains/evm). */
export function checkTransferTransaction(transfer: TransferBody, transaction: string, network: string, chainIdOf: ChainIdOf = defaultChainIdOf): void {
  checkEvmTransfer(transfer, transaction, network, chainIdOf);
}

// ------------------------------------------------------------------ node-side recomputation

export interface SigningKeyBinding {
  keyId: string;
  scheme: MpcScheme;
  /** The wallet the key was created for (from the keygen authorization), if any. */
  walletId?: string | null;
  /** The wallet's network, as the user's own create-wallet request named it. */
  network?: string | null;
  /** The group public key (hex), for families whose checks need the wallet's own address (Bitcoin change, EVM nonce fills and cancels). */
  publicKey?: string | null;
  derivationPath?: string | null;
}

function ownAddress(key: SigningKeyBinding): string {
  if (!key.publicKey || key.derivationPath) throw new IntentError(`key ${key.keyId}'s own address is not known to this node`);
  return evmAddressOfKey(key.publicKey);
}

/**
 * A speed-up or cancel. The caller (authorization.ts) has verified `original.userAction` as the
 * user's evidence, bound to this key. Here: that action created the request the user's path names
 * (its id derives from the action), the original intent is what that action asked for (recomputed
 * like any other), the original transaction was signed by this key (so its nonce is spent on it),
 * and the new transaction takes its place (chains/evm/calls.ts).
 */
function replacementMessage(intent: ReplacementIntent, target: Extract<UserTarget, { action: "replace" }>, key: SigningKeyBinding, chainIdOf: ChainIdOf): Uint8Array {
  const original = intent.original.userAction as { method?: unknown; path?: unknown; payload?: unknown; challenge?: unknown };
  if (typeof original.challenge !== "string" || typeof original.path !== "string" || typeof original.method !== "string" || typeof original.payload !== "string") {
    throw new IntentError("the original request's user action is malformed");
  }
  if (intent.mode !== target.mode) throw new IntentError(`the user asked to ${target.mode === "Cancel" ? "cancel" : "speed up"}, not to ${intent.mode === "Cancel" ? "cancel" : "speed up"}`);
  if (requestIdOf(target.collection, original.challenge) !== target.requestId) throw new IntentError(`the original user action did not create ${target.requestId}`);
  const originalTarget = userTargetOf(original.method, original.path);
  if (originalTarget?.kind !== "wallet" || originalTarget.action !== target.collection || originalTarget.walletId !== target.walletId) {
    throw new IntentError(`the original user action (${original.method} ${original.path}) is not a ${target.collection} request of wallet ${target.walletId}`);
  }
  const first = recomputeSigningMessage({ intent: intent.original.intent, userAction: { method: original.method, path: original.path, payload: original.payload }, key, chainIdOf });
  if (!first.ok) throw new IntentError(`the original request: ${first.reason}`);
  const own = ownAddress(key);
  if (!signedByKey(intent.original.signature, first.message, key.publicKey!)) throw new IntentError("the original transaction was not signed by this key");
  if (!key.network || intent.network !== key.network) throw new IntentError(`the replacement names network ${intent.network}, the wallet is on ${key.network ?? "no network"}`);
  checkReplacement(intent.mode, intent.original.intent.transaction, intent.transaction, key.network, own, chainIdOf);
  return bytesOf(keccak256(as0x(intent.transaction)));
}

/**
 * The node's check of a signing intent against the request the user signed: the user's path must
 * name this key (or its wallet), the intent must be the user's body (or, for a transfer, a
 * transaction doing exactly what the body says), and the returned bytes are computed from the
 * user's body, not taken from the edge.
 */
export function recomputeSigningMessage(input: {
  intent: SigningIntent;
  userAction: { method: string; path: string; payload: string };
  key: SigningKeyBinding;
  chainIdOf?: ChainIdOf;
}): IntentCheck<{ message: Uint8Array; binding?: string }> {
  const { intent, userAction, key } = input;
  const chainIdOf = input.chainIdOf ?? defaultChainIdOf;
  const target = userTargetOf(userAction.method, userAction.path);
  if (!target || (target.kind !== "wallet" && target.kind !== "key")) {
    return { ok: false, reason: `the user action (${userAction.method} ${userAction.path}) does not ask for a signature` };
  }
  if (target.kind === "key" && target.keyId !== key.keyId) return { ok: false, reason: `the user asked to sign with key ${target.keyId}, not ${key.keyId}` };
  if (target.kind === "wallet" && (!key.walletId || target.walletId !== key.walletId)) {
    return { ok: false, reason: `the user asked to sign with wallet ${target.walletId}, key ${key.keyId} belongs to ${key.walletId ?? "no wallet"}` };
  }
  try {
    if (intent.kind === "Replacement" || (target.kind === "wallet" && target.action === "replace")) {
      if (intent.kind !== "Replacement" || target.kind !== "wallet" || target.action !== "replace") return { ok: false, reason: "a speed-up or cancel needs the user's speed-up or cancel request, and only that" };
      return { ok: true, message: replacementMessage(intent, target, key, chainIdOf) };
    }
    if (intent.kind === "NonceFill") {
      if (target.kind !== "wallet" || (target.action !== "transfers" && target.action !== "transactions")) return { ok: false, reason: "a nonce fill comes under the user's transfer or transaction request" };
      if (!key.network || intent.network !== key.network) return { ok: false, reason: `the nonce fill names network ${intent.network}, the wallet is on ${key.network ?? "no network"}` };
      const own = ownAddress(key);
      const tx = unsignedEvmTransaction(intent.transaction);
      checkChain(tx, key.network, chainIdOf);
      checkSelfTransfer(tx, own);
      return { ok: true, message: bytesOf(keccak256(as0x(intent.transaction))) };
    }
    if (intent.kind === "EvmCall") {
      if (target.kind !== "wallet" || target.action !== "transactions") return { ok: false, reason: "a contract call intent needs the user's transaction request" };
      const body = evmCallRequestBody.safeParse(parseJson(userAction.payload));
      if (!body.success) return { ok: false, reason: `user's transaction request: ${issues(body.error)}` };
      if (canonicalJson(normalizeEvmCall(body.data)) !== canonicalJson(intent.call)) return { ok: false, reason: "the call in the authorization is not the one the user signed" };
      if (!key.network || intent.network !== key.network) return { ok: false, reason: `the call names network ${intent.network}, the wallet was created on ${key.network ?? "no network"}` };
      return { ok: true, message: signingMessageFor(intent, key.scheme, chainIdOf) };
    }
    if (intent.kind === "Transfer") {
      if (target.kind !== "wallet" || target.action !== "transfers") return { ok: false, reason: "a transfer intent needs the user's transfer request" };
      if (!key.network) return { ok: false, reason: `key ${key.keyId} has no recorded network to check the transfer's chain against` };
      if (intent.network !== key.network) return { ok: false, reason: `the transfer names network ${intent.network}, the wallet was created on ${key.network}` };
      const rules = rulesFor(key.network, { chainIdOf });
      if (!rules) return { ok: false, reason: `network ${key.network} is not one this node can check transfers for` };
      const normalized = rules.transferBody(parseJson(userAction.payload), key.network);
      if (canonicalJson(normalized) !== canonicalJson(intent.transfer)) return { ok: false, reason: "the transfer in the authorization is not the one the user signed" };
      const view: SigningKeyView = { scheme: key.scheme, publicKey: key.publicKey ?? null };
      const message = rules.transferMessage({ ...intent, transfer: normalized, network: key.network }, view, { chainIdOf });
      return { ok: true, message, ...(rules.claimBinding ? { binding: rules.claimBinding(intent.transaction) } : {}) };
    }
    if (target.action === "transfers") return { ok: false, reason: `a ${intent.kind} intent cannot come from a transfer request` };
    if (target.action === "transactions" && intent.kind !== "Transaction") return { ok: false, reason: `a ${intent.kind} intent cannot come from a transaction request` };
    const fromUser = intentFromSignatureBody(userAction.payload);
    if (!fromUser.ok) return fromUser;
    if (intent.kind === "Psbt") {
      if (fromUser.intent.kind !== "Psbt" || fromUser.intent.psbt !== intent.psbt) return { ok: false, reason: "the PSBT in the authorization is not the one the user signed" };
      const message = signingMessageFor({ kind: "Psbt", psbt: fromUser.intent.psbt, index: intent.index }, key.scheme, chainIdOf, key.publicKey);
      return { ok: true, message, binding: bitcoinRules.claimBinding(fromUser.intent.psbt) };
    }
    if (canonicalJson(fromUser.intent) !== canonicalJson(intent)) return { ok: false, reason: `the ${intent.kind} intent in the authorization is not what the user signed` };
    // Computed from the user's own body (equal to the intent, but this is the copy the user signed).
    return { ok: true, message: signingMessageFor(fromUser.intent, key.scheme, chainIdOf, key.publicKey, key.network) };
  } catch (e) {
    if (e instanceof IntentError) return { ok: false, reason: e.message };
    throw e;
  }
}

