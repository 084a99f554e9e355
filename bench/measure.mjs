// Measurements several benchmarks take the same way, so their figures stay comparable.
import { readFileSync } from "node:fs";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** The same-run baseline: `n` single-key @noble/curves secp256k1 signatures of random digests, ms each, after 200 unmeasured to warm the JIT. */
export function nobleSecp256k1SignMs(n) {
  const sk = secp256k1.utils.randomSecretKey();
  const ms = [];
  for (let i = 0; i < 200 + n; i++) {
    const d = crypto.getRandomValues(new Uint8Array(32));
    const t = performance.now();
    secp256k1.sign(d, sk, { prehash: false });
    if (i >= 200) ms.push(performance.now() - t);
  }
  return ms;
}

/** CPU time (user + system) a process has used so far, in ms (from /proc/<pid>/stat, 100 Hz ticks); null once it is gone. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}
