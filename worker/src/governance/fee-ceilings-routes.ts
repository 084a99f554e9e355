// Tessera's own endpoint (Dfns has none): an org's per-network EVM fee ceilings. A ceiling is not
// kept by the edge at all: it is an entry of the org's governance log, signed by the user who set
// it, and every share holder enforces it on each EVM transaction it signs
// (shared/src/chains/evm/fees.ts). So the request succeeds only once the entry is in the log.
//   PUT /tessera/fee-ceilings/:network   {maxFee: "wei" | null, maxPriorityFeePerGas: "wei" | null}   (Policies:Update)
//   GET /tessera/fee-ceilings            {items: [{network, maxFee, maxPriorityFeePerGas}]}            (Policies:Read)
import { Hono } from "hono";
import { z } from "zod";
import { FEE_CEILING_OPERATION } from "../../../shared/src/governance/operations.js";
import type { DfnsOperation } from "../../../shared/src/dfns/operations.js";
import { relyingParty } from "../auth/webauthn-config.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError } from "../http/errors.js";
import { isEvmNetwork } from "../networks/networks.js";
import { permit } from "../permissions/permit.js";

const wei = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, "must be a decimal amount of wei").nullable();
const ceilingBody = z.strictObject({ maxFee: wei.optional(), maxPriorityFeePerGas: wei.optional() });

export const feeCeilingRoutes = new Hono<AppEnv>();

feeCeilingRoutes.put("/tessera/fee-ceilings/:network", permit(FEE_CEILING_OPERATION as DfnsOperation), async (c) => {
  const network = c.req.param("network");
  if (!isEvmNetwork(network)) throw new ApiError(400, `${network} is not an EVM network: fee ceilings apply to EVM transactions`);
  const body = await parseBody(c, ceilingBody);
  const ceiling = { network, maxFee: body.maxFee ?? null, maxPriorityFeePerGas: body.maxPriorityFeePerGas ?? null };
  const evidence = c.get("userAction");
  if (!evidence) throw new ApiError(401, "A fee ceiling needs a user action");
  const recorded = await c.get("org").recordGovernance(evidence, ceiling, relyingParty(c.env).id);
  if (!recorded.ok) throw new ApiError(409, `The fee ceiling was not recorded in the governance log: ${recorded.reason}`);
  return c.json(ceiling);
});

feeCeilingRoutes.get("/tessera/fee-ceilings", permit("Policies:Read"), async (c) => {
  const ceilings = await c.get("org").feeCeilings();
  return c.json({ items: Object.entries(ceilings).map(([network, x]) => ({ network, ...x })) });
});
