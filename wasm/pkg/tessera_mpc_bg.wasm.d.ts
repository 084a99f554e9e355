/* tslint:disable */
/* eslint-disable */
export const memory: WebAssembly.Memory;
export const __wbg_keyshare_free: (a: number, b: number) => void;
export const __wbg_session_free: (a: number, b: number) => void;
export const keyshare_chainCode: (a: number, b: number) => void;
export const keyshare_derivePublicKey: (a: number, b: number, c: number, d: number) => void;
export const keyshare_export: (a: number, b: number) => void;
export const keyshare_import: (a: number, b: number, c: number) => void;
export const keyshare_parties: (a: number) => number;
export const keyshare_partyIndex: (a: number) => number;
export const keyshare_publicKey: (a: number, b: number) => void;
export const keyshare_scheme: (a: number, b: number) => void;
export const keyshare_threshold: (a: number) => number;
export const session_done: (a: number) => number;
export const session_keygen: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number) => void;
export const session_receive: (a: number, b: number, c: number, d: number) => void;
export const session_refresh: (a: number, b: number, c: number, d: number, e: number, f: number) => void;
export const session_result: (a: number, b: number) => void;
export const session_round: (a: number) => number;
export const session_sign: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number) => void;
export const session_start: (a: number, b: number) => void;
export const session_waitingFor: (a: number, b: number) => void;
export const version: (a: number) => void;
export const __wbindgen_export: (a: number) => void;
export const __wbindgen_add_to_stack_pointer: (a: number) => number;
export const __wbindgen_export2: (a: number, b: number, c: number) => void;
export const __wbindgen_export3: (a: number, b: number) => number;
export const __wbindgen_export4: (a: number, b: number, c: number, d: number) => number;
