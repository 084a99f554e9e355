// The local screening provider: the recipient is looked up in a sanctioned-address list bundled
// with the Worker (ofac-sdn-addresses.json: the OFAC SDN "Digital Currency Address" entries,
// dated snapshot). No I/O, so it works offline and in every test; replace the file to update.
import { canonicalAddress } from "../../../../shared/src/policy/addresses.js";
import type { PolicyRequest, ScreeningResult } from "../../../../shared/src/policy/types.js";
import bundled from "./ofac-sdn-addresses.json";
import type { ScreeningProvider } from "./provider.js";

export interface SanctionsListFile {
  list: string;
  snapshot: string;
  /** Addresses by the asset code OFAC lists them under (ETH, XBT, USDT…). */
  addresses: Record<string, string[]>;
}

export class SanctionsListScreening implements ScreeningProvider {
  readonly name = "local sanctions list";
  private readonly index = new Map<string, string[]>();
  private readonly source: string;

  constructor(file: SanctionsListFile = bundled) {
    this.source = `${file.list} (snapshot ${file.snapshot})`;
    for (const [asset, addresses] of Object.entries(file.addresses)) {
      for (const address of addresses) {
        const key = canonicalAddress(address);
        this.index.set(key, [...(this.index.get(key) ?? []), asset]);
      }
    }
  }

  get size(): number {
    return this.index.size;
  }

  /** Every address format is looked up: an address listed under any asset is sanctioned everywhere. */
  async screen(request: PolicyRequest): Promise<ScreeningResult> {
    if (request.to === undefined) return { status: "Unscreenable", provider: this.name, detail: "the request has no recipient" };
    const listedUnder = this.index.get(canonicalAddress(request.to));
    if (!listedUnder) return { status: "Screened", provider: this.name, findings: [] };
    return { status: "Screened", provider: this.name, findings: [{ address: request.to, category: "sanctions", source: `${this.source}, listed as ${listedUnder.join("/")}` }] };
  }
}
