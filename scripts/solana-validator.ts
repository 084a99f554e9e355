// A local Solana validator for development and tests: the real SVM (litesvm, the Agave runtime
// as a native addon) behind a loopback HTTP server that speaks Solana's standard JSON-RPC, so the
// Worker's client talks to it exactly as it would to a real cluster.
//
//   node --import tsx scripts/solana-validator.ts --port 8899 [--state <file>] [--slot-ms 400]
//
// What a cluster does by itself, this does too: a new slot (and blockhash) every `slotMs`; a
// blockhash is valid for 150 slots; a transaction is `processed` in the slot that ran it,
// `confirmed` one slot later and `finalized` 32 slots later. Signatures are verified, fees
// (5000 lamports per signature) are charged, duplicates are refused as AlreadyProcessed, a failed
// transaction sent with skipPreflight lands with its error like on a real cluster. With --state,
// accounts and known signatures are kept across restarts (written every few seconds and on exit).
//
// Methods: getLatestBlockhash, isBlockhashValid, sendTransaction, simulateTransaction,
// getSignatureStatuses, getTransaction, getBalance, getAccountInfo, getMultipleAccounts,
// getTokenAccountsByOwner, getTokenAccountBalance, getMinimumBalanceForRentExemption,
// getFeeForMessage, requestAirdrop, getSlot, getBlockHeight, getEpochInfo, getHealth, getVersion,
// getGenesisHash, getRecentPrioritizationFees. Batches (JSON arrays) are answered as arrays.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { address, getBase58Decoder, getBase58Encoder, getBase64Encoder, getCompiledTransactionMessageDecoder, getTransactionDecoder, lamports, type Address, type Transaction } from "@solana/kit";
import { FailedTransactionMetadata, LiteSVM, TransactionMetadata } from "litesvm";

const LITESVM_VERSION = "1.5.0";
const BLOCKHASH_VALID_SLOTS = 150n;
const FINALIZED_AFTER = 32n;
const LAMPORTS_PER_SIGNATURE = 5000n;
const TOKEN_PROGRAMS = ["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"];
const U64_MAX = (1n << 64n) - 1n;

// litesvm's error enums, by discriminant (its const enums have no runtime names).
const TX_ERRORS = "AccountInUse AccountLoadedTwice AccountNotFound ProgramAccountNotFound InsufficientFundsForFee InvalidAccountForFee AlreadyProcessed BlockhashNotFound CallChainTooDeep MissingSignatureForFee InvalidAccountIndex SignatureFailure InvalidProgramForExecution SanitizeFailure ClusterMaintenance AccountBorrowOutstanding WouldExceedMaxBlockCostLimit UnsupportedVersion InvalidWritableAccount WouldExceedMaxAccountCostLimit WouldExceedAccountDataBlockLimit TooManyAccountLocks AddressLookupTableNotFound InvalidAddressLookupTableOwner InvalidAddressLookupTableData InvalidAddressLookupTableIndex InvalidRentPayingAccount WouldExceedMaxVoteCostLimit WouldExceedAccountDataTotalLimit MaxLoadedAccountsDataSizeExceeded ResanitizationNeeded InvalidLoadedAccountsDataSizeLimit UnbalancedTransaction ProgramCacheHitMaxLimit CommitCancelled".split(" ");
const IX_ERRORS = "GenericError InvalidArgument InvalidInstructionData InvalidAccountData AccountDataTooSmall InsufficientFunds IncorrectProgramId MissingRequiredSignature AccountAlreadyInitialized UninitializedAccount UnbalancedInstruction ModifiedProgramId ExternalAccountLamportSpend ExternalAccountDataModified ReadonlyLamportChange ReadonlyDataModified DuplicateAccountIndex ExecutableModified RentEpochModified NotEnoughAccountKeys AccountDataSizeChanged AccountNotExecutable AccountBorrowFailed AccountBorrowOutstanding DuplicateAccountOutOfSync InvalidError ExecutableDataModified ExecutableLamportChange ExecutableAccountNotRentExempt UnsupportedProgramId CallDepth MissingAccount ReentrancyNotAllowed MaxSeedLengthExceeded InvalidSeeds InvalidRealloc ComputationalBudgetExceeded PrivilegeEscalation ProgramEnvironmentSetupFailure ProgramFailedToComplete ProgramFailedToCompile Immutable IncorrectAuthority AccountNotRentExempt InvalidAccountOwner ArithmeticOverflow UnsupportedSysvar IllegalOwner MaxAccountsDataAllocationsExceeded MaxAccountsExceeded MaxInstructionTraceLengthExceeded BuiltinProgramsMustConsumeComputeUnits BorshIoError".split(" ");

