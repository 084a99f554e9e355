// The wallets of one organisation, their keys and their signature requests, in a SQLite Durable
// Object named by the org id. A wallet is written only after its key exists on the share holders;
// a signature request is written before the nodes are asked and updated with their answer, so a
// crash mid-ceremony leaves a request in a defined state (Executing → later Failed), never lost.
import { DurableObject } from "cloudflare:workers";
import type { Reservation } from "../policy/contract.js";
import { releaseReservation } from "../policy/gate.js";
import type { KeyCurve, KeyScheme, WalletNetwork } from "./chains.js";
import type { KeygenEvidence } from "../../../shared/src/mpc/keygen-attestation.js";
import { requestSignature, type SignatureRequestInput, type SignatureRequestOutcome } from "./signature-request.js";

/**
 * A request still Executing this long after it started was cut off (the Worker restarted while
 * the nodes were asked): longer than any ceremony's deadline (90 s), so no answer is pending.
 */
export const INTERRUPTED_AFTER_MS = 3 * 60_000;

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
  /** The share holders' signed statements of the key's generation (shared/src/mpc/keygen-attestation.ts); absent for a wallet put on an existing key. */
  keygen?: KeygenEvidence;
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
  /** One per signed input of a PSBT (Bitcoin). */
  signatures?: { r: string; s: string; recid?: number; encoded: string }[];
  signedData?: string;
  approvalId?: string;
  /** While Executing: the policy reservation to release if the request is cut off. */
  reservation?: Reservation;
  dateRequested: string;
  datePolicyResolved?: string;
  dateSigned?: string;
}

type Row = Record<string, SqlStorageValue>;

/** The registry of an organisation's wallets (one object per org, named by its id). */
/** Whether `id` has the shape of a wallet id (`newId("wa")`): anything else is no wallet, without asking the registry. */
export function isWalletId(id: string): boolean {
  return /^wa-[0-9a-z-]{1,64}$/.test(id);
}

export function walletRegistryOf(env: Cloudflare.Env, orgId: string) {
  return env.WALLETS.get(env.WALLETS.idFromName(orgId));
}

export class WalletRegistry extends DurableObject<Cloudflare.Env> {
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

  /** A wallet of this org on key `keyId` (the first one: the key's own wallet), or null. */
  walletOnKey(keyId: string): WalletRecord | null {
    const row = this.ctx.storage.sql.exec<Row>("SELECT record FROM wallets WHERE json_extract(record, '$.keyId') = ? ORDER BY seq LIMIT 1", keyId).toArray()[0];
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

  /** A signature request from the wallet to its outcome (./signature-request.ts): the route's one call. */
  requestSignature(input: SignatureRequestInput): Promise<SignatureRequestOutcome> {
    return requestSignature(this.env, this, input, { waitUntil: (p) => this.ctx.waitUntil(p) });
  }

  async putSignature(s: SignatureRecord): Promise<SignatureRecord> {
    // An Executing request gets a deadline: if nothing finishes it (the Worker died mid-ceremony),
    // the alarm fails it and releases its reservation instead of leaving it Executing forever.
    if (s.status === "Executing" && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + INTERRUPTED_AFTER_MS);
    if (s.status !== "Executing") delete s.reservation;
    this.ctx.storage.sql.exec(
      "INSERT INTO signatures (id, wallet_id, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
      s.id,
      s.walletId,
      JSON.stringify(s),
    );
    return s;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const rows = this.ctx.storage.sql.exec<Row>("SELECT record FROM signatures WHERE json_extract(record, '$.status') = 'Executing'").toArray();
    let next: number | null = null;
    for (const row of rows) {
      const s = JSON.parse(String(row.record)) as SignatureRecord;
      const started = Date.parse(s.datePolicyResolved ?? s.dateRequested);
      if (now - started < INTERRUPTED_AFTER_MS) {
        next = Math.min(next ?? Infinity, started + INTERRUPTED_AFTER_MS);
        continue;
      }
      if (s.reservation) await releaseReservation(this.env, s.reservation, "signing interrupted").catch(() => {});
      await this.putSignature({ ...s, status: "Failed", reason: "Signing was interrupted (the edge restarted during the ceremony); no signature was returned. Request it again." });
    }
    if (next !== null) await this.ctx.storage.setAlarm(next + 1_000);
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
