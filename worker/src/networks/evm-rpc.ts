// A JSON-RPC client for EVM nodes that says precisely what went wrong. Callers must tell a node
// that refused something (a JSON-RPC error: final or not depending on the message) from a node
// that could not be asked (unreachable, timed out, HTTP error, an answer that is not JSON-RPC):
// the second kind is always retried, and its reason is shown on the transfer while it waits.
// Every result is validated with zod before it is used.
import { z } from "zod";

export type RpcFailure =
  /** The request could not be completed: connection refused, reset, DNS, timeout. */
  | { kind: "unreachable"; url: string; message: string }
  /** The endpoint answered with a non-2xx HTTP status. */
  | { kind: "http"; url: string; status: number }
  /** The endpoint answered, but not with a JSON-RPC response of the expected shape ("garbage"). */
  | { kind: "malformed"; url: string; message: string }
  /** A well-formed JSON-RPC error object from the node. */
  | { kind: "rpc"; url: string; code: number; message: string; data?: unknown };

export class RpcError extends Error {
  constructor(readonly failure: RpcFailure) {
    super(describeRpcFailure(failure));
    this.name = "RpcError";
  }
  /** True when the node itself answered with an error (as opposed to not being reachable or sane). */
  get isNodeError(): boolean {
    return this.failure.kind === "rpc";
  }
}

export function describeRpcFailure(f: RpcFailure): string {
  const where = redactUrl(f.url);
  switch (f.kind) {
    case "unreachable":
      return `RPC ${where} unreachable: ${f.message}`;
    case "http":
      return `RPC ${where} answered HTTP ${f.status}`;
    case "malformed":
      return `RPC ${where} answered malformed JSON-RPC: ${f.message}`;
    case "rpc":
      return `RPC ${where} error ${f.code}: ${f.message}`;
  }
}

/** Endpoints often carry an API key in the path or query: only scheme, host and port are shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(invalid url)";
  }
}

const envelope = z.union([
  z.object({ jsonrpc: z.literal("2.0"), id: z.union([z.number(), z.string()]), result: z.unknown() }).refine((v) => "result" in v, "no result"),
  z.object({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.number(), z.string(), z.null()]),
    error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
  }),
]);

/**
 * `call` on each endpoint in turn until one answers sanely. A node's own JSON-RPC error is final at
 * once (another node would most likely say the same); transport failures and garbage move on to the
 * next URL, and the last such failure is thrown when all have failed. Shared by every chain's client.
 */
export async function firstAnswering<T>(urls: readonly string[], call: (url: string) => Promise<T>): Promise<T> {
  let last: RpcError | null = null;
  for (const url of urls) {
    try {
      return await call(url);
    } catch (err) {
      if (!(err instanceof RpcError) || err.isNodeError) throw err;
      last = err;
    }
  }
  throw last!;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface EvmRpcOptions {
  urls: string[];
  timeoutMs: number;
  fetch?: FetchLike;
}

let nextRequestId = 1;

export class EvmRpc {
  private readonly fetcher: FetchLike;
  constructor(private readonly opts: EvmRpcOptions) {
    if (opts.urls.length === 0) throw new Error("EvmRpc needs at least one URL");
    this.fetcher = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** `method` on the first endpoint that answers sanely (failover rules: `firstAnswering`). */
  async call<T>(method: string, params: unknown[], result: z.ZodType<T>): Promise<T> {
    return firstAnswering(this.opts.urls, (url) => this.callOne(url, method, params, result));
  }

  private async callOne<T>(url: string, method: string, params: unknown[], result: z.ZodType<T>): Promise<T> {
    const id = nextRequestId++;
    let response: Response;
    let text: string;
    try {
      response = await this.fetcher(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const e = err as Error;
      const message = e.name === "TimeoutError" || e.name === "AbortError" ? `no answer within ${this.opts.timeoutMs} ms` : causeOf(e);
      throw new RpcError({ kind: "unreachable", url, message });
    }
    if (!response.ok) {
      // Some nodes send a JSON-RPC error with a 4xx/5xx status: prefer the node's own words.
      const parsedError = tryParse(text);
      const env = parsedError === undefined ? null : envelope.safeParse(parsedError);
      if (env?.success && "error" in env.data) throw new RpcError({ kind: "rpc", url, ...env.data.error });
      throw new RpcError({ kind: "http", url, status: response.status });
    }
    const parsed = tryParse(text);
    if (parsed === undefined) throw new RpcError({ kind: "malformed", url, message: `not JSON (${preview(text)})` });
    const env = envelope.safeParse(parsed);
    if (!env.success) throw new RpcError({ kind: "malformed", url, message: `not a JSON-RPC 2.0 response (${preview(text)})` });
    if ("error" in env.data) throw new RpcError({ kind: "rpc", url, ...env.data.error });
    if (env.data.id !== id) throw new RpcError({ kind: "malformed", url, message: `answer to request ${String(env.data.id)}, expected ${id}` });
    const value = result.safeParse(env.data.result);
    if (!value.success) {
      const issue = value.error.issues[0];
      throw new RpcError({ kind: "malformed", url, message: `${method} result ${issue ? `${issue.path.join(".") || "value"}: ${issue.message}` : "invalid"}` });
    }
    return value.data;
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function preview(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 60 ? `${t.slice(0, 60)}…` : t === "" ? "empty body" : t;
}

function causeOf(err: Error): string {
  // Node's fetch hides the socket error in `cause` (e.g. ECONNREFUSED); workerd puts it in message.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err.message || err.name;
}

// ---------------------------------------------------------------- result shapes

export const hexQuantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,64}$/, "must be a hex quantity")
  .transform((s) => BigInt(s));
export const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "must be hex data") as z.ZodType<`0x${string}`>;
export const txHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hash") as z.ZodType<`0x${string}`>;

export const receiptSchema = z
  .object({
    transactionHash: txHash,
    blockNumber: hexQuantity,
    blockHash: txHash,
    status: z.enum(["0x0", "0x1"]),
    gasUsed: hexQuantity,
    effectiveGasPrice: hexQuantity,
    from: z.string(),
    to: z.string().nullable().optional(),
  })
  .nullable();
export type Receipt = NonNullable<z.infer<typeof receiptSchema>>;

export const transactionSchema = z.object({ hash: txHash, nonce: hexQuantity, blockNumber: hexQuantity.nullable().optional() }).nullable();

export const feeHistorySchema = z.object({
  oldestBlock: hexQuantity,
  baseFeePerGas: z.array(hexQuantity).min(1),
  reward: z.array(z.array(hexQuantity)).optional(),
});
