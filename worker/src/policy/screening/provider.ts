// Recipient screening for ChainalysisTransactionPrescreening policies, behind one interface so
// the gate does not care where the answer comes from: the bundled sanctions list (no I/O), a
// hosted API (Chainalysis's sanctions endpoint), or both in turn. The engine only ever sees the
// resulting ScreeningResult (types.ts); a provider that throws is reported as "Failed", which the
// policy's skipChainalysisFailure fallback then decides on.
import type { PolicyRequest, ScreeningResult } from "../../../../shared/src/policy/types.js";

export interface ScreeningProvider {
  /** Short name shown in decisions and the audit log. */
  readonly name: string;
  screen(request: PolicyRequest): Promise<ScreeningResult>;
}

/** Runs providers in order and merges their findings; the first non-"Screened" answer wins if none screened. */
export class CombinedScreening implements ScreeningProvider {
  readonly name: string;

  constructor(private readonly providers: ScreeningProvider[]) {
    this.name = providers.map((p) => p.name).join(" + ");
  }

  async screen(request: PolicyRequest): Promise<ScreeningResult> {
    const results = await Promise.all(this.providers.map((p) => screenSafely(p, request)));
    const screened = results.filter((r) => r.status === "Screened");
    // Any provider that could not screen makes the whole answer incomplete: report its reason
    // unless another provider already found something (a hit is a hit).
    const findings = screened.flatMap((r) => (r.status === "Screened" ? r.findings : []));
    const incomplete = results.find((r) => r.status !== "Screened");
    if (findings.length > 0 || !incomplete) return { status: "Screened", provider: this.name, findings };
    return incomplete;
  }
}

/** A provider's answer, with a thrown error turned into a "Failed" result. */
export async function screenSafely(provider: ScreeningProvider, request: PolicyRequest): Promise<ScreeningResult> {
  try {
    return await provider.screen(request);
  } catch (err) {
    return { status: "Failed", provider: provider.name, detail: err instanceof Error ? err.message : String(err) };
  }
}