/** litesvm's error object → the TransactionError JSON a real RPC returns. */
function txErrorJson(err: unknown): unknown {
  if (typeof err === "number") return TX_ERRORS[err] ?? `Unknown(${err})`;
  const e = err as { index?: number; accountIndex?: number; err?: () => unknown };
  if (typeof e.err === "function" && typeof e.index === "number") {
    const inner = e.err() as number | { code?: number; msg?: string };
    const ix = typeof inner === "number" ? (IX_ERRORS[inner] ?? `Unknown(${inner})`) : typeof inner.code === "number" ? { Custom: inner.code } : { BorshIoError: inner.msg ?? "" };
    return { InstructionError: [e.index, ix] };
  }
  const name = (err as object).constructor?.name ?? "";
  if (name.endsWith("DuplicateInstruction")) return { DuplicateInstruction: e.index };
  if (name.endsWith("InsufficientFundsForRent")) return { InsufficientFundsForRent: { account_index: e.accountIndex } };
  if (name.endsWith("ProgramExecutionTemporarilyRestricted")) return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex } };
  return String(err);
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

interface SignatureRecord {
  slot: string;
  err: unknown;
  fee: string;
  logs: string[];
  /** base64 of the wire transaction (absent for airdrops). */
  tx?: string;
}

interface Persisted {
  genesisHash: string;
  slot: string;
  signatures: Record<string, SignatureRecord>;
}

export interface SolanaValidatorOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Where accounts and signatures survive a restart; none: in memory only. */
  stateFile?: string;
  slotMs?: number;
  log?: (line: string) => void;
}

export interface SolanaValidator {
  url: string;
  port: number;
  /** The current slot (also the block height: this validator never skips a slot). */
  slot(): bigint;
  stop(): Promise<void>;
}

export class LocalSolana {
  readonly svm: LiteSVM;
  private currentSlot: bigint;
  /** blockhash → last block height at which it is valid. */
  private readonly blockhashes = new Map<string, bigint>();
  private readonly signatures = new Map<string, SignatureRecord>();
  readonly genesisHash: string;
  private dirty = false;

  constructor(private readonly stateFile?: string) {
    const saved = stateFile && existsSync(stateFile) && existsSync(`${stateFile}.json`) ? (JSON.parse(readFileSync(`${stateFile}.json`, "utf8")) as Persisted) : null;
    this.svm = (saved ? LiteSVM.loadFromFile(stateFile!) : new LiteSVM()).withSigverify(true).withBlockhashCheck(false);
    this.genesisHash = saved?.genesisHash ?? getBase58Decoder().decode(randomBytes(32));
    this.currentSlot = saved ? BigInt(saved.slot) : 1n;
    for (const [sig, rec] of Object.entries(saved?.signatures ?? {})) this.signatures.set(sig, rec);
    this.svm.warpToSlot(this.currentSlot);
    this.blockhashes.set(this.svm.latestBlockhash(), this.currentSlot + BLOCKHASH_VALID_SLOTS);
  }

  slot(): bigint {
    return this.currentSlot;
  }

  /** The next slot: a new clock and a new blockhash; blockhashes past their lifetime are forgotten. */
  advance(): void {
    this.currentSlot += 1n;
    this.svm.warpToSlot(this.currentSlot);
    this.svm.expireBlockhash();
    this.blockhashes.set(this.svm.latestBlockhash(), this.currentSlot + BLOCKHASH_VALID_SLOTS);
    for (const [hash, lastValid] of this.blockhashes) if (lastValid < this.currentSlot) this.blockhashes.delete(hash);
  }

  save(): void {
    if (!this.stateFile || !this.dirty) return;
    this.dirty = false;
    this.svm.saveToFile(`${this.stateFile}.tmp`);
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
    const persisted: Persisted = { genesisHash: this.genesisHash, slot: this.currentSlot.toString(), signatures: Object.fromEntries([...this.signatures].slice(-20_000)) };
    writeFileSync(`${this.stateFile}.json.tmp`, JSON.stringify(persisted));
    renameSync(`${this.stateFile}.json.tmp`, `${this.stateFile}.json`);
  }

  private context() {
    return { slot: this.currentSlot, apiVersion: "2.2.0" };
  }

  // ------------------------------------------------------------------ methods

