// Small contracts for tests, compiled at test time by solc 0.8.37 (pinned) and deployed by anvil's
// first unlocked account: an ERC-721 whose tokens anyone may mint (NFT deposits), and a counter
// whose state a contract call changes (broadcastTransaction kind Evm).
import { encodeFunctionData, type Address, type Hex } from "viem";
import solc from "solc";
import type { Anvil } from "./anvil.js";
import { waitReceipt } from "./erc20.js";

const SOURCES = {
  TestNft: `// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;
contract TestNft {
    string public constant symbol = "TNFT";
    mapping(uint256 => address) public ownerOf;
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    function mint(address to, uint256 id) external { ownerOf[id] = to; emit Transfer(address(0), to, id); }
    function transferFrom(address from, address to, uint256 id) external {
        require(ownerOf[id] == msg.sender && from == msg.sender, "not owner");
        ownerOf[id] = to;
        emit Transfer(from, to, id);
    }
    function tokenURI(uint256 id) external pure returns (string memory) { return id == 0 ? "" : "ipfs://tessera-test"; }
}`,
  Counter: `// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;
contract Counter {
    uint256 public count;
    address public lastCaller;
    function increment(uint256 by) external payable { count += by; lastCaller = msg.sender; }
}`,
} as const;

export type ContractName = keyof typeof SOURCES;

export const NFT_ABI = [
  { type: "function", name: "mint", stateMutability: "nonpayable", inputs: [{ name: "to", type: "address" }, { name: "id", type: "uint256" }], outputs: [] },
  { type: "function", name: "ownerOf", stateMutability: "view", inputs: [{ name: "id", type: "uint256" }], outputs: [{ name: "", type: "address" }] },
] as const;

export const COUNTER_ABI = [
  { type: "function", name: "increment", stateMutability: "payable", inputs: [{ name: "by", type: "uint256" }], outputs: [] },
  { type: "function", name: "count", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "uint256" }] },
  { type: "function", name: "lastCaller", stateMutability: "view", inputs: [], outputs: [{ name: "", type: "address" }] },
] as const;

const compiled = new Map<ContractName, Hex>();

export function bytecodeOf(name: ContractName): Hex {
  const hit = compiled.get(name);
  if (hit) return hit;
  const input = {
    language: "Solidity",
    sources: { [`${name}.sol`]: { content: SOURCES[name] } },
    settings: { evmVersion: "paris", optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["evm.bytecode.object"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const code = `0x${output.contracts[`${name}.sol`]![name]!.evm.bytecode.object}` as Hex;
  compiled.set(name, code);
  return code;
}

export async function deploy(anvil: Pick<Anvil, "rpc">, name: ContractName): Promise<Address> {
  const [deployer] = await anvil.rpc<Address[]>("eth_accounts");
  const hash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from: deployer, data: bytecodeOf(name), gas: "0x300000" }]);
  const receipt = await waitReceipt(anvil, hash);
  if (receipt.status !== "0x1" || !receipt.contractAddress) throw new Error(`${name} deployment failed`);
  return receipt.contractAddress;
}

/** Mints NFT `id` to `to` from anvil's first account; returns the block it was mined in. */
export async function mintNft(anvil: Pick<Anvil, "rpc">, nft: Address, to: Address, id: bigint): Promise<number> {
  const [from] = await anvil.rpc<Address[]>("eth_accounts");
  const hash = await anvil.rpc<Hex>("eth_sendTransaction", [{ from, to: nft, data: encodeFunctionData({ abi: NFT_ABI, functionName: "mint", args: [to, id] }) }]);
  return Number(BigInt((await waitReceipt(anvil, hash)).blockNumber));
}
