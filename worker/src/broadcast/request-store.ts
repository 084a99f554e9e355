// One wallet's transfers, broadcast transactions and nonce fills, as rows of its Durable Object,
// and how a row reads on the wire. A row carries everything needed to resume after an eviction:
// the built unsigned transaction, then the signed raw transaction, are written before the next
// step starts, so a restart re-broadcasts the same bytes and never signs a second transaction.
import { explorerLink, type NetworkConfig } from "../networks/networks.js";
import type { SigningAuthorization } from "../signing/authorization.js";
import type { Sql } from "./sql.js";
import type { BroadcastBody, RequestStatus, Requester, TransactionRequest, TransferBody, TransferRequest } from "./wire.js";

export type RequestKind = "Transfer" | "Transaction" | "NonceFill";

export const REQUEST_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS chain_requests (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     kind TEXT NOT NULL,
     wallet_id TEXT NOT NULL,
     network TEXT NOT NULL,
     external_id TEXT,
     status TEXT NOT NULL,
     reason TEXT,
     request_body TEXT NOT NULL,
     requester TEXT NOT NULL,
     authorization TEXT,
     reservation_id TEXT,
     approval_id TEXT,
     origin_id TEXT,
     fill_round INTEGER NOT NULL DEFAULT 0,
     call_to TEXT NOT NULL,
     call_value TEXT NOT NULL,
     call_data TEXT NOT NULL,
     gas_limit TEXT,
     max_fee TEXT,
     max_priority_fee TEXT,
     priority TEXT NOT NULL,
     asset TEXT NOT NULL,
     nonce INTEGER,
     unsigned_tx TEXT,
     raw_tx TEXT,
     tx_hash TEXT,
     maybe_sent INTEGER NOT NULL DEFAULT 0,
     reached_chain INTEGER NOT NULL DEFAULT 0,
     broadcasts INTEGER NOT NULL DEFAULT 0,
     fee TEXT,
     block_number INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER,
     date_requested TEXT NOT NULL,
     date_policy_resolved TEXT,
     date_broadcasted TEXT,
     date_confirmed TEXT)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS chain_requests_external ON chain_requests (kind, external_id) WHERE external_id IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS chain_requests_due ON chain_requests (next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
];

export interface RequestRow {
  [column: string]: string | number | null;
  seq: number;
  id: string;
  kind: RequestKind;
  wallet_id: string;
  network: string;
  external_id: string | null;
  status: RequestStatus;
  reason: string | null;
  request_body: string;
  requester: string;
  authorization: string | null;
  reservation_id: string | null;
  approval_id: string | null;
  origin_id: string | null;
  /** Nonce fills only: how many fills of this nonce failed before (for backoff). */
  fill_round: number;
  call_to: string;
  call_value: string;
  call_data: string;
  gas_limit: string | null;
  max_fee: string | null;
  max_priority_fee: string | null;
  priority: string;
  asset: string;
  nonce: number | null;
  unsigned_tx: string | null;
  raw_tx: string | null;
  tx_hash: string | null;
  maybe_sent: number;
  reached_chain: number;
  broadcasts: number;
  fee: string | null;
  block_number: number | null;
  attempts: number;
  next_attempt_at: number | null;
  date_requested: string;
  date_policy_resolved: string | null;
  date_broadcasted: string | null;
  date_confirmed: string | null;
}

export type NewRequest = Partial<Pick<RequestRow, "unsigned_tx">> & Pick<
  RequestRow,
  | "id"
  | "kind"
  | "wallet_id"
  | "network"
  | "external_id"
  | "status"
  | "reason"
  | "request_body"
  | "requester"
  | "authorization"
  | "reservation_id"
  | "approval_id"
  | "origin_id"
  | "fill_round"
  | "call_to"
  | "call_value"
  | "call_data"
  | "gas_limit"
  | "max_fee"
  | "max_priority_fee"
  | "priority"
  | "asset"
  | "nonce"
  | "next_attempt_at"
  | "date_requested"
  | "date_policy_resolved"
>;

export class RequestStore {
  constructor(private readonly sql: Sql) {}