  call(method: string, params: unknown[]): unknown {
    switch (method) {
      case "getHealth":
        return "ok";
      case "getVersion":
        return { "solana-core": `litesvm-${LITESVM_VERSION}`, "feature-set": 0 };
      case "getGenesisHash":
        return this.genesisHash;
      case "getSlot":
      case "getBlockHeight":
        return this.currentSlot;
      case "getEpochInfo":
        return { absoluteSlot: this.currentSlot, blockHeight: this.currentSlot, epoch: this.currentSlot / 432_000n, slotIndex: this.currentSlot % 432_000n, slotsInEpoch: 432_000, transactionCount: this.signatures.size };
      case "getLatestBlockhash":
        return { context: this.context(), value: { blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: this.currentSlot + BLOCKHASH_VALID_SLOTS } };
      case "isBlockhashValid":
        return { context: this.context(), value: this.blockhashValid(stringParam(params, 0, "blockhash")) };
      case "getMinimumBalanceForRentExemption":
        return this.svm.minimumBalanceForRentExemption(BigInt(intParam(params, 0, "data length", 10 * 1024 * 1024)));
      case "getFeeForMessage": {
        const bytes = base64Param(params, 0, "message");
        return { context: this.context(), value: BigInt(bytes[0]! & 0x80 ? bytes[1]! : bytes[0]!) * LAMPORTS_PER_SIGNATURE };
      }
      case "getRecentPrioritizationFees":
        return [];
      case "getBalance":
        return { context: this.context(), value: this.svm.getBalance(addressParam(params, 0)) ?? 0n };
      case "getAccountInfo":
        return { context: this.context(), value: this.accountJson(addressParam(params, 0), encodingOf(params[1])) };
      case "getMultipleAccounts": {
        const list = params[0];
        if (!Array.isArray(list) || list.length > 100) throw new RpcFailure(-32602, "Invalid params: expected an array of at most 100 addresses");
        const enc = encodingOf(params[1]);
        return { context: this.context(), value: list.map((_, i) => this.accountJson(addressParam(list, i), enc)) };
      }
      case "getTokenAccountsByOwner":
        return { context: this.context(), value: this.tokenAccountsByOwner(addressParam(params, 0), params[1], encodingOf(params[2])) };
      case "getTokenAccountBalance": {
        const acct = this.tokenAccount(addressParam(params, 0));
        if (!acct) throw new RpcFailure(-32602, "Invalid param: not a Token account");
        return { context: this.context(), value: tokenAmount(acct.amount, acct.decimals) };
      }
      case "requestAirdrop":
        return this.airdrop(addressParam(params, 0), BigInt(intParam(params, 1, "lamports", Number.MAX_SAFE_INTEGER)));
      case "sendTransaction":
        return this.send(params);
      case "simulateTransaction":
        return this.simulate(params);
      case "getSignatureStatuses":
        return this.statuses(params);
      case "getTransaction":
        return this.transaction(stringParam(params, 0, "signature"));
      default:
        throw new RpcFailure(-32601, "Method not found");
    }
  }

  private blockhashValid(hash: string): boolean {
    const lastValid = this.blockhashes.get(hash);
    return lastValid !== undefined && lastValid >= this.currentSlot;
  }

  private airdrop(to: Address, amount: bigint): string {
    if (amount <= 0n || amount > U64_MAX) throw new RpcFailure(-32602, "Invalid params: lamports");
    const result = this.svm.airdrop(to, lamports(amount));
    if (!(result instanceof TransactionMetadata)) throw new RpcFailure(-32603, `airdrop failed: ${result ? JSON.stringify(txErrorJson(result.err())) : "no result"}`);
    const signature = getBase58Decoder().decode(result.signature());
    this.signatures.set(signature, { slot: this.currentSlot.toString(), err: null, fee: "0", logs: result.logs() });
    this.dirty = true;
    return signature;
  }

  private decodeTx(params: unknown[]): { tx: Transaction; bytes: Uint8Array; signature: string; blockhash: string } {
    const raw = stringParam(params, 0, "transaction");
    const config = (params[1] ?? {}) as { encoding?: string };
    let bytes: Uint8Array;
    try {
      bytes = config.encoding === "base64" ? new Uint8Array(Buffer.from(raw, "base64")) : new Uint8Array(getBase58Encoder().encode(raw));
    } catch {
      throw new RpcFailure(-32602, `invalid transaction: failed to decode the ${config.encoding ?? "base58"} string`);
    }
    let tx: Transaction;
    let blockhash: string;
    try {
      tx = getTransactionDecoder().decode(bytes);
      blockhash = getCompiledTransactionMessageDecoder().decode(tx.messageBytes).lifetimeToken;
    } catch (e) {
      throw new RpcFailure(-32602, `invalid transaction: failed to deserialize VersionedTransaction: ${(e as Error).message}`);
    }
    const first = Object.values(tx.signatures)[0];
    const signature = getBase58Decoder().decode(first ?? new Uint8Array(64));
    return { tx, bytes, signature, blockhash };
  }

