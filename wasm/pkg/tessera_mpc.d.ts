/* tslint:disable */
/* eslint-disable */

export class KeyShare {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * ECDSA: the BIP32 chain code shared by all parties (public; with the public key it
     * forms the extended public key, so outsiders can check derived keys).
     */
    chainCode(): Uint8Array;
    /**
     * BIP32 non-hardened child public key (ECDSA only), e.g. `m/0/7`.
     */
    derivePublicKey(path: string): Uint8Array;
    export(): Uint8Array;
    /**
     * Parses exported share bytes (validated; a wrong or corrupted blob is refused).
     */
    static import(bytes: Uint8Array): KeyShare;
    /**
     * ECDSA: 33-byte compressed key. Ed25519: 32 bytes. BIP340: 32-byte x-only key.
     */
    publicKey(): Uint8Array;
    /**
     * What all parties must agree on after keygen/refresh (see `Share::public_view`).
     */
    publicView(): Uint8Array;
    readonly parties: number;
    readonly partyIndex: number;
    readonly scheme: string;
    readonly threshold: number;
}

export class Session {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Distributed key generation: `threshold`-of-`parties.len()`; no dealer, no party
     * ever holds the key.
     */
    static keygen(scheme: string, session_id: Uint8Array, me: number, parties: Uint8Array, threshold: number): Session;
    /**
     * A signature from a presignature, once started: `x(R') || u_i' || w_i` (96 bytes) — the
     * broadcast this party sends the other signers and the signature's public `r` — so a
     * coordinator can assemble `s = Σw / Σu` itself (PRESIGN.md); empty for any other session
     * or once the round is over.
     */
    partial(): Uint8Array;
    /**
     * ECDSA presigning (the fork's presignature variant, wasm/vendor/dkls23-core/PRESIGN.md):
     * the message-independent rounds with exactly `threshold` signers, ahead of time, for a
     * batch of presignatures at once (batch.rs): `presignature_ids` is their 32-byte ids back to
     * back (1 to 64, distinct), each the id its presignature is made under. `result()` bundles
     * this party's presignatures in that order (`count u32 | (len u32 | bytes)*`), each for the
     * master key and this signer set: secret, single use.
     */
    static presign(share: KeyShare, session_id: Uint8Array, signers: Uint8Array, presignature_ids: Uint8Array): Session;
    receive(message: Uint8Array): Uint8Array;
    /**
     * Refresh with every party: same public key, new shares; old shares stop working.
     */
    static refresh(share: KeyShare, session_id: Uint8Array, parties: Uint8Array): Session;
    /**
     * Reshare, a current holder's side: with the other holders, gives the replacement the share
     * of index `target` (whose holder is retired), then refreshes every share (see reshare.rs).
     */
    static reshareHelper(share: KeyShare, session_id: Uint8Array, parties: Uint8Array, target: number): Session;
    /**
     * Reshare, the replacement's side: it holds nothing yet and takes index `target` of the key
     * `public_key` (`threshold` of `parties.len()`), which the result must be a share of.
     */
    static reshareTarget(scheme: string, session_id: Uint8Array, parties: Uint8Array, target: number, threshold: number, public_key: Uint8Array): Session;
    /**
     * Keygen/refresh: the new key share bytes. Sign: ECDSA `r || s || recid` (65 bytes),
     * FROST the 64-byte signature.
     */
    result(): Uint8Array;
    /**
     * ECDSA signing from a presignature made by this share with these signers: one round.
     * The caller must have erased `presignature` from its storage before `start()`, which
     * releases this party's partial signature. `path` signs with a BIP32 child of the key.
     */
    static signPresigned(share: KeyShare, session_id: Uint8Array, signers: Uint8Array, message: Uint8Array, path: string | null | undefined, presignature: Uint8Array): Session;
    /**
     * Signs `message` with the parties in `signers`: ECDSA takes a 32-byte digest and
     * exactly `threshold` signers; FROST takes the message bytes themselves.
     * `path` (ECDSA only) signs with the BIP32 non-hardened child key.
     */
    static sign(share: KeyShare, session_id: Uint8Array, signers: Uint8Array, message: Uint8Array, path?: string | null): Session;
    start(): Uint8Array;
    waitingFor(): Uint8Array;
    readonly done: boolean;
    readonly round: number;
}

/**
 * Crate and wire versions, for logs and compatibility checks.
 */
export function version(): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_keyshare_free: (a: number, b: number) => void;
    readonly __wbg_session_free: (a: number, b: number) => void;
    readonly keyshare_chainCode: (a: number, b: number) => void;
    readonly keyshare_derivePublicKey: (a: number, b: number, c: number, d: number) => void;
    readonly keyshare_export: (a: number, b: number) => void;
    readonly keyshare_import: (a: number, b: number, c: number) => void;
    readonly keyshare_parties: (a: number) => number;
    readonly keyshare_partyIndex: (a: number) => number;
    readonly keyshare_publicKey: (a: number, b: number) => void;
    readonly keyshare_publicView: (a: number, b: number) => void;
    readonly keyshare_scheme: (a: number, b: number) => void;
    readonly keyshare_threshold: (a: number) => number;
    readonly session_done: (a: number) => number;
    readonly session_keygen: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number) => void;
    readonly session_partial: (a: number, b: number) => void;
    readonly session_presign: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => void;
    readonly session_receive: (a: number, b: number, c: number, d: number) => void;
    readonly session_refresh: (a: number, b: number, c: number, d: number, e: number, f: number) => void;
    readonly session_reshareHelper: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => void;
    readonly session_reshareTarget: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number) => void;
    readonly session_result: (a: number, b: number) => void;
    readonly session_round: (a: number) => number;
    readonly session_sign: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => void;
    readonly session_signPresigned: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number) => void;
    readonly session_start: (a: number, b: number) => void;
    readonly session_waitingFor: (a: number, b: number) => void;
    readonly version: (a: number) => void;
    readonly __wbindgen_export: (a: number) => void;
    readonly __wbindgen_add_to_stack_pointer: (a: number) => number;
    readonly __wbindgen_export2: (a: number, b: number, c: number) => void;
    readonly __wbindgen_export3: (a: number, b: number) => number;
    readonly __wbindgen_export4: (a: number, b: number, c: number, d: number) => number;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
