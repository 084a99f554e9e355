// A transfer or transaction held for approval comes back here when the approval resolves (the
// policy engine's resume handler, delivered at least once): the wallet's object either carries it
// out under the approval, or ends it Rejected. Idempotent by request id.
import type { ResumeEvent } from "../policy/gate.js";
import { walletTransfersName } from "./wallet-transfers.js";

export const RESUME_KIND = "broadcast";

export async function resumeBroadcastRequest(env: Cloudflare.Env, event: ResumeEvent): Promise<void> {
  const { orgId, walletId, requestId } = event.input.resume.payload as { orgId: string; walletId: string; requestId: string };
  const object = env.WALLET_TRANSFERS.getByName(walletTransfersName(orgId, walletId));
  const found =
    event.outcome === "Approved"
      ? await object.resolveApproval(requestId, { approved: true, outcome: event.policy, reservation: event.reservation })
      : await object.resolveApproval(requestId, { approved: false, reason: event.reason });
  if (!found) throw new Error(`request ${requestId} of wallet ${walletId} is not known`);
}
