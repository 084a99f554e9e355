// Tessera's own /tessera/share-holders (Dfns has no such thing): the org's share-holder set.
// An administrator adds a node by the join request the node's operator sent (`mpc-node init`
// writes it, signed with the node's own key) and retires one, naming the node that takes over its
// party index. Both are user-action signed and become entries of the org's governance log, which
// every node replays: the nodes learn the set from the log, not from the edge. Retiring reshares
// every key of the org the node held onto the replacement, then has the retired node erase its
// shares (signing/share-holders.ts).
import { Hono } from "hono";
import { z } from "zod";
import { verifyJoinRequest } from "../../../shared/src/governance/join-request.js";
import type { ShareHolderState } from "../../../shared/src/governance/log.js";
import { peerIdText } from "../../../shared/src/mpc/authorization.js";
import { relyingParty } from "../auth/webauthn-config.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { permit } from "../permissions/permit.js";
import { shareHolderConfig, shareHoldersOf, type ShareHolderConfig } from "./share-holders.js";

export const shareHolderRoutes = new Hono<AppEnv>();

export interface ShareHolderView {
  peerId: string;
  status: "Active" | "Retired";
  /** Deployment: configured with the edge (TESSERA_SHARE_HOLDERS); Org: added through this API. */
  source: "Deployment" | "Org";
  region?: string;
  /** The deployment nodes' party index in keys generated with them. */
  index?: number;
  nodeAddresses?: string[];
  edgeAddresses?: string[];
  replacement?: string | null;
}

function deploymentNodes(raw: string | undefined): ShareHolderConfig["nodes"] {
  if (!raw) return [];
  try {
    const cfg = shareHolderConfig.safeParse(JSON.parse(raw));
    return cfg.success ? cfg.data.nodes : [];
  } catch {
    return [];
  }
}

/** The deployment's nodes as the log leaves them, then the nodes the log added. */
export function shareHolderViews(deployment: ShareHolderConfig["nodes"], log: Record<string, ShareHolderState>): ShareHolderView[] {
  const out: ShareHolderView[] = deployment.map((n) => {
    const l = log[n.peerId];
    return {
      peerId: n.peerId,
      status: l?.active === false ? "Retired" : "Active",
      source: "Deployment",
      index: n.index,
      ...(n.region ? { region: n.region } : {}),
      edgeAddresses: n.multiaddrs,
      ...(l?.active === false ? { replacement: l.replacement ?? null } : {}),
    };
  });
  for (const [peerId, l] of Object.entries(log)) {
    if (deployment.some((n) => n.peerId === peerId)) continue;
    out.push({
      peerId,
      status: l.active ? "Active" : "Retired",
      source: "Org",
      ...(l.region ? { region: l.region } : {}),
      ...(l.nodeAddresses ? { nodeAddresses: l.nodeAddresses } : {}),
      ...(l.edgeAddresses ? { edgeAddresses: l.edgeAddresses } : {}),
      ...(l.active ? {} : { replacement: l.replacement ?? null }),
    });
  }
  return out;
}

async function logOf(c: { get(k: "org"): AppEnv["Variables"]["org"] }): Promise<Record<string, ShareHolderState>> {
  const log = await c.get("org").shareHolderLog();
  if (!log) throw new ApiError(409, "This organisation has no governance log (no root of trust): its share holders cannot be changed");
  return log;
}

shareHolderRoutes.get("/tessera/share-holders", permit("ShareHolders:Read"), async (c) => {
  const views = shareHolderViews(deploymentNodes(c.env.TESSERA_SHARE_HOLDERS), await logOf(c));
  return c.json({ items: views });
});

const addBody = z.strictObject({ joinRequest: z.unknown() });

shareHolderRoutes.post("/tessera/share-holders", permit("ShareHolders:Create"), async (c) => {
  const body = await parseBody(c, addBody);
  const join = verifyJoinRequest(body.joinRequest);
  if (!join.ok) throw new ApiError(400, `joinRequest: ${join.reason}`);
  const r = join.request;
  if (r.addresses.edge.length === 0) throw new ApiError(400, "joinRequest: the node names no address the edge can dial (addresses.edge)");
  const log = await logOf(c);
  if (deploymentNodes(c.env.TESSERA_SHARE_HOLDERS).some((n) => n.peerId === r.peerId)) throw new ApiError(409, `${r.peerId} is already one of this deployment's share holders`);
  if (log[r.peerId]) throw new ApiError(409, `${r.peerId} is already ${log[r.peerId]!.active ? "a share holder of" : "retired from"} this organisation`);
  const evidence = c.get("userAction");
  if (!evidence) throw new ApiError(401, "Adding a share holder needs a user action");
  const recorded = await c.get("org").recordGovernance(evidence, {}, relyingParty(c.env).id);
  if (!recorded.ok) throw new ApiError(409, `Not recorded in the governance log: ${recorded.reason}`);
  const view = shareHolderViews([], await logOf(c)).find((v) => v.peerId === r.peerId)!;
  return c.json(view);
});

const retireBody = z.strictObject({ replacement: peerIdText.optional() });

shareHolderRoutes.post("/tessera/share-holders/:peerId/retire", permit("ShareHolders:Retire"), async (c) => {
  const peerId = c.req.param("peerId");
  const body = await parseBody(c, retireBody);
  const deployment = deploymentNodes(c.env.TESSERA_SHARE_HOLDERS);
  let log = await logOf(c);
  const known = deployment.some((n) => n.peerId === peerId) || log[peerId] !== undefined;
  if (!known) throw new ApiError(404, `${peerId} is not a share holder of this organisation`);
  const replacement = body.replacement ?? null;
  if (replacement !== null && log[replacement]?.active !== true) throw new ApiError(409, `The replacement ${replacement} must be an active share holder added to this organisation (POST /tessera/share-holders)`);
  const alreadyRetired = log[peerId]?.active === false;
  if (alreadyRetired && (log[peerId]!.replacement ?? null) !== replacement) throw new ApiError(409, `${peerId} is already retired with replacement ${log[peerId]!.replacement ?? "(none)"}`);
  const orgId = c.get("caller").orgId;
  const shard = shareHoldersOf(c.env, orgId);
  // Keys held with the node that cannot move: refuse before anything is recorded.
  const stuck = await shard.keysStuckWith(peerId, replacement);
  if (stuck.length > 0) throw new ApiError(409, `${peerId} holds shares of ${stuck.length} key(s) (${stuck.slice(0, 3).join(", ")}) that need a replacement to be reshared onto first`);
  if (!alreadyRetired) {
    const evidence = c.get("userAction");
    if (!evidence) throw new ApiError(401, "Retiring a share holder needs a user action");
    const recorded = await c.get("org").recordGovernance(evidence, {}, relyingParty(c.env).id);
    if (!recorded.ok) throw new ApiError(409, `Not recorded in the governance log: ${recorded.reason}`);
    log = await logOf(c);
  }
  // A retry (the node is already retired) resumes the reshares that did not finish.
  const moved = unwrap(await shard.retire({ orgId, peerId, replacement, userAction: c.get("userAction")! }));
  const view = shareHolderViews(deployment, log).find((v) => v.peerId === peerId)!;
  return c.json({ ...view, ...moved });
});
