// Test set-up on a Solana cluster through the official client (@solana/kit and the
// @solana-program clients), never through our own code: airdrops, a keypair-signed transaction,
// an SPL mint with tokens minted to an owner, and balances read back over standard JSON-RPC.
import { getCreateAccountInstruction, getTransferSolInstruction } from "@solana-program/system";
import { findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstruction, getInitializeMint2Instruction, getMintToInstruction, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createSolanaRpc,
  devnet,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  lamports,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransaction,
  type Address,
  type Instruction,
  type KeyPairSigner,
  type Signature,
} from "@solana/kit";

// A local cluster is a test cluster: `devnet()` marks the URL so the airdrop method is typed in.
export const solanaRpc = (url: string) => createSolanaRpc(devnet(url));
export type SolanaRpc = ReturnType<typeof solanaRpc>;

export async function waitForSignature(rpc: SolanaRpc, signature: string, commitment: "confirmed" | "finalized" = "confirmed", timeoutMs = 20_000): Promise<{ err: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { value } = await rpc.getSignatureStatuses([signature as Signature]).send();
    const s = value[0];
    if (s && (s.confirmationStatus === commitment || s.confirmationStatus === "finalized")) return { err: s.err };
    if (Date.now() > deadline) throw new Error(`${signature} not ${commitment} within ${timeoutMs} ms (${JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? String(v) : v))})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function airdrop(rpc: SolanaRpc, to: string, amount: bigint): Promise<void> {
  const sig = await rpc.requestAirdrop(address(to), lamports(amount)).send();
  await waitForSignature(rpc, sig);
}

export async function balance(rpc: SolanaRpc, of: string): Promise<bigint> {
  return (await rpc.getBalance(address(of)).send()).value;
}

/** A keypair-signed transaction, sent and confirmed; throws with the chain's error if it failed. */
export async function sendAndConfirm(rpc: SolanaRpc, payer: KeyPairSigner, instructions: Instruction[], extraSigners: KeyPairSigner[] = []): Promise<string> {
  const { value: latest } = await rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const signed = await signTransaction([payer.keyPair, ...extraSigners.map((s) => s.keyPair)], compileTransaction(message));
  const sig = await rpc.sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: "base64" }).send();
  const { err } = await waitForSignature(rpc, sig);
  if (err) throw new Error(`transaction ${sig} failed: ${JSON.stringify(err)}`);
  return sig;
}

export const newKeypair = () => generateKeyPairSigner();

export async function transferSol(rpc: SolanaRpc, from: KeyPairSigner, to: string, amount: bigint): Promise<string> {
  return sendAndConfirm(rpc, from, [getTransferSolInstruction({ source: from, destination: address(to), amount })]);
}

/** A new SPL mint (Token program) whose authority is `authority`. */
export async function createMint(rpc: SolanaRpc, authority: KeyPairSigner, decimals: number): Promise<Address> {
  const mint = await generateKeyPairSigner();
  const space = 82n;
  const rent = await rpc.getMinimumBalanceForRentExemption(space).send();
  await sendAndConfirm(
    rpc,
    authority,
    [
      getCreateAccountInstruction({ payer: authority, newAccount: mint, lamports: rent, space, programAddress: TOKEN_PROGRAM_ADDRESS }),
      getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority.address }),
    ],
    [mint],
  );
  return mint.address;
}

export async function tokenAccountOf(owner: string, mint: string): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ owner: address(owner), mint: address(mint), tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return ata;
}

/** Mints `amount` base units to `owner`'s associated token account (created if missing). */
export async function mintTo(rpc: SolanaRpc, authority: KeyPairSigner, mint: string, owner: string, amount: bigint): Promise<void> {
  const ata = await tokenAccountOf(owner, mint);
  await sendAndConfirm(rpc, authority, [
    getCreateAssociatedTokenIdempotentInstruction({ payer: authority, ata, owner: address(owner), mint: address(mint) }),
    getMintToInstruction({ mint: address(mint), token: ata, mintAuthority: authority, amount }),
  ]);
}

/** The owner's token balance of a mint from getTokenAccountBalance (0 when it has no account). */
export async function tokenBalance(rpc: SolanaRpc, owner: string, mint: string): Promise<bigint> {
  const ata = await tokenAccountOf(owner, mint);
  const info = await rpc.getAccountInfo(ata, { encoding: "base64" }).send();
  if (!info.value) return 0n;
  return BigInt((await rpc.getTokenAccountBalance(ata).send()).value.amount);
}
