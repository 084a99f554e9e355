// A minimal ERC-20 compiled at test time by solc 0.8.37 (the npm package, pinned exactly), and
// deployed by anvil's first unlocked account. `transfer` reverts with a reason on insufficient
// balance, which the revert tests rely on.
import { encodeDeployData, type Address, type Hex } from "viem";
import solc from "solc";
import type { Anvil } from "./anvil.js";

export const TEST_TOKEN_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

contract TestToken {
    string public constant name = "Tessera Test Token";
    string public constant symbol = "TTT";
    uint8 public constant decimals = 6;
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address holder, uint256 supply) {
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(balanceOf[msg.sender] >= amount, "ERC20: transfer amount exceeds balance");
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        return true;
    }
}
`;

export const TEST_TOKEN_ABI = [
  { type: "constructor", stateMutability: "nonpayable", inputs: [{ name: "holder", type: "address" }, { name: "supply", type: "uint256" }] },
] as const;

let compiled: Hex | null = null;

export function testTokenBytecode(): Hex {
  if (compiled) return compiled;
  const input = {
    language: "Solidity",
    sources: { "TestToken.sol": { content: TEST_TOKEN_SOURCE } },
    settings: { evmVersion: "paris", optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["evm.bytecode.object"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  compiled = `0x${output.contracts["TestToken.sol"]!.TestToken!.evm.bytecode.object}` as Hex;
  return compiled;
}

/** Deploys the token from anvil's first account, minting `supply` to `holder`. */
export async function deployTestToken(anvil: Pick<Anvil, "rpc">, holder: Address, supply: bigint): Promise<Address> {
  const [deployer] = await anvil.rpc<Address[]>("eth_accounts");
  const data = encodeDeployData({ abi: TEST_TOKEN_ABI, bytecode: testTokenBytecode(), args: [holder, supply] });
  const hash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: deployer, data, gas: "0x200000" }]);
  const receipt = await waitReceipt(anvil, hash);
  if (receipt.status !== "0x1" || !receipt.contractAddress) throw new Error("token deployment failed");
  return receipt.contractAddress;
}

/** Sends ETH from anvil's first account. */
export async function fund(anvil: Pick<Anvil, "rpc">, to: Address, wei: bigint): Promise<void> {
  const [from] = await anvil.rpc<Address[]>("eth_accounts");
  const hash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from, to, value: `0x${wei.toString(16)}` }]);
  await waitReceipt(anvil, hash);
}

export async function waitReceipt(anvil: Pick<Anvil, "rpc">, hash: Hex): Promise<{ status: string; contractAddress: Address | null; blockNumber: Hex }> {
  for (let i = 0; i < 200; i++) {
    const r = await anvil.rpc<{ status: string; contractAddress: Address | null; blockNumber: Hex } | null>("eth_getTransactionReceipt", [hash]);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no receipt for ${hash}`);
}
