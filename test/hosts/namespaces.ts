// Separate hosts on one machine: each Linux network namespace has its own interfaces, addresses,
// routes and ports — a host as far as the processes inside can tell. One bridge in the test's
// own namespace joins them on a private /24 made up for the run (10.213.N.0/24); nothing is
// routed off the machine (namespaces get no default route, forwarding is not turned on).
import { execFileSync, spawnSync } from "node:child_process";

export interface Namespace {
  name: string;
  address: string;
}

export interface HostNetwork {
  /** The test's own address on the bridge: how this process reaches the hosts. */
  gateway: string;
  hosts: Map<string, Namespace>;
  /** argv prefix that runs a command inside a host's namespace. */
  exec(host: string): string[];
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString();

/** Why namespaces cannot be used here, or null when they can (root, iproute2, netns support). */
export function namespacesUnavailable(): string | null {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return "not running as root (ip netns needs CAP_SYS_ADMIN and CAP_NET_ADMIN)";
  const probe = `tsr-probe-${process.pid}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (add.error) return `ip (iproute2) is not installed: ${add.error.message}`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}

/**
 * Creates one namespace per host, each with one address on a shared bridge. A host listed in
 * `isolated` gets a /32 and a route to `isolated[host]` only: it has no route to anyone else (a
 * volunteer behind NAT that can reach its relay but nobody can reach it).
 */
export function createHostNetwork(names: string[], isolated: Record<string, string> = {}): HostNetwork {
  const tag = `tsr${process.pid % 10_000}`;
  // A /24 nobody on this machine uses yet (another test run may hold one at the same time).
  const inUse = ip("-o", "-4", "addr", "show");
  const third = Array.from({ length: 200 }, (_, i) => ((process.pid + i) % 200) + 20).find((n) => !inUse.includes(` 10.213.${n}.`));
  if (third === undefined) throw new Error("no free 10.213.x.0/24 subnet for the test network");
  const subnet = `10.213.${third}`;
  const bridge = `${tag}br`;
  const hosts = new Map<string, Namespace>();
  const created: string[] = [];
  const destroy = () => {
    for (const ns of created) spawnSync("ip", ["netns", "del", ns]);
    spawnSync("ip", ["link", "del", bridge]);
  };
  try {
    ip("link", "add", bridge, "type", "bridge");
    ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    names.forEach((host, i) => hosts.set(host, { name: `${tag}-${host}`, address: `${subnet}.${10 + i}` }));
    for (const [host, ns] of hosts) {
      ip("netns", "add", ns.name);
      created.push(ns.name);
      const outside = `${tag}${host}o`.slice(0, 15);
      ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns.name);
      ip("link", "set", outside, "master", bridge);
      ip("link", "set", outside, "up");
      ip("-n", ns.name, "link", "set", "lo", "up");
      ip("-n", ns.name, "link", "set", "eth0", "up");
      const via = isolated[host];
      if (via === undefined) ip("-n", ns.name, "addr", "add", `${ns.address}/24`, "dev", "eth0");
      else {
        const relay = hosts.get(via);
        if (!relay) throw new Error(`no host ${via}`);
        ip("-n", ns.name, "addr", "add", `${ns.address}/32`, "dev", "eth0");
        ip("-n", ns.name, "route", "add", `${relay.address}/32`, "dev", "eth0");
      }
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    gateway: `${subnet}.1`,
    hosts,
    exec: (host) => {
      const ns = hosts.get(host);
      if (!ns) throw new Error(`no host ${host}`);
      return ["ip", "netns", "exec", ns.name];
    },
    destroy,
  };
}