  private send(params: unknown[]): string {
    const { tx, bytes, signature, blockhash } = this.decodeTx(params);
    const config = (params[1] ?? {}) as { skipPreflight?: boolean };
    const preflight = config.skipPreflight !== true;
    const refuse = (err: unknown, logs: string[] = []) => {
      throw new RpcFailure(-32002, `Transaction simulation failed: ${typeof err === "string" ? err : JSON.stringify(err)}`, { err, logs, accounts: null, unitsConsumed: 0, returnData: null });
    };
    if (this.signatures.has(signature)) {
      if (preflight) refuse("AlreadyProcessed");
      return signature;
    }
    if (!this.blockhashValid(blockhash)) {
      // A real leader drops it; with preflight the RPC says why.
      if (preflight) refuse("BlockhashNotFound");
      return signature;
    }
    if (preflight) {
      const sim = this.svm.simulateTransaction(tx);
      if (sim instanceof FailedTransactionMetadata) refuse(txErrorJson(sim.err()), sim.meta().logs());
    }
    const result = this.svm.sendTransaction(tx);
    const failed = result instanceof FailedTransactionMetadata;
    const err = failed ? txErrorJson(result.err()) : null;
    // Signature and fee-payer failures never reach a block: nothing is recorded, as on a cluster.
    if (failed && typeof err === "string" && ["SignatureFailure", "InsufficientFundsForFee", "AccountNotFound", "SanitizeFailure", "AlreadyProcessed", "MissingSignatureForFee", "InvalidAccountForFee"].includes(err)) {
      if (preflight) refuse(err);
      throw new RpcFailure(-32003, `Transaction signature verification failure or fee payer cannot pay: ${err}`);
    }
    const meta = failed ? result.meta() : result;
    const signers = Object.keys(tx.signatures).length;
    this.signatures.set(signature, { slot: this.currentSlot.toString(), err, fee: (BigInt(signers) * LAMPORTS_PER_SIGNATURE).toString(), logs: meta.logs(), tx: Buffer.from(bytes).toString("base64") });
    this.dirty = true;
    return signature;
  }

  private simulate(params: unknown[]) {
    const { tx } = this.decodeTx(params);
    const sim = this.svm.simulateTransaction(tx);
    if (sim instanceof FailedTransactionMetadata) {
      const meta = sim.meta();
      return { context: this.context(), value: { err: txErrorJson(sim.err()), logs: meta.logs(), accounts: null, unitsConsumed: meta.computeUnitsConsumed(), returnData: null } };
    }
    const meta = sim.meta();
    return { context: this.context(), value: { err: null, logs: meta.logs(), accounts: null, unitsConsumed: meta.computeUnitsConsumed(), returnData: null } };
  }

  private statusOf(rec: SignatureRecord) {
    const slot = BigInt(rec.slot);
    const age = this.currentSlot - slot;
    const confirmationStatus = age >= FINALIZED_AFTER ? "finalized" : age >= 1n ? "confirmed" : "processed";
    return {
      slot,
      confirmations: confirmationStatus === "finalized" ? null : age,
      err: rec.err,
      status: rec.err === null ? { Ok: null } : { Err: rec.err },
      confirmationStatus,
    };
  }

  private statuses(params: unknown[]) {
    const list = params[0];
    if (!Array.isArray(list) || list.length > 256) throw new RpcFailure(-32602, "Invalid params: expected an array of at most 256 signatures");
    return {
      context: this.context(),
      value: list.map((s) => {
        if (typeof s !== "string") throw new RpcFailure(-32602, "Invalid params: signatures are base58 strings");
        const rec = this.signatures.get(s);
        return rec ? this.statusOf(rec) : null;
      }),
    };
  }

  private transaction(signature: string) {
    const rec = this.signatures.get(signature);
    if (!rec) return null;
    return {
      slot: BigInt(rec.slot),
      blockTime: null,
      transaction: rec.tx ? [rec.tx, "base64"] : null,
      meta: { err: rec.err, status: rec.err === null ? { Ok: null } : { Err: rec.err }, fee: BigInt(rec.fee), logMessages: rec.logs, preBalances: [], postBalances: [], innerInstructions: [], preTokenBalances: [], postTokenBalances: [] },
      version: "legacy",
    };
  }

