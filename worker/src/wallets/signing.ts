// Running one signature request through the share holders, from the route or after an approval:
// Executing is written before the nodes are asked, Signed or Failed after, and the policy
// reservation is committed only for a signature that exists (released otherwise), so velocity
// limits count what was really signed.
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { isSolanaNetwork, parseCallerTransaction } from "../../../shared/src/chains/solana/rules.js";
import { withSignature } from "../../../shared/src/chains/solana/wire.js";
import { parseTransaction, serializeTransaction, type Hex } from "viem";
import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import { parsePsbt, walletInputs, walletOutput, walletSighash } from "../../../shared/src/chains/bitcoin/rules.js";
import { intentFromSignatureBody, IntentError, signingMessageFor, type SigningIntent } from "../../../shared/src/mpc/intent.js";
import { witnessFor } from "../chains/bitcoin/transfers.js";
import type { Reservation, SigningFacts } from "../policy/contract.js";
import { commitReservation, releaseReservation } from "../policy/gate.js";
import { onResume } from "../signing/resume.js";
import { shareHoldersOf } from "../signing/share-holders.js";
import { walletKeyKind } from "./chains.js";
import { walletRegistryOf, type SignatureRecord, type WalletRecord } from "./wallet-registry.js";
import type { Refusal } from "../http/errors.js";
import { publishEvents } from "../webhooks/publish.js";

/** The Dfns SignatureRequest: the stored record with the request body as JSON again. */
export function signatureView(s: SignatureRecord) {
  let requestBody: unknown;
  try {
    requestBody = JSON.parse(s.requestBody);
  } catch {
    requestBody = s.requestBody;
  }
  return { ...s, requestBody };
}


/** The Dfns signature object: r and s 0x-hex, recid for ECDSA, and the chain's encoding. */
export function signatureFields(scheme: WalletRecord["scheme"], signatureHex: string, recid: number | undefined) {
  const r = `0x${signatureHex.slice(0, 64)}`;
  const s = `0x${signatureHex.slice(64, 128)}`;
  if (scheme === "ECDSA") {
    const v = (27 + (recid ?? 0)).toString(16).padStart(2, "0");
    return { r, s, recid: recid ?? 0, encoded: `0x${signatureHex}${v}` };
  }
  return { r, s, encoded: `0x${signatureHex}` };
}

/** The wallet's inputs of a caller's PSBT and the sighash each is signed over (IntentError when it has none). */
export function psbtMessages(wallet: WalletRecord, psbt: string): { index: number; message: Uint8Array }[] {
  if (!/^Bitcoin/.test(wallet.network)) throw new IntentError(`a PSBT is signed by a Bitcoin wallet, not a ${wallet.network} one`);
  const scheme = walletKeyKind(wallet)!.mpcScheme;
  const own = walletOutput(scheme, wallet.publicKey);
  const tx = parsePsbt(psbt);
  const inputs = walletInputs(tx, own);
  if (inputs.length === 0) throw new IntentError("the PSBT has no input spending this wallet's address (each input needs its witnessUtxo)");
  return inputs.map((index) => ({ index, message: walletSighash(tx, index, own) }));
}

/**
 * generateSignature {kind: "Psbt"}: one ceremony per wallet input (each node recomputes that
 * input's sighash from the user's PSBT); the PSBT comes back with the signatures in it
 * (partialSig for P2WPKH, tapKeySig for Taproot), for the caller to finalize.
 */
