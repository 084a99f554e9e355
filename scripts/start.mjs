// `npm start`: the whole local network in one command — three share-holder nodes (regions eu, us,
// ap), an anvil chain, a Solana validator, a Bitcoin regtest node (btcd) and the edge API (wrangler dev, local workerd) — then a
// local organisation and a root service account whose key credential lands in .tessera/local.json
// (with `chains`: each local chain's RPC URL by network name). Nothing is funded by itself. State lives under
// .tessera/ so a second start keeps wallets, shares and policies. Ctrl-C stops everything.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { governLocalOrg, startLocalNetwork } = await import("./local-network.ts");
const { ensureLocalOrg, recordLocalChains, recordLocalNodes } = await import("../worker/src/admin/local-bootstrap.mjs");

const stateDir = process.env.TESSERA_STATE_DIR ?? join(root, ".tessera");
const verbose = process.argv.includes("--verbose");
const started = Date.now();

let net;
let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping…");
  await net?.stop();
  process.exit(code);
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

try {
  console.log("starting share holders (eu, us, ap), anvil, the Solana validator, btcd (Bitcoin regtest) and the edge API…");
  net = await startLocalNetwork({
    stateDir,
    apiPort: Number(process.env.TESSERA_API_PORT ?? 8787),
    chainPort: Number(process.env.TESSERA_CHAIN_PORT ?? 8545),
    nodeBasePort: Number(process.env.TESSERA_NODE_PORT ?? 4100),
    solanaPort: Number(process.env.TESSERA_SOLANA_PORT ?? 8899),
    bitcoinPort: Number(process.env.TESSERA_BITCOIN_PORT ?? 18443),
    // wrangler dev rebuilds and reloads the Worker when worker/, shared/ or console/ change, so a
    // developer's edit is live without restarting the nodes and chains. Its dev proxy costs CPU a
    // deployment does not spend (README, Figures); TESSERA_EDGE_RUNTIME=workerd serves the edge as
    // deployed instead, as the tests and benches do.
    edge: process.env.TESSERA_EDGE_RUNTIME === "workerd" ? "workerd" : "wrangler-dev",
    log: (source, line) => {
      // Node lines are JSON; show ceremonies and failures, and everything with --verbose.
      if (verbose || /error|failed|session-finished|session-failed|Ready on/i.test(line)) console.log(`[${source}] ${line}`);
    },
  });
  for (const n of net.nodes) n.process.on("exit", (code) => !stopping && console.error(`[node ${n.region}] exited with ${code}`));
  const localFile = join(stateDir, "local.json");
  const cfg = await ensureLocalOrg({ baseUrl: net.apiUrl, bootstrapSecret: net.bootstrapSecret, file: localFile });
  // The nodes learn the org's root of trust out of band, as an operator would give it to them.
  await governLocalOrg(net, cfg);
  // The CLI verifies wallets' keygen attestations against these identities (tessera wallets verify).
  recordLocalNodes(localFile, net.nodes);
  recordLocalChains(localFile, { ...(net.chainUrl ? { Anvil: net.chainUrl } : {}), ...(net.solanaUrl ? { SolanaLocal: net.solanaUrl } : {}), ...(net.bitcoinUrl ? { BitcoinRegtest: net.bitcoinUrl } : {}) });
  console.log(`
Tessera local network ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  API          ${net.apiUrl}            (Dfns-compatible: point @dfns/sdk's baseUrl here)
  console      ${net.apiUrl.replace("127.0.0.1", "localhost")}/console/   (passkeys need "localhost")
  chain        ${net.chainUrl}            (anvil, chain id 31337, network name "Anvil")
  solana       ${net.solanaUrl}            (litesvm validator, network name "SolanaLocal")
  bitcoin      ${net.bitcoinUrl?.replace(/\/\/[^@]*@/, "//")}          (btcd regtest, network name "BitcoinRegtest"; credentials in local.json)
  share holders ${net.nodes.map((n) => `${n.region} ${n.peerId.slice(0, 12)}…`).join(", ")} (2-of-3)
  credentials  ${localFile} (org ${cfg.orgId}, root service account${cfg.reused ? ", reused" : ""}; its key is the org's root of trust at every node)
  state        ${stateDir} (kept across restarts; delete it to start over)

Try it:
  npx tessera wallets create --network Anvil          # a 2-of-3 key among the three nodes
  npx tessera wallets create --network SolanaLocal    # an ed25519 (FROST) wallet on the local validator
  npx tessera dev fund <wallet id> 2                   # airdrop 2 SOL to a SolanaLocal wallet
  npx tessera wallets create --network BitcoinRegtest  # P2WPKH (ECDSA); add --scheme Schnorr for Taproot
  npx tessera dev fund <wallet id> 0.5                 # 0.5 BTC from newly mined coins, in the next block
  npx tessera sign <wallet id> --hash 0x$(printf hello | sha256sum | cut -c1-64)
  npx tessera invite you@example.com                   # a console login: open the printed link, register a passkey
Ctrl-C stops everything; the next npm start keeps all state.`);
} catch (err) {
  console.error(`start failed: ${err.message}`);
  await stop(1);
}