  // ------------------------------------------------------------------ accounts

  private accountJson(addr: Address, encoding: "base64" | "base58" | "jsonParsed") {
    const acct = this.svm.getAccount(addr);
    if (!acct.exists) return null;
    const data = new Uint8Array(acct.data);
    const common = { lamports: acct.lamports, owner: acct.programAddress, executable: acct.executable, rentEpoch: U64_MAX, space: data.length };
    if (encoding === "jsonParsed") {
      const parsed = this.parsedTokenData(acct.programAddress, data);
      if (parsed) return { ...common, data: parsed };
    }
    if (encoding === "base58") return { ...common, data: [getBase58Decoder().decode(data), "base58"] };
    return { ...common, data: [Buffer.from(data).toString("base64"), "base64"] };
  }

  private mintDecimals(mint: string): number | null {
    const acct = this.svm.getAccount(address(mint));
    if (!acct.exists || !TOKEN_PROGRAMS.includes(acct.programAddress) || acct.data.length < 82) return null;
    return acct.data[44]!;
  }

  private parsedTokenData(owner: string, data: Uint8Array) {
    if (!TOKEN_PROGRAMS.includes(owner)) return null;
    const program = owner === TOKEN_PROGRAMS[0] ? "spl-token" : "spl-token-2022";
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const b58 = getBase58Decoder();
    if (data.length === 82) {
      return {
        program,
        space: 82,
        parsed: {
          type: "mint",
          info: {
            decimals: data[44],
            isInitialized: data[45] === 1,
            supply: view.getBigUint64(36, true).toString(),
            mintAuthority: view.getUint32(0, true) ? b58.decode(data.slice(4, 36)) : null,
            freezeAuthority: view.getUint32(46, true) ? b58.decode(data.slice(50, 82)) : null,
          },
        },
      };
    }
    if (data.length >= 165) {
      const mint = b58.decode(data.slice(0, 32));
      const decimals = this.mintDecimals(mint) ?? 0;
      return {
        program,
        space: data.length,
        parsed: {
          type: "account",
          info: {
            mint,
            owner: b58.decode(data.slice(32, 64)),
            tokenAmount: tokenAmount(view.getBigUint64(64, true), decimals),
            state: ["uninitialized", "initialized", "frozen"][data[108]!] ?? "uninitialized",
            isNative: view.getUint32(109, true) === 1,
          },
        },
      };
    }
    return null;
  }

  private tokenAccount(addr: Address): { mint: string; owner: string; amount: bigint; decimals: number } | null {
    const acct = this.svm.getAccount(addr);
    if (!acct.exists || !TOKEN_PROGRAMS.includes(acct.programAddress) || acct.data.length < 165) return null;
    const data = new Uint8Array(acct.data);
    const mint = getBase58Decoder().decode(data.slice(0, 32));
    return { mint, owner: getBase58Decoder().decode(data.slice(32, 64)), amount: new DataView(data.buffer).getBigUint64(64, true), decimals: this.mintDecimals(mint) ?? 0 };
  }

  private tokenAccountsByOwner(owner: Address, filter: unknown, encoding: "base64" | "base58" | "jsonParsed") {
    const f = (filter ?? {}) as { mint?: string; programId?: string };
    if (typeof f.mint !== "string" && typeof f.programId !== "string") throw new RpcFailure(-32602, "Invalid params: a mint or programId filter is required");
    if (f.programId !== undefined && !TOKEN_PROGRAMS.includes(f.programId)) throw new RpcFailure(-32602, "Invalid param: unrecognized Token program id");
    const programs = f.programId ? [f.programId] : TOKEN_PROGRAMS;
    const out: { pubkey: string; account: unknown }[] = [];
    for (const program of programs) {
      for (const acct of this.svm.getProgramAccounts(address(program))) {
        const data = new Uint8Array(acct.data);
        if (data.length < 165) continue;
        const b58 = getBase58Decoder();
        if (b58.decode(data.slice(32, 64)) !== owner) continue;
        if (f.mint !== undefined && b58.decode(data.slice(0, 32)) !== f.mint) continue;
        out.push({ pubkey: acct.address, account: this.accountJson(acct.address, encoding) });
      }
    }
    return out;
  }
}

