// Dfns /networks: fee estimates per network (GET /networks/fees?network=…) and a read-only contract
// call (POST /networks/:network/call-function, which Dfns sends without a user action). Both only
// read the chain; any authenticated caller may use them, as on Dfns.
import { Hono } from "hono";
import { decodeFunctionResult, encodeFunctionData, type Abi, type AbiFunction } from "viem";
import { z } from "zod";
import { estimateFees } from "../chains/evm/fees.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody, parseQuery } from "../http/body.js";
import { ApiError } from "../http/errors.js";
import { EvmRpc, feeHistorySchema, hexData, hexQuantity, RpcError } from "./evm-rpc.js";
import { EVM_NETWORKS, networkFor, networkFromKebab, type NetworkConfig } from "./networks.js";

export const networkRoutes = new Hono<AppEnv>();

function configured(network: string): (env: AppEnv["Bindings"]) => NetworkConfig {
  return (env) => {
    const n = networkFor(env, network);
    if (!n.ok) throw new ApiError(400, n.reason);
    return n.config;
  };
}

const rpcOf = (n: NetworkConfig) => new EvmRpc({ urls: n.rpcUrls, timeoutMs: n.rpcTimeoutMs });

async function readChain<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof RpcError && !err.isNodeError) throw new ApiError(503, `Cannot read ${what}: ${err.message}`);
    throw err;
  }
}

const feesQuery = z.object({ network: z.enum(EVM_NETWORKS, { message: "network must be an EVM network name (fees for other chains are not available here)" }) });

networkRoutes.get("/networks/fees", async (c) => {
  const { network } = parseQuery(c, feesQuery);
  const config = configured(network)(c.env);
  const rpc = rpcOf(config);
  return c.json(
    await readChain("fees", async () => {
      const [slow, standard, fast, block, history] = await Promise.all([
        estimateFees(rpc, "Slow"),
        estimateFees(rpc, "Standard"),
        estimateFees(rpc, "Fast"),
        rpc.call("eth_blockNumber", [], hexQuantity),
        rpc.call("eth_feeHistory", ["0x1", "latest", []], feeHistorySchema),
      ]);
      const level = (f: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }) => ({ maxPriorityFeePerGas: f.maxPriorityFeePerGas.toString(), maxFeePerGas: f.maxFeePerGas.toString() });
      return {
        kind: "Eip1559",
        network,
        blockNumber: Number(block),
        slow: level(slow),
        standard: level(standard),
        fast: level(fast),
        baseFeePerGas: history.baseFeePerGas[history.baseFeePerGas.length - 1]!.toString(),
      };
    }),
  );
});

const abiParam: z.ZodType<{ name?: string; type: string; components?: unknown[] }> = z.lazy(() =>
  z.object({ name: z.string().max(256).optional(), type: z.string().min(1).max(256), internalType: z.string().optional(), components: z.array(abiParam).max(64).optional() }),
);
const callFunctionBody = z.object({
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address"),
  abi: z.object({
    type: z.literal("function"),
    name: z.string().min(1).max(256),
    stateMutability: z.enum(["view", "pure"], { message: "only view or pure functions can be called here" }),
    inputs: z.array(abiParam).max(64),
    outputs: z.array(abiParam).max(64),
  }),
  /** Arguments by input name (Dfns), or in order. */
  calldata: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
});

/** JSON cannot carry bigints: they are written as decimal strings. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

networkRoutes.post("/networks/:network/call-function", async (c) => {
  const network = networkFromKebab(c.req.param("network"));
  if (!network) throw new ApiError(400, `Invalid request: network ${c.req.param("network")} is not an EVM network`);
  const body = await parseBody(c, callFunctionBody);
  const config = configured(network)(c.env);
  const fn = body.abi as unknown as AbiFunction;
  const args = Array.isArray(body.calldata) ? body.calldata : fn.inputs.map((input, i) => (body.calldata as Record<string, unknown> | undefined)?.[input.name || String(i)]);
  let data: `0x${string}`;
  try {
    data = encodeFunctionData({ abi: [fn] as Abi, functionName: fn.name, args });
  } catch (err) {
    throw new ApiError(400, `Invalid request: calldata does not fit ${fn.name}: ${(err as Error).message.split("\n")[0]}`);
  }
  const raw = await readChain("the contract", async () => {
    try {
      return await rpcOf(config).call("eth_call", [{ to: body.contract, data }, "latest"], hexData);
    } catch (err) {
      if (err instanceof RpcError && err.isNodeError) throw new ApiError(400, `The call reverted: ${err.failure.kind === "rpc" ? err.failure.message : err.message}`);
      throw err;
    }
  });
  let decoded: unknown;
  try {
    decoded = decodeFunctionResult({ abi: [fn] as Abi, functionName: fn.name, data: raw });
  } catch (err) {
    throw new ApiError(400, `The contract's answer does not decode as ${fn.name}'s outputs: ${(err as Error).message.split("\n")[0]}`);
  }
  // One output: its value; several: an object by output name (or an array when unnamed).
  const named = fn.outputs.length > 1 && fn.outputs.every((o) => o.name);
  const result = named ? Object.fromEntries(fn.outputs.map((o, i) => [o.name!, (decoded as unknown[])[i]])) : decoded;
  return c.json({ network, contract: body.contract, function: fn.name, result: jsonSafe(result), data: raw });
});
