// A SigningCoordinator for component tests that signs with the real MPC core in this process:
// a 2-of-3 DKLs23 key made by a real DKG (runLocally), and every signature a real threshold
// ceremony between parties 1 and 2. No plain private key exists for the wallet anywhere.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { GeneratedKey, SignatureRequest, SigningCoordinator, ThresholdSignature } from "../../worker/src/signing/authorization.js";
import { Ceremony, initMpc, randomSessionId, runLocally, type KeyShare, type Scheme } from "../../wasm/index.js";

export class InProcessMpcSigner implements SigningCoordinator {
  readonly keyId = "key-test-mpc";
  signatures = 0;
  /** Fault injection: when it returns a message, that signing attempt fails with it. */
  failWhen: ((request: SignatureRequest) => string | null) | null = null;
  /** A failing session fails after this long, as one that times out waiting for a share holder does. */
  failureDelayMs = 300;

  /**
   * What a share-holder node checks before it signs, when a test wants it here too: returns the
   * bytes the node would sign (refusing by throwing); a request for other bytes fails.
   */
  nodeCheck: ((request: SignatureRequest) => Uint8Array) | null = null;

  private constructor(
    private readonly shares: KeyShare[],
    readonly scheme: Scheme = "ecdsa-secp256k1",
  ) {}

  static async create(scheme: Scheme = "ecdsa-secp256k1"): Promise<InProcessMpcSigner> {
    await initMpc();
    const sessionId = randomSessionId();
    const parties = [1, 2, 3];
    const ceremonies = parties.map((me) => Ceremony.keygen({ scheme, sessionId, me, parties, threshold: 2 }));
    runLocally(ceremonies);
    return new InProcessMpcSigner(
      ceremonies.map((c) => c.keyShare()),
      scheme,
    );
  }

  /**
   * Compressed SEC1, hex without 0x (the wallet record's signingKey.publicKey). With `child`, the
   * key of a non-hardened BIP32 child (m/0/child), signed for by the same shares: one DKG, many wallets.
   */
  publicKeyHex(child?: number): string {
    return bytesToHex(child === undefined ? this.shares[0]!.publicKey() : this.shares[0]!.derivePublicKey(`m/0/${child}`));
  }

  /** The key id a wallet on child key `child` uses. */
  childKeyId(child: number): string {
    return `${this.keyId}/${child}`;
  }

  async generateKey(): Promise<GeneratedKey> {
    return { keyId: this.keyId, publicKey: this.publicKeyHex() };
  }

  async sign(request: SignatureRequest): Promise<ThresholdSignature> {
    const child = request.keyId.startsWith(`${this.keyId}/`) ? Number(request.keyId.slice(this.keyId.length + 1)) : undefined;
    if (request.keyId !== this.keyId && !Number.isInteger(child)) throw new Error(`unknown key ${request.keyId}`);
    const failure = this.failWhen?.(request);
    if (failure) {
      await new Promise((r) => setTimeout(r, this.failureDelayMs));
      throw new Error(failure);
    }
    if (this.nodeCheck) {
      const own = bytesToHex(this.nodeCheck(request));
      if (own !== request.message) throw new Error(`the node derived ${own}, not the message it was asked to sign`);
    }
    // Yield first, as a networked coordinator would: concurrent requests really interleave.
    await new Promise((r) => setImmediate(r));
    const sessionId = randomSessionId();
    const signers = [1, 2];
    const message = hexToBytes(request.message);
    const path = child === undefined ? {} : { path: `m/0/${child}` };
    const ceremonies = signers.map((p) => Ceremony.sign({ share: this.shares[p - 1]!, sessionId, signers, message, ...path }));
    runLocally(ceremonies);
    const { signature, recid } = ceremonies[0]!.signature();
    this.signatures++;
    if (this.scheme !== "ecdsa-secp256k1") return { r: bytesToHex(signature.slice(0, 32)), s: bytesToHex(signature.slice(32, 64)), encoded: bytesToHex(signature) };
    const sig = secp256k1.Signature.fromBytes(signature, "compact");
    return {
      r: bytesToHex(signature.slice(0, 32)),
      s: bytesToHex(signature.slice(32, 64)),
      recid: recid as 0 | 1,
      encoded: bytesToHex(sig.toBytes("der")),
    };
  }
}