  insert(r: NewRequest): RequestRow {
    const cols = Object.keys(r);
    this.sql.exec(`INSERT INTO chain_requests (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, ...cols.map((c) => r[c as keyof NewRequest] ?? null));
    return this.get(r.id)!;
  }

  get(id: string): RequestRow | null {
    return this.sql.exec<RequestRow>("SELECT * FROM chain_requests WHERE id = ?", id).toArray()[0] ?? null;
  }

  byExternalId(kind: RequestKind, externalId: string): RequestRow | null {
    return this.sql.exec<RequestRow>("SELECT * FROM chain_requests WHERE kind = ? AND external_id = ?", kind, externalId).toArray()[0] ?? null;
  }

  /** Sets the given columns of one row. */
  update(id: string, changes: Partial<Omit<RequestRow, "seq" | "id">>): RequestRow {
    const cols = Object.keys(changes);
    if (cols.length > 0) {
      this.sql.exec(`UPDATE chain_requests SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, ...cols.map((c) => changes[c] ?? null), id);
    }
    return this.get(id)!;
  }

  /** Newest first, like Dfns lists; the pagination token is the last row's sequence number. */
  list(kind: RequestKind, limit: number, before?: number): { rows: RequestRow[]; nextBefore: number | null } {
    const rows = this.sql
      .exec<RequestRow>("SELECT * FROM chain_requests WHERE kind = ? AND seq < ? ORDER BY seq DESC LIMIT ?", kind, before ?? Number.MAX_SAFE_INTEGER, limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return { rows: page, nextBefore: rows.length > limit ? page[page.length - 1]!.seq : null };
  }

  dueIds(now: number): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM chain_requests WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? ORDER BY seq", now)
      .toArray()
      .map((r) => r.id);
  }

  nextDueAt(): number | null {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM chain_requests WHERE next_attempt_at IS NOT NULL").toArray()[0];
    return row?.at ?? null;
  }

  /** Requests still waiting for a nonce (they will take a free one before any nonce fill is made). */
  countAwaitingNonce(): number {
    const row = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM chain_requests WHERE status IN ('Pending', 'Executing') AND nonce IS NULL AND next_attempt_at IS NOT NULL")
      .toArray()[0];
    return row?.n ?? 0;
  }

  /** Every nonce used by this wallet's requests, in order (for checks and tests). */
  noncesInUse(): { id: string; kind: RequestKind; nonce: number; status: RequestStatus }[] {
    return this.sql
      .exec<{ id: string; kind: RequestKind; nonce: number; status: RequestStatus }>(
        "SELECT id, kind, nonce, status FROM chain_requests WHERE nonce IS NOT NULL ORDER BY nonce",
      )
      .toArray();
  }
}

export function parseAuthorization(row: RequestRow): SigningAuthorization | null {
  return row.authorization ? (JSON.parse(row.authorization) as SigningAuthorization) : null;
}

/** The Dfns TransferRequest / TransactionRequest a row stands for. */
export function toWire(row: RequestRow, network: NetworkConfig | null): TransferRequest | TransactionRequest {
  const base = {
    id: row.id,
    walletId: row.wallet_id,
    network: row.network,
    requester: JSON.parse(row.requester) as Requester,
    status: row.status,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.tx_hash !== null && row.date_broadcasted !== null ? { txHash: row.tx_hash } : {}),
    ...(row.fee !== null ? { fee: row.fee } : {}),
    dateRequested: row.date_requested,
    ...(row.date_policy_resolved !== null ? { datePolicyResolved: row.date_policy_resolved } : {}),
    ...(row.date_broadcasted !== null ? { dateBroadcasted: row.date_broadcasted } : {}),
    ...(row.date_confirmed !== null ? { dateConfirmed: row.date_confirmed } : {}),
    ...(row.approval_id !== null ? { approvalId: row.approval_id } : {}),
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    details: details(row, network),
  };
  if (row.kind === "Transfer") {
    return { ...base, requestBody: JSON.parse(row.request_body) as TransferBody, metadata: { asset: JSON.parse(row.asset) } };
  }
  return { ...base, requestBody: JSON.parse(row.request_body) as BroadcastBody };
}

function details(row: RequestRow, network: NetworkConfig | null): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (row.nonce !== null) out.nonce = row.nonce;
  if (row.unsigned_tx !== null) {
    if (row.gas_limit !== null) out.gasLimit = row.gas_limit;
    if (row.max_fee !== null) out.maxFeePerGas = row.max_fee;
    if (row.max_priority_fee !== null) out.maxPriorityFeePerGas = row.max_priority_fee;
  }
  if (row.block_number !== null) out.blockNumber = row.block_number;
  if (row.tx_hash !== null && row.date_broadcasted !== null && network) {
    const link = explorerLink(network, row.tx_hash);
    if (link) out.explorerUrl = link;
  }
  return out;
}
