// How the CLI talks back. Results go to stdout: readable text on a terminal, JSON when piped or
// with --json (the exact API response, for scripts). Progress of long operations goes to stderr
// as stages (a key generation takes seconds), so stdout stays clean for whatever reads it.

export type OutputFormat = "text" | "json";

/** Stages of one long operation, on stderr with the time since it started. */
export class Progress {
  private readonly started = performance.now();
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly write: ((line: string) => void) | null,
    private readonly live = false,
  ) {}

  private elapsed(): string {
    return `${((performance.now() - this.started) / 1000).toFixed(1)} s`;
  }

  stage(text: string): void {
    this.stopTicker();
    this.write?.(`… ${text} [${this.elapsed()}]`);
  }

  /** A stage that waits on others (the share holders): on a terminal, the clock keeps ticking. */
  waiting(text: string): void {
    this.stage(text);
    if (this.write && this.live) this.ticker = setInterval(() => process.stderr.write(`\r  waiting ${this.elapsed()}   `), 1000);
  }

  done(text: string): void {
    this.stopTicker();
    this.write?.(`✓ ${text} [${this.elapsed()}]`);
  }

  stopTicker(): void {
    if (!this.ticker) return;
    clearInterval(this.ticker);
    this.ticker = undefined;
    process.stderr.write("\r\x1b[K");
  }
}

const scalar = (v: unknown): string => (v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));

function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((r) => columns.map((c) => scalar(c.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns.map((c) => c.split(".").pop()!.toUpperCase())), ...cells.map(line)].join("\n");
}

function fields(obj: Record<string, unknown>, indent = ""): string {
  return Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
        ? `${indent}${k}:\n${fields(v as Record<string, unknown>, `${indent}  `)}`
        : `${indent}${k}: ${scalar(v)}`,
    )
    .join("\n");
}

/** Columns shown for lists, by what the items are. */
const LIST_COLUMNS: [test: (item: Record<string, unknown>) => boolean, columns: string[]][] = [
  [(i) => "network" in i && "address" in i, ["id", "network", "address", "status", "name"]],
  [(i) => "requestBody" in i && "txHash" in i, ["id", "status", "requestBody.kind", "requestBody.to", "requestBody.amount", "txHash"]],
  [(i) => "activityId" in i || "activity" in i, ["id", "status", "initiatorId", "dateCreated"]],
  [(i) => "rule" in i, ["id", "name", "status", "activityKind", "rule.kind", "action.kind"]],
];

/** The result as a person reads it: a table for lists, "field: value" lines for one object. */
export function renderText(result: unknown): string {
  if (result === null || result === undefined) return "";
  if (typeof result !== "object") return String(result);
  const items = (result as { items?: unknown }).items;
  if (Array.isArray(items)) {
    const rows = items as Record<string, unknown>[];
    const columns = (rows[0] && LIST_COLUMNS.find(([test]) => test(rows[0]!))?.[1]) ?? (rows[0] ? Object.keys(rows[0]).filter((k) => typeof rows[0]![k] !== "object").slice(0, 6) : []);
    return table(rows, columns);
  }
  return fields(result as Record<string, unknown>);
}

export function render(result: unknown, format: OutputFormat): string {
  return format === "json" ? JSON.stringify(result, null, 2) : renderText(result);
}