async function signPsbt(env: Cloudflare.Env, job: { orgId: string; wallet: WalletRecord; psbt: string; userAction: UserActionEvidence; policyFacts?: SigningFacts }): Promise<{ ok: true; signatures: NonNullable<SignatureRecord["signatures"]>; signedData: string } | { ok: false; message: string; refusal?: Refusal }> {
  const own = walletOutput(walletKeyKind(job.wallet)!.mpcScheme, job.wallet.publicKey);
  const tx = parsePsbt(job.psbt);
  const signatures: NonNullable<SignatureRecord["signatures"]> = [];
  for (const { index, message } of psbtMessages(job.wallet, job.psbt)) {
    const out = await shareHoldersOf(env, job.orgId).sign({
      keyId: job.wallet.keyId,
      intent: { kind: "Psbt", psbt: job.psbt, index },
      message: bytesToHex(message),
      userAction: job.userAction,
      ...(job.policyFacts ? { policyFacts: job.policyFacts } : {}),
    });
    // A refusal at any input is the whole request's: a policy refusal after earlier inputs were
    // signed (a policy landed between their ceremonies) holds or rejects the request like one at
    // the first; the earlier inputs' signatures are dropped (never stored or returned).
    if (!out.ok) return { ok: false, message: `input ${index}: ${out.message}`, ...(out.refusal ? { refusal: out.refusal } : {}) };
    const witness = witnessFor(own, message, { r: out.value.signature.slice(0, 64), s: out.value.signature.slice(64, 128) });
    if (own.kind === "p2tr") tx.updateInput(index, { tapKeySig: witness[0]! }, true);
    else tx.updateInput(index, { partialSig: [[own.publicKey, witness[0]!]] }, true);
    signatures.push({ ...signatureFields(job.wallet.scheme, out.value.signature, out.value.recid), encoded: `0x${bytesToHex(witness[0]!)}` });
  }
  return { ok: true, signatures, signedData: `0x${bytesToHex(tx.toPSBT())}` };
}

/** Where a request's records are written: the org's WalletRegistry itself, or its stub from elsewhere. */
export interface SignatureRecords {
  putSignature(s: SignatureRecord): Promise<SignatureRecord>;
}

export async function executeSignature(
  env: Cloudflare.Env,
  reg: SignatureRecords,
  job: {
    orgId: string;
    wallet: WalletRecord;
    request: SignatureRecord;
    intent: SigningIntent;
    message: Uint8Array;
    userAction: UserActionEvidence;
    reservation?: Reservation;
    /** The policy gate's facts for the request (absent: the coordinator asks for them). */
    policyFacts?: SigningFacts;
    /** The request as it was asked for, when its wallet.signature.requested is not announced yet: it goes out with the outcome. */
    requested?: SignatureRecord;
    /**
     * The share holders refused under the org's policies: the gate's decision again under the
     * policies in force now (policy/gate.ts reconsiderPolicies). Given only for a request the gate
     * allowed (never for one resumed after its approval), so it is asked at most once.
     */
    reconsider?: () => Promise<{ status: "Pending"; approvalId: string } | { status: "Blocked"; reason: string } | { status: "Unexplained" }>;
  },
): Promise<SignatureRecord> {
  const earlier = job.requested ? [job.requested] : [];
  const executing = await reg.putSignature({ ...job.request, status: "Executing", ...(job.reservation ? { reservation: job.reservation } : {}) });
  const reconsidered = async (refusal: { refusal?: string }): Promise<SignatureRecord | null> => {
    if (refusal.refusal !== "policy" || !job.reconsider) return null;
    const verdict = await job.reconsider();
    // Held or blocked as if the policy had been in force when the request came (the gate's own
    // answers in signature-request.ts); the reservation is PolicyState's business now.
    if (verdict.status === "Pending") {
      const { datePolicyResolved: _unresolved, ...asked } = executing;
      // One wallet.signature.requested, for the request as it now stands (held, with its approval).
      return announced(env, job.orgId, await reg.putSignature({ ...asked, status: "Pending", approvalId: verdict.approvalId }));
    }
    if (verdict.status === "Blocked") return announced(env, job.orgId, await reg.putSignature({ ...executing, status: "Rejected", reason: verdict.reason, datePolicyResolved: new Date().toISOString() }), earlier);
    return null;
  };
  if (job.intent.kind === "Psbt") {
    const done = await signPsbt(env, { orgId: job.orgId, wallet: job.wallet, psbt: job.intent.psbt, userAction: job.userAction, ...(job.policyFacts ? { policyFacts: job.policyFacts } : {}) });
    // (A PSBT's outcome is not announced, only its request.)
    if (!done.ok) {
      // Refused under policy at any input: the whole request held or blocked, once, as the
      // policies now say (one decision, one approval); approved, every input is signed again (the
      // nodes sign the messages of one user action's transaction as often as needed).
      const held = await reconsidered(done);
      if (held) return held;
    }
    if (job.requested) await announced(env, job.orgId, job.requested);
    if (!done.ok) {
      if (job.reservation) await releaseReservation(env, job.reservation, `signing failed: ${done.message}`);
      return reg.putSignature({ ...executing, status: "Failed", reason: done.message });
    }
    const saved = await reg.putSignature({ ...executing, status: "Signed", signature: done.signatures[0]!, signatures: done.signatures, signedData: done.signedData, dateSigned: new Date().toISOString() });
    if (job.reservation) await commitReservation(env, job.reservation);
    return saved;
  }
  const out = await shareHoldersOf(env, job.orgId).sign({
    keyId: job.wallet.keyId,
    intent: job.intent,
    message: bytesToHex(job.message),
    userAction: job.userAction,
    ...(job.policyFacts ? { policyFacts: job.policyFacts } : {}),
  });
  if (!out.ok) {
    const held = await reconsidered(out);
    if (held) return held;
    if (job.reservation) await releaseReservation(env, job.reservation, `signing failed: ${out.message}`);
    return announced(env, job.orgId, await reg.putSignature({ ...executing, status: "Failed", reason: out.message }), earlier);
  }
  const signature = signatureFields(job.wallet.scheme, out.value.signature, out.value.recid);
  const signed: SignatureRecord = { ...executing, status: "Signed", signature, dateSigned: new Date().toISOString() };
  if (job.intent.kind === "Transaction" && job.wallet.scheme === "ECDSA") {
    const tx = parseTransaction(job.intent.transaction as Hex);
    signed.signedData = serializeTransaction(tx, { r: signature.r as Hex, s: signature.s as Hex, yParity: signature.recid ?? 0 });
  }
  if (job.intent.kind === "Transaction" && isSolanaNetwork(job.wallet.network) && job.wallet.address) {
    // The caller's transaction with the wallet's slot filled, ready to send.
    const tx = parseCallerTransaction(job.intent.transaction, job.wallet.address);
    signed.signedData = `0x${bytesToHex(withSignature(tx, job.wallet.address, hexToBytes(out.value.signature)))}`;
  }
  const saved = await reg.putSignature(signed);
  // The signature exists (stored): its reservation now counts, and it is announced — independent, so at once.
  await Promise.all([job.reservation ? commitReservation(env, job.reservation) : undefined, announced(env, job.orgId, saved, earlier)]);
  return saved;
}

