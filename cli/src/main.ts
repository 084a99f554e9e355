// A thin client over Tessera's public, Dfns-compatible API. It holds no logic of its own: every
// command is one SDK call, signed by the same user-action flow the SDK uses for any client.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DfnsApiClient, DfnsError } from "@dfns/sdk";
import { AsymmetricKeySigner } from "@dfns/sdk-keysigner";
import { z } from "zod";
import { devFund, FundError } from "./dev-fund.js";
import { ChallengeRefused, VerifyingSigner } from "./verifying-signer.js";

const LocalConfig = z.object({
  baseUrl: z.string().url(),
  orgId: z.string().min(1).optional(),
  authToken: z.string().min(1),
  credId: z.string().min(1),
  privateKeyPem: z.string().includes("PRIVATE KEY"),
  /** Local chains' RPC URLs by network name (npm start writes them). */
  chains: z.record(z.string(), z.string().url()).optional(),
});
export type LocalConfig = z.infer<typeof LocalConfig>;

export const USAGE = `tessera — command line client for a Tessera API (Dfns-compatible)

usage: tessera [--config .tessera/local.json] <command> [options]

  wallets list
  wallets create --network <Network> [--name <name>]
  wallets get <walletId>
  assets <walletId>
  sign <walletId> --hash 0x<32 bytes>
  transfer <walletId> --to <address> --amount <minimum units> [--contract <erc20>]
  transfers <walletId>
  approvals list [--status Pending]
  approvals approve <approvalId> [--reason <text>]
  approvals deny <approvalId> [--reason <text>]
  policies list
  audit
  dev fund <walletId> <amount>
      coins from a local chain's faucet (SolanaLocal: an airdrop; Anvil: a balance top-up),
      amount in whole units (SOL, ETH); the chain's RPC comes from the config's "chains"
  invite <email> [--permission <permissionId>]
      a console user: prints the link that registers their passkey (default permission: the
      org's root permission — for a local network, where you are the administrator)

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

/** The SDK client, and the signer it signs with: it signs only challenges that describe the request announced to it. */
export interface Client {
  dfns: DfnsApiClient;
  signer: VerifyingSigner;
}

export function clientFor(config: LocalConfig): Client {
  const signer = new VerifyingSigner(new AsymmetricKeySigner({ credId: config.credId, privateKey: config.privateKeyPem }), config.orgId);
  return { dfns: new DfnsApiClient({ baseUrl: config.baseUrl, authToken: config.authToken, signer }), signer };
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}\n\n${USAGE}`);
  return value;
}

export async function run(argv: string[], client: () => Client, config?: () => LocalConfig): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      network: { type: "string" },
      name: { type: "string" },
      hash: { type: "string" },
      to: { type: "string" },
      amount: { type: "string" },
      contract: { type: "string" },
      status: { type: "string" },
      reason: { type: "string" },
      permission: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, sub, arg, arg2] = positionals;
  if (values.help || !command) throw new UsageError(USAGE);
  const { dfns, signer } = client();

  switch (command) {
    case "wallets":
      if (sub === "list") return dfns.wallets.listWallets();
      if (sub === "create") {
        const body = { network: need(values.network, "--network") as never, ...(values.name ? { name: values.name } : {}) };
        signer.expect("POST", "/wallets", body);
        return dfns.wallets.createWallet({ body });
      }
      if (sub === "get") return dfns.wallets.getWallet({ walletId: need(arg, "walletId") });
      break;
    case "assets":
      return dfns.wallets.getWalletAssets({ walletId: need(sub, "walletId") });
    case "sign": {
      const walletId = need(sub, "walletId");
      const body = { kind: "Hash" as const, hash: need(values.hash, "--hash") };
      signer.expect("POST", `/wallets/${walletId}/signatures`, body);
      return dfns.wallets.generateSignature({ walletId, body });
    }
    case "transfer": {
      const walletId = need(sub, "walletId");
      const to = need(values.to, "--to");
      const amount = need(values.amount, "--amount");
      const body = values.contract ? { kind: "Erc20" as const, contract: values.contract, to, amount } : { kind: "Native" as const, to, amount };
      signer.expect("POST", `/wallets/${walletId}/transfers`, body);
      return dfns.wallets.transferAsset({ walletId, body });
    }
    case "transfers":
      return dfns.wallets.listTransfers({ walletId: need(sub, "walletId") });
    case "approvals":
      if (sub === "list") return dfns.policies.listApprovals(values.status ? { query: { status: values.status as never } } : undefined);
      if (sub === "approve" || sub === "deny") {
        const approvalId = need(arg, "approvalId");
        const body = { value: sub === "approve" ? ("Approved" as const) : ("Denied" as const), ...(values.reason ? { reason: values.reason } : {}) };
        signer.expect("POST", `/v2/policy-approvals/${approvalId}/decisions`, body);
        return dfns.policies.createApprovalDecision({ approvalId, body });
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

export async function main(argv: string[]): Promise<number> {
  const configFlag = argv.indexOf("--config");
  const configPath = resolve(configFlag >= 0 && argv[configFlag + 1] ? argv[configFlag + 1]! : ".tessera/local.json");
  try {
    const result = await run(argv, () => clientFor(loadConfig(configPath)), () => loadConfig(configPath));
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (err) {
    if (err instanceof FundError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof ChallengeRefused) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof DfnsError) {
      console.error(`error ${err.httpStatus}: ${err.message}`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}
