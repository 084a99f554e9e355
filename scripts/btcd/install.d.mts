export const BTCD_VERSION: string;
export const BTCD_DIR: string;
export const BTCD_BIN: string;
/** The path of the pinned btcd binary, building it first when missing (about a minute). */
export function ensureBtcd(o?: { quiet?: boolean }): string;
