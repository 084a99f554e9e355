// A transfer or transaction held for approval comes back here when the approval resolves (the
// policy engine's resume event, delivered at least once): the wallet's object either carries it
// out under the approval, or ends it Rejected. Idempotent by request id. Registered at module load
// (routes.ts imports this module), as the wallet module registers its signature requests.
import { releaseReservation, type ResumeEvent } from "../policy/gate.js";
import { onResume } from "../signing/resume.js";
import { RESUME_KIND } from "./policy-gate.js";
import { walletTransfersName } from "./wallet-transfers.js";

export { RESUME_KIND };

export async function resumeBroadcastRequest(env: Cloudflare.Env, event: ResumeEvent): Promise<void> {
  const { orgId, walletId, requestId } = event.input.resume.payload as { orgId: string; walletId: string; requestId: string };
  const object = env.WALLET_TRANSFERS.getByName(walletTransfersName(orgId, walletId));
  const found =
    event.outcome === "Approved"
      ? await object.resolveApproval(requestId, { approved: true, outcome: event.policy, reservation: event.reservation })
      : await object.resolveApproval(requestId, { approved: false, reason: event.reason });
  // Unknown: the request was never recorded (its submission failed after the gate held it), so
  // nothing will be signed for it and its reservation must stop counting.
  if (!found && event.outcome === "Approved") await releaseReservation(env, event.reservation, `request ${requestId} was never recorded`);
}

onResume(RESUME_KIND, resumeBroadcastRequest);
