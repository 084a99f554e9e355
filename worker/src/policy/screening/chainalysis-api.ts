// A hosted screening provider: Chainalysis's sanctions screening API
// (GET {base}/api/v1/address/{address}, header X-API-Key → {"identifications":[{category, name,
// description, url}]}). Enabled when CHAINALYSIS_API_KEY is set. Its findings carry the
// category Chainalysis reports ("sanctions" triggers every prescreening policy).
import type { PolicyRequest, ScreeningFinding, ScreeningResult } from "../../../../shared/src/policy/types.js";
import type { ScreeningProvider } from "./provider.js";

export const CHAINALYSIS_PUBLIC_API = "https://public.chainalysis.com";

interface Identification {
  category?: unknown;
  name?: unknown;
  description?: unknown;
  url?: unknown;
}

export class ChainalysisSanctionsApi implements ScreeningProvider {
  readonly name = "Chainalysis sanctions API";

  constructor(
    private readonly options: { apiKey: string; baseUrl?: string; fetch?: typeof fetch; timeoutMs?: number },
  ) {}

  async screen(request: PolicyRequest): Promise<ScreeningResult> {
    if (request.to === undefined) return { status: "Unscreenable", provider: this.name, detail: "the request has no recipient" };
    const base = (this.options.baseUrl ?? CHAINALYSIS_PUBLIC_API).replace(/\/+$/, "");
    const doFetch = this.options.fetch ?? fetch;
    const res = await doFetch(`${base}/api/v1/address/${encodeURIComponent(request.to)}`, {
      headers: { "X-API-Key": this.options.apiKey, accept: "application/json" },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (!res.ok) return { status: "Failed", provider: this.name, detail: `HTTP ${res.status}` };
    const body = (await res.json()) as { identifications?: unknown };
    if (!Array.isArray(body.identifications)) return { status: "Failed", provider: this.name, detail: "unexpected response shape" };
    const findings: ScreeningFinding[] = (body.identifications as Identification[]).map((i) => ({
      address: request.to!,
      category: typeof i.category === "string" ? i.category.toLowerCase() : "unknown",
      source: `${this.name}${typeof i.name === "string" ? `: ${i.name.slice(0, 200)}` : ""}`,
    }));
    return { status: "Screened", provider: this.name, findings };
  }
}
