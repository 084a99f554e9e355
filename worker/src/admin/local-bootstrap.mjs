// For `npm start` (plain Node, no TypeScript): make sure a local organisation exists and that
// .tessera/local.json holds what the CLI and the SDK need — {baseUrl, orgId, authToken, credId,
// privateKeyPem}. The key pair is generated here, on the caller's side; the API only ever sees
// the public key. A second start reuses the file if its token still works against the API.
//
//   import { ensureLocalOrg } from "../worker/src/admin/local-bootstrap.mjs";
//   // wrangler dev must run with --var TESSERA_BOOTSTRAP_SECRET:<secret>
//   const config = await ensureLocalOrg({ baseUrl, bootstrapSecret: secret, file: ".tessera/local.json" });
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * @param {{ baseUrl: string, bootstrapSecret: string, file: string, orgName?: string }} options
 * @returns {Promise<{ baseUrl: string, orgId: string, authToken: string, credId: string, privateKeyPem: string, reused: boolean }>}
 */
export async function ensureLocalOrg({ baseUrl, bootstrapSecret, file, orgName = "Tessera local" }) {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8"));
    const probe = await fetch(`${baseUrl}/auth/service-accounts`, { headers: { authorization: `Bearer ${saved.authToken}` } });
    if (probe.ok) return { ...saved, baseUrl, reused: true };
  }
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const res = await fetch(`${baseUrl}/admin/bootstrap`, {
    method: "POST",
    headers: { authorization: `Bearer ${bootstrapSecret}`, "content-type": "application/json" },
    body: JSON.stringify({ orgName, serviceAccount: { name: "local admin", publicKey: publicKey.export({ type: "spki", format: "pem" }) } }),
  });
  if (!res.ok) throw new Error(`bootstrap failed: ${res.status} ${await res.text()}`);
  const boot = await res.json();
  const config = {
    baseUrl,
    orgId: boot.orgId,
    authToken: boot.serviceAccount.accessToken,
    credId: boot.serviceAccount.credId,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  mkdirSync(dirname(file), { recursive: true });
  // The file holds a private key and a long-lived token: owner-only.
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  return { ...config, reused: false };
}

/**
 * Pins the share holders' identities in .tessera/local.json as `nodes: [{peerId, region}]`, as the
 * operator learned them when the network was set up (not from the API): `tessera wallets verify`
 * checks a wallet's keygen attestations against these.
 * @param {string} file
 * @param {{ peerId: string, region?: string }[]} nodes
 */
export function recordLocalNodes(file, nodes) {
  const config = JSON.parse(readFileSync(file, "utf8"));
  config.nodes = nodes.map((n) => ({ peerId: n.peerId, ...(n.region ? { region: n.region } : {}) }));
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  return config;
}

/**
 * Writes the local chains' RPC URLs into .tessera/local.json as `chains: {"<network name>": url}`
 * (credentials, where a chain needs them, inside the URL), for the CLI's dev commands and for users.
 * @param {string} file
 * @param {Record<string, string>} chains
 */
export function recordLocalChains(file, chains) {
  const config = JSON.parse(readFileSync(file, "utf8"));
  config.chains = { ...config.chains, ...chains };
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  return config;
}
