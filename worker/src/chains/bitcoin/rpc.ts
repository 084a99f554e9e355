// A Bitcoin node's JSON-RPC (bitcoind / btcd dialect, JSON-RPC 1.0 over HTTP basic auth). The
// credentials travel inside the configured URL (http://user:pass@host:port) and are sent as an
// Authorization header; like the EVM client, only scheme, host and port ever appear in a reason.
// Failures are the same RpcError kinds, so the transfer engine retries transport trouble and the
// family decides what a node's refusal means.
import { z } from "zod";
import { firstAnswering, RpcError, type FetchLike } from "../../networks/evm-rpc.js";

const envelope = z.object({
  result: z.unknown().optional(),
  error: z.object({ code: z.number().int(), message: z.string() }).nullable().optional(),
  id: z.union([z.number(), z.string(), z.null()]).optional(),
});

let nextId = 1;

export class BitcoinRpc {
  private readonly fetcher: FetchLike;
  constructor(private readonly opts: { urls: string[]; timeoutMs: number; fetch?: FetchLike }) {
    if (opts.urls.length === 0) throw new Error("BitcoinRpc needs at least one URL");
    this.fetcher = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** `method` on the first endpoint that answers sanely; a node's own error is final for this call. */
  async call<T>(method: string, params: unknown[], result: z.ZodType<T>): Promise<T> {
    return firstAnswering(this.opts.urls, (url) => this.callOne(url, method, params, result));
  }

  private async callOne<T>(configured: string, method: string, params: unknown[], result: z.ZodType<T>): Promise<T> {
    const u = new URL(configured);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (u.username || u.password) headers.authorization = `Basic ${btoa(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`)}`;
    u.username = "";
    u.password = "";
    const url = u.toString();
    const id = nextId++;
    let response: Response;
    let text: string;
    try {
      response = await this.fetcher(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "1.0", id, method, params }), signal: AbortSignal.timeout(this.opts.timeoutMs) });
      text = await response.text();
    } catch (err) {
      const e = err as Error;
      const message = e.name === "TimeoutError" || e.name === "AbortError" ? `no answer within ${this.opts.timeoutMs} ms` : e.message || e.name;
      throw new RpcError({ kind: "unreachable", url, message });
    }
    let parsed: z.infer<typeof envelope> | null = null;
    try {
      const env = envelope.safeParse(JSON.parse(text));
      parsed = env.success ? env.data : null;
    } catch {
      parsed = null;
    }
    // bitcoind answers a node error with HTTP 500 and a JSON-RPC body: prefer the node's words.
    if (parsed?.error) throw new RpcError({ kind: "rpc", url, code: parsed.error.code, message: parsed.error.message });
    if (!response.ok) throw new RpcError({ kind: "http", url, status: response.status });
    if (!parsed || !("result" in parsed)) throw new RpcError({ kind: "malformed", url, message: `not a JSON-RPC response to ${method}` });
    const value = result.safeParse(parsed.result);
    if (!value.success) {
      const issue = value.error.issues[0];
      throw new RpcError({ kind: "malformed", url, message: `${method} result ${issue ? `${issue.path.join(".") || "value"}: ${issue.message}` : "invalid"}` });
    }
    return value.data;
  }
}

/** A node's "no such transaction / address" answers (btcd and bitcoind use -5). */
export function isNotFound(err: unknown): boolean {
  return err instanceof RpcError && err.failure.kind === "rpc" && (err.failure.code === -5 || /no information|not found/i.test(err.failure.message));
}
