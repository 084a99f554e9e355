// The threshold schemes the MPC core (wasm/) implements, named as the core names them. Kept here
// as plain data so shared code (the authorization format, the coordinator) does not have to load
// the wasm module to validate a scheme name.
export const MPC_SCHEMES = ["ecdsa-secp256k1", "frost-ed25519", "frost-bip340"] as const;
export type MpcScheme = (typeof MPC_SCHEMES)[number];

/** How Dfns names a signing key's scheme and curve (`POST /keys {scheme, curve}`). */
export function dfnsSchemeOf(s: MpcScheme): { scheme: "ECDSA" | "EdDSA" | "Schnorr"; curve: "secp256k1" | "ed25519" } {
  switch (s) {
    case "ecdsa-secp256k1":
      return { scheme: "ECDSA", curve: "secp256k1" };
    case "frost-ed25519":
      return { scheme: "EdDSA", curve: "ed25519" };
    case "frost-bip340":
      return { scheme: "Schnorr", curve: "secp256k1" };
  }
}
