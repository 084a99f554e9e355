// Once before the Node test files: the pinned btcd the Bitcoin tests run (built from source on a
// fresh machine — about a minute — then cached in .cache/btcd; see scripts/btcd/install.mjs).
import { ensureBtcd } from "../scripts/btcd/install.mjs";

export default function setup(): void {
  ensureBtcd();
}
