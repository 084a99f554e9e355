// The wallets of one organisation, their keys and their signature requests, in a SQLite Durable
// Object named by the org id. A wallet is written only after its key exists on the share holders;
// a signature request is written before the nodes are asked and updated with their answer, so a
// crash mid-ceremony leaves a request in a defined state (Executing → later Failed), never lost.
import { DurableObject } from "cloudflare:workers";
import type { KeyCurve, KeyScheme, WalletNetwork } from "./chains.js";

export interface WalletRecord {
  id: string;
  orgId: string;
  network: WalletNetwork;
  name: string | null;
  externalId: string | null;
  tags: string[];
  keyId: string;
  scheme: KeyScheme;
  curve: KeyCurve;
  publicKey: string;
  address: string | null;
  status: "Active" | "Archived";
  dateCreated: string;
  creatorId: string;
}

export type SignatureStatus = "Pending" | "Executing" | "Signed" | "Failed" | "Rejected";

export interface SignatureRecord {
  id: string;
  walletId: string;
  keyId: string;
  network: WalletNetwork;
  requester: { userId: string; tokenId?: string };
  /** The request body exactly as the user signed it (JSON text). */
  requestBody: string;
  status: SignatureStatus;
  reason?: string;
  signature?: { r: string; s: string; recid?: number; encoded: string };
  signedData?: string;
  approvalId?: string;
  dateRequested: string;
  datePolicyResolved?: string;
  dateSigned?: string;
}

type Row = Record<string, SqlStorageValue>;

export class WalletRegistry extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS wallets (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS signatures (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, wallet_id TEXT NOT NULL, record TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS signatures_by_wallet ON signatures (wallet_id, seq);`);
  }

  addWallet(w: WalletRecord): WalletRecord {
    this.ctx.storage.sql.exec("INSERT INTO wallets (id, record) VALUES (?, ?)", w.id, JSON.stringify(w));
    return w;
  }

  getWallet(id: string): WalletRecord | null {
    const row = this.ctx.storage.sql.exec<Row>("SELECT record FROM wallets WHERE id = ?", id).toArray()[0];
    return row ? (JSON.parse(String(row.record)) as WalletRecord) : null;
  }

  /** Newest first; the pagination token is the sequence number to continue below. */
  listWallets(q: { limit: number; before?: number }): { items: WalletRecord[]; next?: number } {
    const rows = this.ctx.storage.sql
      .exec<Row>("SELECT seq, record FROM wallets WHERE seq < ? ORDER BY seq DESC LIMIT ?", q.before ?? Number.MAX_SAFE_INTEGER, q.limit + 1)
      .toArray();
    const items = rows.slice(0, q.limit).map((r) => JSON.parse(String(r.record)) as WalletRecord);
    return rows.length > q.limit ? { items, next: Number(rows[q.limit - 1]!.seq) } : { items };
  }

  updateWallet(id: string, change: Partial<Pick<WalletRecord, "name" | "externalId" | "tags" | "status">>): WalletRecord | null {
    const w = this.getWallet(id);
    if (!w) return null;
    const next = { ...w, ...change };
    this.ctx.storage.sql.exec("UPDATE wallets SET record = ? WHERE id = ?", JSON.stringify(next), id);
    return next;
  }

  putSignature(s: SignatureRecord): SignatureRecord {
    this.ctx.storage.sql.exec(
      "INSERT INTO signatures (id, wallet_id, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
      s.id,
      s.walletId,
      JSON.stringify(s),
    );
    return s;
  }

  getSignature(walletId: string, id: string): SignatureRecord | null {
    const row = this.ctx.storage.sql.exec<Row>("SELECT record FROM signatures WHERE id = ? AND wallet_id = ?", id, walletId).toArray()[0];
    return row ? (JSON.parse(String(row.record)) as SignatureRecord) : null;
  }

  listSignatures(walletId: string, q: { limit: number; before?: number }): { items: SignatureRecord[]; next?: number } {
    const rows = this.ctx.storage.sql
      .exec<Row>(
        "SELECT seq, record FROM signatures WHERE wallet_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        walletId,
        q.before ?? Number.MAX_SAFE_INTEGER,
        q.limit + 1,
      )
      .toArray();
    const items = rows.slice(0, q.limit).map((r) => JSON.parse(String(r.record)) as SignatureRecord);
    return rows.length > q.limit ? { items, next: Number(rows[q.limit - 1]!.seq) } : { items };
  }
}
