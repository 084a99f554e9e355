// The node's admin endpoint (config `admin.listen`, e.g. "127.0.0.1:9464"): GET /metrics in
// Prometheus text format, GET /status as JSON (what `mpc-node status` prints). Read-only, no
// secrets; bind it to loopback or a monitoring network, not the internet.
import { createServer, type Server } from "node:http";

export async function startAdminServer(listen: string, routes: { metrics: () => string; status: () => unknown }): Promise<Server> {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(at + 1));
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (req.method !== "GET") {
        res.writeHead(405, { allow: "GET", "content-type": "application/json" }).end('{"error":"GET only"}');
      } else if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(routes.metrics());
      } else if (path === "/status") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(routes.status()));
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found: /metrics and /status only"}');
      }
    } catch (e) {
      res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: (e as Error).message }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
