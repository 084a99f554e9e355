// A thin client over Tessera's public, Dfns-compatible API. It holds no logic of its own: every
// command is one SDK call, signed by the same user-action flow the SDK uses for any client.
import { verifyWalletKeygen } from "../../shared/src/mpc/keygen-attestation.js";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { simpleFetch } from "@dfns/sdk/utils/fetch.js";
import { userActionFetch } from "@dfns/sdk/utils/userActionFetch.js";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { z } from "zod";
import { devFund, FundError } from "./dev-fund.js";
import { Progress, render, type OutputFormat } from "./output.js";
import { ChallengeRefused, VerifyingSigner } from "./verifying-signer.js";

const LocalConfig = z.object({
  baseUrl: z.string().url(),
  orgId: z.string().min(1).optional(),
  authToken: z.string().min(1),
  credId: z.string().min(1),
  privateKeyPem: z.string().includes("PRIVATE KEY"),
  /** Local chains' RPC URLs by network name (npm start writes them). */
  chains: z.record(z.string(), z.string().url()).optional(),
  /** The share holders' identities, pinned when the network was set up (npm start writes them): `wallets verify` trusts these only. */
  nodes: z.array(z.object({ peerId: z.string().min(40).max(100), region: z.string().optional() })).optional(),
});
export type LocalConfig = z.infer<typeof LocalConfig>;

export const USAGE = `tessera — command line client for a Tessera API (Dfns-compatible)

usage: tessera [--config .tessera/local.json] <command> [options]

  wallets list
  wallets create --network <Network> [--name <name>] [--scheme ECDSA|Schnorr]
  wallets get <walletId>
  wallets verify <walletId>
      checks that every share holder pinned in the config ("nodes") signed the wallet's key
      generation: this key id and public key, for this wallet, this owner and governance head
  assets <walletId>
  sign <walletId> --hash 0x<32 bytes>
  transfer <walletId> --to <address> --amount <minimum units> [--contract <erc20> | --mint <spl mint> [--create-account]]
  transfers <walletId>
  approvals list [--status Pending]
  approvals approve <approvalId> [--reason <text>]
  approvals deny <approvalId> [--reason <text>]
  policies list
  audit
  dev fund <walletId> <amount>
      coins from a local chain's faucet (SolanaLocal: an airdrop; Anvil: a balance top-up;
      BitcoinRegtest: newly mined coins, in a block mined at once),
      amount in whole units (SOL, ETH, BTC); the chain's RPC comes from the config's "chains"
  share-holders list
  share-holders add <join-request.json>
      a node joins the org: the join request its operator sent (mpc-node init writes it,
      signed with the node's own key); recorded in the org's governance log
  share-holders retire <peerId> [--replacement <peerId>]
      the node leaves the org: every key it holds a share of is reshared with the
      replacement (a node added before) taking its place, then the node erases its shares
  invite <email> [--permission <permissionId>]
      a console user: prints the link that registers their passkey (default permission: the
      org's root permission — for a local network, where you are the administrator)

options: --json   print the API's JSON response (the default when stdout is not a terminal)
         --text   print for people (tables, "field: value"; the default on a terminal)
         --quiet  no progress lines on stderr

Long operations (wallets create, sign, transfer, approvals) show their stages on stderr.

exit codes:
  0  done
  1  the API refused or failed the request (message and HTTP status on stderr), or the
     signature / transfer it started ended Failed or Rejected
  2  usage: unknown command, missing or malformed option
  3  refused to sign: the API's challenge did not describe the request this command makes
  4  the API could not be reached
  5  wallets verify: the wallet's key generation is not attested by every pinned share holder

The config file (written by \`npm start\`) holds baseUrl, authToken, credId and privateKeyPem.`;

export function loadConfig(path: string): LocalConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read config ${path}: ${(err as Error).message} (run \`npm start\` first)`);
  }
  const parsed = LocalConfig.safeParse(raw);
  if (!parsed.success) throw new UsageError(`config ${path} is invalid: ${parsed.error.issues.map((i) => i.path.join(".") + " " + i.message).join("; ")}`);
  return parsed.data;
}

