// A loopback HTTP proxy in front of anvil whose behaviour the test switches: pass requests
// through, refuse connections (the RPC is down), or answer garbage of several kinds. It stands in
// for a misbehaving third-party RPC provider; the chain behind it is the real anvil.
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ProxyMode = "pass" | "down" | "html" | "truncated" | "wrong-result" | "http-500";
/** "swallow": forward to anvil, then answer garbage (the node took it; the answer was lost). */
export type MethodMode = ProxyMode | "swallow";

export interface FaultProxy {
  url: string;
  /** Where passing requests go (settable after start, when the chain starts later). */
  upstream: string;
  mode: ProxyMode;
  /** Overrides `mode` for particular JSON-RPC methods. */
  methodModes: Record<string, MethodMode>;
  /** JSON-RPC methods seen while passing through (to count sends). */
  seen: string[];
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const state: FaultProxy = { url: "", upstream, mode: "pass", methodModes: {}, seen: [], stop: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    if (state.mode === "down") {
      // Drop the connection without an answer, as a dead endpoint behind a load balancer does.
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const request = JSON.parse(body) as { id: number; method: string };
    const mode = state.methodModes[request.method] ?? state.mode;
    if (mode === "down") return void req.socket.destroy();
    if (mode === "swallow") {
      state.seen.push(request.method);
      await fetch(state.upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
      return void res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":');
    }
    if (mode === "html") return void res.writeHead(200, { "content-type": "text/html" }).end("<html><body>502 Bad Gateway</body></html>");
    if (mode === "truncated") return void res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":');
    if (mode === "wrong-result") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: { garbage: true } }));
    if (mode === "http-500") return void res.writeHead(500, { "content-type": "text/plain" }).end("upstream error");
    state.seen.push(request.method);
    const upstreamRes = await fetch(state.upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(upstreamRes.status, { "content-type": "application/json" }).end(await upstreamRes.text());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  return state;
}