/**
 * wallet.signature.<status> (requested, signed, failed, rejected) for the org's webhooks: the
 * request's last state, after the earlier states not yet announced (`before`: the request as it
 * was asked for), in one call.
 */
export async function announced(env: Cloudflare.Env, orgId: string, s: SignatureRecord, before: SignatureRecord[] = []): Promise<SignatureRecord> {
  const verb = (r: SignatureRecord) => (r.status === "Pending" || r.status === "Executing" ? "requested" : r.status.toLowerCase());
  await publishEvents(env, orgId, [...before, s].map((r) => ({ kind: `wallet.signature.${verb(r)}`, data: { signatureRequest: signatureView(r) } })));
  return s;
}

// A signature request that a policy held: approved → signed now; rejected → Rejected, never signed.
onResume("signature", async (env, event) => {
  const { walletId, signatureId } = event.input.resume.payload as { walletId: string; signatureId: string };
  const reg = walletRegistryOf(env, event.orgId);
  const request = await reg.getSignature(walletId, signatureId);
  const wallet = await reg.getWallet(walletId);
  if (!request || !wallet) return; // nothing to resume: the event is spent
  if (request.status !== "Pending") return; // delivered before: idempotent by request id
  const now = new Date().toISOString();
  if (event.outcome === "Rejected") {
    await announced(env, event.orgId, await reg.putSignature({ ...request, status: "Rejected", reason: event.reason, datePolicyResolved: now }));
    return;
  }
  const userAction = event.input.userAction;
  const intent = userAction ? intentFromSignatureBody(userAction.payload) : null;
  if (!userAction || !intent?.ok) {
    await releaseReservation(env, event.reservation, "held request lost its user action");
    await reg.putSignature({ ...request, status: "Failed", reason: "the held request's user action is missing", datePolicyResolved: now });
    return;
  }
  const message =
    intent.intent.kind === "Psbt" ? new Uint8Array(0) /* signed input by input in executeSignature */ : signingMessageFor(intent.intent, walletKeyKind(wallet)!.mpcScheme, undefined, wallet.publicKey, wallet.network);
  const records: SignatureRecords = { putSignature: (s) => reg.putSignature(s) as Promise<SignatureRecord> };
  await executeSignature(env, records, { orgId: event.orgId, wallet, request: { ...request, datePolicyResolved: now }, intent: intent.intent, message, userAction, reservation: event.reservation });
});