export class UsageError extends Error {}
/** A wallet whose key the pinned share holders did not attest (exit 5). */
export class VerificationError extends Error {}

/** The SDK client, and the signer it signs with: it signs only challenges that describe the request announced to it. */
export interface Client {
  dfns: DfnsApiClient;
  signer: VerifyingSigner;
  /** A request to one of Tessera's own endpoints (outside Dfns's paths), user-action signed unless GET. */
  tessera?: (method: "GET" | "POST", path: string, body?: unknown) => Promise<unknown>;
}

export function clientFor(config: LocalConfig): Client {
  const signer = new VerifyingSigner(new AsymmetricKeySigner({ credId: config.credId, privateKey: config.privateKeyPem }), config.orgId);
  const apiOptions = { baseUrl: config.baseUrl, authToken: config.authToken, signer };
  return {
    dfns: new DfnsApiClient(apiOptions),
    signer,
    // Tessera's own endpoints, through the SDK's own request signing (the same user-action flow).
    tessera: async (method, path, body) => {
      const res = method === "GET" ? await simpleFetch(path, { method, apiOptions }) : await userActionFetch(path, { method, body: body ?? {}, apiOptions });
      return res.json();
    },
  };
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}\n\n${USAGE}`);
  return value;
}

/** Stages of a user-action-signed request that then waits on the API and the share holders (`what` they do). */
async function signedRequest<T>(signer: VerifyingSigner, progress: Progress, what: string, send: () => Promise<T>): Promise<T> {
  let finished = false;
  progress.stage("asking the API for a user-action challenge");
  signer.onVerified = (request) => {
    progress.stage(`the challenge describes ${request} and nothing else: signing it with your credential`);
    // The SDK sends the signed action next; from there the API and the nodes do the work.
    setImmediate(() => finished || progress.waiting(what));
  };
  try {
    return await send();
  } finally {
    finished = true;
    progress.stopTicker();
    signer.onVerified = undefined;
  }
}

export async function run(argv: string[], client: () => Client, config?: () => LocalConfig, progress: Progress = new Progress(null)): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      network: { type: "string" },
      scheme: { type: "string" },
      name: { type: "string" },
      hash: { type: "string" },
      to: { type: "string" },
      amount: { type: "string" },
      contract: { type: "string" },
      mint: { type: "string" },
      "create-account": { type: "boolean" },
      status: { type: "string" },
      reason: { type: "string" },
      permission: { type: "string" },
      replacement: { type: "string" },
      json: { type: "boolean" },
      text: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, sub, arg, arg2] = positionals;
  if (values.help || !command) throw new UsageError(USAGE);
  const { dfns, signer, tessera: tesseraFetch } = client();

  switch (command) {
    case "wallets":
      if (sub === "list") return dfns.wallets.listWallets();
      if (sub === "create") {
        const body = {
          network: need(values.network, "--network") as never,
          ...(values.name ? { name: values.name } : {}),
          ...(values.scheme ? { signingKey: { scheme: values.scheme as "ECDSA" | "Schnorr" } } : {}),
        };
        signer.expect("POST", "/wallets", body);
        const wallet = await signedRequest(signer, progress, "the share holders are generating the key together (distributed key generation: seconds for ECDSA)", () => dfns.wallets.createWallet({ body }));
        progress.done(`wallet ${wallet.id} on ${wallet.network}${wallet.address ? `: ${wallet.address}` : ""}`);
        return wallet;
      }
      if (sub === "get") return dfns.wallets.getWallet({ walletId: need(arg, "walletId") });
      if (sub === "verify") {
        const wallet = (await dfns.wallets.getWallet({ walletId: need(arg, "walletId") })) as Parameters<typeof verifyWalletKeygen>[0];
        const pinned = (config?.().nodes ?? []).map((n) => n.peerId);
        const verdict = verifyWalletKeygen(wallet, pinned);
        if (!verdict.ok) throw new VerificationError(`wallet ${wallet.id} does not verify: ${verdict.reason}`);
        progress.done(`wallet ${wallet.id}: key ${verdict.claims.keyId} generated by all ${pinned.length} pinned share holders`);
        return { walletId: wallet.id, verified: true, keyId: verdict.claims.keyId, publicKey: verdict.claims.publicKey, owner: verdict.claims.owner, governance: verdict.claims.governance, attestedBy: verdict.attestedBy };
      }
      break;
    case "assets":
      return dfns.wallets.getWalletAssets({ walletId: need(sub, "walletId") });
    case "sign": {
      const walletId = need(sub, "walletId");
      const body = { kind: "Hash" as const, hash: need(values.hash, "--hash") };
      signer.expect("POST", `/wallets/${walletId}/signatures`, body);
      const signature = await signedRequest(signer, progress, "policies checked by the API; the share holders are signing", () => dfns.wallets.generateSignature({ walletId, body }));
      progress.done(`signature ${signature.id}: ${signature.status}`);
      return signature;
    }
    case "transfer": {
      const walletId = need(sub, "walletId");
      const to = need(values.to, "--to");
      const amount = need(values.amount, "--amount");
      const body = values.contract
        ? { kind: "Erc20" as const, contract: values.contract, to, amount }
        : values.mint
          ? { kind: "Spl" as const, mint: values.mint, to, amount, ...(values["create-account"] ? { createDestinationAccount: true } : {}) }
          : { kind: "Native" as const, to, amount };
      signer.expect("POST", `/wallets/${walletId}/transfers`, body);
      const transfer = await signedRequest(signer, progress, "policies, then the share holders' signature, then broadcast", () => dfns.wallets.transferAsset({ walletId, body }));
      progress.done(`transfer ${transfer.id}: ${transfer.status}`);
      return transfer;
    }
    case "transfers":
      return dfns.wallets.listTransfers({ walletId: need(sub, "walletId") });
    case "approvals":
      if (sub === "list") return dfns.policies.listApprovals(values.status ? { query: { status: values.status as never } } : undefined);
      if (sub === "approve" || sub === "deny") {
        const approvalId = need(arg, "approvalId");
        const body = { value: sub === "approve" ? ("Approved" as const) : ("Denied" as const), ...(values.reason ? { reason: values.reason } : {}) };
        signer.expect("POST", `/v2/policy-approvals/${approvalId}/decisions`, body);
        const decided = await signedRequest(signer, progress, "recording your decision (an approved request is then signed)", () => dfns.policies.createApprovalDecision({ approvalId, body }));
        progress.done(`approval ${approvalId}: ${decided.status}`);
        return decided;
      }
      break;
    case "policies":
      if (sub === "list") return dfns.policies.listPolicies();
      break;
    case "audit":
      return dfns.auth.listAuditLogs();
    case "dev":
      if (sub === "fund") {
        const wallet = await dfns.wallets.getWallet({ walletId: need(arg, "walletId") });
        return devFund(wallet, need(arg2, "amount"), config?.().chains);
      }
      break;
    case "share-holders": {
      const tessera = tesseraFetch;
      if (!tessera) throw new UsageError("this client cannot reach Tessera's own endpoints");
      if (sub === "list") return tessera("GET", "/tessera/share-holders");
      if (sub === "add") {
        const file = need(arg, "join-request.json");
        let joinRequest: unknown;
        try {
          joinRequest = JSON.parse(readFileSync(file, "utf8"));
        } catch (e) {
          throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
        }
        const body = { joinRequest };
        signer.expect("POST", "/tessera/share-holders", body);
        const added = await signedRequest(signer, progress, "recording the node in the org's governance log", () => tessera("POST", "/tessera/share-holders", body));
        progress.done(`share holder ${(added as { peerId?: string }).peerId ?? ""} added`);
        return added;
      }
      if (sub === "retire") {
        const peerId = need(arg, "peerId");
        const body = values.replacement ? { replacement: values.replacement } : {};
        signer.expect("POST", `/tessera/share-holders/${peerId}/retire`, body);
        const retired = await signedRequest(signer, progress, "the share holders reshare its keys onto the replacement, then it erases its shares", () => tessera("POST", `/tessera/share-holders/${peerId}/retire`, body));
        progress.done(`share holder ${peerId} retired`);
        return retired;
      }
      break;
    }
    case "invite":
      return invite(dfns, signer, need(sub, "email"), values.permission, values.config);
  }
  throw new UsageError(`unknown command: ${positionals.join(" ")}\n\n${USAGE}`);
}

/** Creates a user, grants a permission and returns the console link that registers their passkey. */
async function invite(dfns: DfnsApiClient, signer: VerifyingSigner, email: string, permissionId: string | undefined, configPath: string | undefined) {
  let grant = permissionId;
  if (!grant) {
    const { items } = await dfns.permissions.listPermissions();
    grant = items.find((p) => p.name.startsWith("Root (all operations"))?.id;
    if (!grant) throw new UsageError("no root permission found; pass --permission <permissionId>");
  }
  const userBody = { email, kind: "CustomerEmployee" as const };
  signer.expect("POST", "/auth/users", userBody);
  const user = (await dfns.auth.createUser({ body: userBody })) as { userId: string; username: string; orgId: string; registrationCode?: string };
  const assignment = { identityId: user.userId };
  signer.expect("POST", `/permissions/${grant}/assignments`, assignment);
  await dfns.permissions.createAssignment({ permissionId: grant, body: assignment });
  const config = loadConfig(resolve(configPath ?? ".tessera/local.json"));
  // Passkeys are bound to the relying party "localhost": the link uses it, not 127.0.0.1.
  const url = new URL("/console/register", config.baseUrl.replace("127.0.0.1", "localhost"));
  url.search = new URLSearchParams({ org: config.orgId ?? user.orgId, username: user.username, code: user.registrationCode ?? "" }).toString();
  return { userId: user.userId, username: user.username, permissionId: grant, registrationLink: url.toString() };
}

/** The system error of a request that never reached the API (the SDK's fetch or Node's), if that is what `err` is. */
function networkErrorCode(err: unknown): string | null {
  const e = err as { code?: unknown; name?: unknown; type?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : null;
  if (code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)$/.test(code)) return code;
  if (err instanceof TypeError && /fetch failed/.test(err.message)) return "network error";
  return null;
}

/** A request that started work and did not succeed exits 1 even though the API answered. */
const ENDED_BADLY = new Set(["Failed", "Rejected"]);

export async function main(argv: string[]): Promise<number> {
  const configFlag = argv.indexOf("--config");
  const configPath = resolve(configFlag >= 0 && argv[configFlag + 1] ? argv[configFlag + 1]! : ".tessera/local.json");
  const format: OutputFormat = argv.includes("--json") ? "json" : argv.includes("--text") || process.stdout.isTTY ? "text" : "json";
  const progress = new Progress(argv.includes("--json") || argv.includes("--quiet") || argv.includes("-q") ? null : (line) => console.error(line), process.stderr.isTTY === true);
  try {
    const result = await run(argv, () => clientFor(loadConfig(configPath)), () => loadConfig(configPath), progress);
    console.log(render(result, format));
    const status = (result as { status?: unknown } | null)?.status;
    return typeof status === "string" && ENDED_BADLY.has(status) ? 1 : 0;
  } catch (err) {
    progress.stopTicker();
    if (err instanceof FundError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof VerificationError) {
      console.error(`error: ${err.message}`);
      return 5;
    }
    if (err instanceof ChallengeRefused) {
      console.error(`error: ${err.message}`);
      return 3;
    }
    if (err instanceof DfnsError) {
      console.error(`error ${err.httpStatus}: ${err.message}`);
      return 1;
    }
    const network = networkErrorCode(err);
    if (network) {
      console.error(`error: the API could not be reached (${network}); is it running? (npm start)`);
      return 4;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}
