// Key shares at rest: AES-256-GCM under the node's key-encryption key (KEK). The additional
// authenticated data binds a ciphertext to the node, key and share generation it was written for,
// so a share copied into another row, another node's database or back over a refreshed share
// fails to decrypt instead of being used. The KEK never leaves this object and is never logged.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class ShareVault {
  readonly #kek: Buffer;

  constructor(kek: Uint8Array) {
    if (kek.length !== 32) throw new Error("the key-encryption key must be 32 bytes");
    this.#kek = Buffer.from(kek);
  }

  /** format(1) | iv(12) | tag(16) | ciphertext */
  seal(share: Uint8Array, binding: ShareBinding): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#kek, iv);
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(share), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Uint8Array, binding: ShareBinding): Uint8Array {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) throw new Error("sealed share has an unknown format");
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.#kek, iv);
    decipher.setAAD(aad(binding));
    decipher.setAuthTag(tag);
    try {
      return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]));
    } catch {
      throw new Error(`share of key ${binding.keyId} does not decrypt (wrong key-encryption key, or the stored share was altered)`);
    }
  }
}

export interface ShareBinding {
  nodePeerId: string;
  keyId: string;
  generation: number;
}

function aad(b: ShareBinding): Buffer {
  return Buffer.from(`tessera.mpc-node.share.v1\n${b.nodePeerId}\n${b.keyId}\n${b.generation}`, "utf8");
}