function tokenAmount(amount: bigint, decimals: number) {
  const s = amount.toString().padStart(decimals + 1, "0");
  const uiAmountString = decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`.replace(/\.?0+$/, "");
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

// ------------------------------------------------------------------ params

function stringParam(params: unknown[], i: number, what: string): string {
  const v = params[i];
  if (typeof v !== "string" || v.length > 2_000_000) throw new RpcFailure(-32602, `Invalid params: ${what} must be a string`);
  return v;
}

function intParam(params: unknown[], i: number, what: string, max: number): number {
  const v = params[i];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) throw new RpcFailure(-32602, `Invalid params: ${what} must be an integer from 0 to ${max}`);
  return v;
}

function addressParam(params: unknown[], i: number): Address {
  const v = stringParam(params, i, "address");
  try {
    return address(v);
  } catch {
    throw new RpcFailure(-32602, `Invalid param: Invalid pubkey ${JSON.stringify(v.slice(0, 64))}`);
  }
}

function base64Param(params: unknown[], i: number, what: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(stringParam(params, i, what), "base64"));
  if (bytes.length < 4) throw new RpcFailure(-32602, `Invalid params: ${what}`);
  return bytes;
}

function encodingOf(config: unknown): "base64" | "base58" | "jsonParsed" {
  const enc = (config as { encoding?: string } | undefined)?.encoding ?? "base58";
  if (enc === "base64" || enc === "base58" || enc === "jsonParsed") return enc;
  throw new RpcFailure(-32602, `Invalid params: unsupported encoding ${JSON.stringify(enc)} (base64, base58, jsonParsed)`);
}

// ------------------------------------------------------------------ HTTP

/** JSON with bigints written as plain numbers, as Solana's RPC writes u64 values. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `__big__${v}` : v)).replace(/"__big__(\d+)"/g, "$1");
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new RpcFailure(-32600, "request too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startSolanaValidator(o: SolanaValidatorOptions = {}): Promise<SolanaValidator> {
  const chain = new LocalSolana(o.stateFile);
  const log = o.log ?? (() => {});
  const answer = (msg: unknown) => {
    const id = (msg as { id?: unknown })?.id ?? null;
    try {
      const m = msg as { jsonrpc?: unknown; method?: unknown; params?: unknown };
      if (typeof m !== "object" || m === null || m.jsonrpc !== "2.0" || typeof m.method !== "string") throw new RpcFailure(-32600, "Invalid request");
      if (m.params !== undefined && !Array.isArray(m.params)) throw new RpcFailure(-32602, "Invalid params: expected an array");
      return { jsonrpc: "2.0", result: chain.call(m.method, (m.params as unknown[]) ?? []), id };
    } catch (e) {
      if (e instanceof RpcFailure) return { jsonrpc: "2.0", error: { code: e.code, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) }, id };
      log(`internal error: ${(e as Error).stack ?? e}`);
      return { jsonrpc: "2.0", error: { code: -32603, message: `Internal error: ${(e as Error).message}` }, id };
    }
  };
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    };
    if (req.method !== "POST") return reply(405, toJson({ jsonrpc: "2.0", error: { code: -32600, message: "Used HTTP Method is not allowed. POST or OPTIONS is required" }, id: null }));
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(req, 4 * 1024 * 1024));
    } catch (e) {
      const message = e instanceof RpcFailure ? e.message : "Parse error";
      return reply(e instanceof RpcFailure ? 413 : 200, toJson({ jsonrpc: "2.0", error: { code: e instanceof RpcFailure ? e.code : -32700, message }, id: null }));
    }
    if (Array.isArray(parsed)) return reply(200, toJson(parsed.slice(0, 100).map(answer)));
    return reply(200, toJson(answer(parsed)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const ticker = setInterval(() => chain.advance(), o.slotMs ?? 400);
  const saver = setInterval(() => chain.save(), 3_000);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    slot: () => chain.slot(),
    stop: async () => {
      clearInterval(ticker);
      clearInterval(saver);
      chain.save();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------ as a process

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const v = await startSolanaValidator({
    port: Number(flag(args, "--port") ?? 8899),
    ...(flag(args, "--state") ? { stateFile: flag(args, "--state")! } : {}),
    slotMs: Number(flag(args, "--slot-ms") ?? 400),
    log: (line) => console.error(line),
  });
  // Bind first, then announce: launchers wait for this line.
  console.log(`Solana JSON-RPC listening on ${v.url} (litesvm ${LITESVM_VERSION})`);
  const stop = async () => {
    await v.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
