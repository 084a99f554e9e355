// Deliberate misbehaviour, for tests of how the *other* nodes cope with a broken or cheating
// share holder. Enabled only by the environment variable TESSERA_MPC_NODE_FAULT on `start`, and
// it only ever corrupts this node's outgoing round messages — it cannot make a node reveal or
// accept anything. Modes:
//   garbage     the MPC message body replaced by random bytes (headers intact), before the node
//               signs it: a validly signed lie, as a cheater would send
//   bitflip     one bit flipped in the middle of the MPC message body, before signing
//   unparsable  the whole frame replaced by random bytes (no readable session id)
import { randomBytes } from "node:crypto";

export const FAULT_ENV = "TESSERA_MPC_NODE_FAULT";
export const FAULT_MODES = ["garbage", "bitflip", "unparsable"] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

const BODY_AT = 1 + 32 + 3; // the MPC header: version, session id, round, from, to

export function faultFromEnv(env: NodeJS.ProcessEnv = process.env): FaultMode | null {
  const v = env[FAULT_ENV];
  if (!v) return null;
  if (!(FAULT_MODES as readonly string[]).includes(v)) throw new Error(`${FAULT_ENV} must be one of ${FAULT_MODES.join(", ")}`);
  return v as FaultMode;
}

/** unparsable: the frame on the wire (after signing). */
export function corruptFrame(mode: FaultMode, frame: Uint8Array): Uint8Array {
  return mode === "unparsable" ? new Uint8Array(randomBytes(Math.max(8, Math.min(frame.length, 64)))) : frame;
}

/** garbage, bitflip: the MPC core message, before the node signs it. */
export function corruptMessage(mode: FaultMode, message: Uint8Array): Uint8Array {
  const out = message.slice();
  if (mode === "unparsable" || out.length <= BODY_AT) return out;
  if (mode === "garbage") {
    out.set(randomBytes(out.length - BODY_AT), BODY_AT);
    return out;
  }
  const at = BODY_AT + Math.floor((out.length - BODY_AT) / 2);
  out[at]! ^= 0x40;
  return out;
}
