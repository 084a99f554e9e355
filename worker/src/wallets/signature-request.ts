// One signature request from the wallet to its outcome, run inside the org's WalletRegistry object
// so the route makes one Durable Object call for it (the wallet and its signature records are
// that object's own rows, read and written without a round trip). Layers 1–2 ran at the route,
// which also validated the body; here, in order:
//   the wallet and the bytes to sign   exactly what the share holders will recompute (400/404/409)
//   layer 3, the policy gate           Blocked → Rejected; RequestApproval → held (Pending)
//   layer 4, the share holders         Executing written before the nodes are asked, Signed or
//                                      Failed after, the reservation committed or released
//   webhooks                           the request's events in one batch
// An allowed request's audit line joins the org's batch of allowed lines right after the decision
// (queued here, before the ceremony, so it still meets the request's own lines of the last few
// milliseconds); a refusal's or a hold's goes back to the route, which writes it before the
// response after the lines its isolate still holds, so the log keeps the order.
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import { intentFromSignatureBody, IntentError, signingMessageFor } from "../../../shared/src/mpc/intent.js";
import { failure, success, type Outcome } from "../http/errors.js";
import { newId } from "../orgs/ids.js";
import type { SigningRequester } from "../signing/authorization.js";
import { judgePolicies, reconsiderPolicies, recordGateAudit, type GateAudit } from "../policy/gate.js";
import { walletAddressProblem, walletKeyKind } from "./chains.js";
import { announced, executeSignature, psbtMessages, signatureView, type SignatureRecords } from "./signing.js";
import type { SignatureRecord, WalletRecord } from "./wallet-registry.js";

export interface SignatureRequestInput {
  walletId: string;
  requester: SigningRequester;
  /** The caller's spent user action: its payload is the request body the user signed. */
  userAction: UserActionEvidence;
  /** For the audit line (the route that asked). */
  http: { method: string; path: string };
}

/** The request's outcome as the API answers it, and the policy decision's audit line for the route to write (null: queued already). */
export type SignatureRequestOutcome = Outcome<{ record: SignatureRecord; audit: GateAudit | null }>;

export async function requestSignature(
  env: Cloudflare.Env,
  records: SignatureRecords & { getWallet(id: string): WalletRecord | null },
  input: SignatureRequestInput,
  deps: { waitUntil: (p: Promise<unknown>) => void },
): Promise<SignatureRequestOutcome> {
  const { requester, userAction } = input;
  const wallet = records.getWallet(input.walletId);
  if (!wallet) return failure(404, "Wallet not found");
  const problem = walletAddressProblem(wallet);
  if (problem) return failure(409, problem);
  if (wallet.status !== "Active") return failure(409, "Wallet is not active");
  // Exactly what the share holders will do: read the intent from the body the user signed.
  const intent = intentFromSignatureBody(userAction.payload);
  if (!intent.ok) return failure(400, intent.reason);
  const scheme = walletKeyKind(wallet)!.mpcScheme;
  let message: Uint8Array;
  try {
    // A PSBT is signed input by input (each ceremony names its input); check here it has some of this wallet's.
    message = intent.intent.kind === "Psbt" ? psbtMessages(wallet, intent.intent.psbt)[0]!.message : signingMessageFor(intent.intent, scheme, undefined, wallet.publicKey, wallet.network);
  } catch (e) {
    if (e instanceof IntentError) return failure(400, e.message);
    throw e;
  }

  // Written once the policy decided (a held request is stored before anyone can approve it;
  // an allowed one is stored as Executing before the nodes are asked).
  const request: SignatureRecord = {
    id: newId("sig"),
    walletId: wallet.id,
    keyId: wallet.keyId,
    network: wallet.network,
    requester: { userId: requester.userId, tokenId: requester.tokenId },
    requestBody: userAction.payload,
    status: "Pending",
    dateRequested: new Date().toISOString(),
  };
  const { request: judged, ...described } = {
    requestId: request.id,
    request: { kind: "Signature" as const, walletId: wallet.id, walletTags: wallet.tags, network: wallet.network, initiatorId: requester.userId },
    activity: { kind: "Wallets:Sign", signatureRequest: signatureView(request) },
    requester,
    userAction,
    resume: { kind: "signature", payload: { walletId: wallet.id, signatureId: request.id } },
    http: input.http,
  };
  const { result: gate, audit } = await judgePolicies(env, requester.orgId, { ...described, request: judged });
  const now = new Date().toISOString();
  // wallet.signature.requested goes out with the request's next state, in one call to the org's webhooks.
  if (gate.status === "Blocked") {
    const rejected = await records.putSignature({ ...request, status: "Rejected", reason: gate.reason, datePolicyResolved: now });
    return success({ record: await announced(env, requester.orgId, rejected, [request]), audit });
  }
  if (gate.status === "Pending") {
    const held = await records.putSignature({ ...request, approvalId: gate.approvalId });
    await announced(env, requester.orgId, request);
    return success({ record: held, audit });
  }
  // Allowed: the line joins the org's batch now (see above); the ceremony does not wait for it.
  await recordGateAudit(env, requester.orgId, audit, deps.waitUntil);
  const done = await executeSignature(env, records, {
    orgId: requester.orgId,
    wallet,
    request: { ...request, datePolicyResolved: now },
    intent: intent.intent,
    message,
    userAction,
    reservation: gate.reservation,
    requested: request,
    ...(gate.signingFacts ? { policyFacts: gate.signingFacts } : {}),
    // The nodes refused under policies newer than this decision: decided again (held or rejected).
    reconsider: async () => {
      const again = await reconsiderPolicies(env, requester.orgId, described);
      if (again.audit) await recordGateAudit(env, requester.orgId, again.audit);
      return again.result.status === "Pending" ? { status: "Pending", approvalId: again.result.approvalId } : again.result.status === "Blocked" ? { status: "Blocked", reason: again.result.reason } : { status: "Unexplained" };
    },
  });
  return success({ record: done, audit: null });
}
