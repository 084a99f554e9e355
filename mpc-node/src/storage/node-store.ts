// The node's durable state in one SQLite database (node:sqlite): key records with their sealed
// shares, bans, the authorization replay cache and the user actions already spent. Every change
// is one transaction in WAL mode with synchronous=FULL, so a crash leaves either the old or the
// new state, never half of one. Shares are stored sealed (ShareVault) and handed out only as
// bytes to the MPC core in this process.
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { AuthorizationContext, KeyRecordView, Party } from "../../../shared/src/mpc/authorization.js";
import { canonicalJson } from "../../../shared/src/mpc/canonical-json.js";
import type { OwnUsage } from "../../../shared/src/policy/at-nodes.js";
import type { MpcScheme } from "../../../shared/src/mpc/scheme.js";
import type { ShareVault } from "./share-vault.js";
import { PathSyncer } from "./group-commit.js";

export interface KeyRecord extends KeyRecordView {
  myIndex: number;
  publicKey: string;
  chainCode: string | null;
  generation: number;
  createdAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  key_id TEXT PRIMARY KEY,
  scheme TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  parties TEXT NOT NULL,
  my_index INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  chain_code TEXT,
  org_id TEXT NOT NULL,
  wallet_id TEXT,
  network TEXT,
  derivation_path TEXT,
  credentials TEXT NOT NULL,
  generation INTEGER NOT NULL,
  share BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- Keys derived from a master key (Dfns signingKey.deriveFrom): no share of their own, only the
-- master and the BIP32 path, plus what the user's creation request bound to them.
CREATE TABLE IF NOT EXISTS derived_keys (
  key_id TEXT PRIMARY KEY,
  master_key_id TEXT NOT NULL,
  path TEXT NOT NULL,
  public_key TEXT NOT NULL,
  org_id TEXT NOT NULL,
  wallet_id TEXT,
  network TEXT,
  credentials TEXT NOT NULL,
  owner TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (master_key_id, path)
) STRICT;
CREATE TABLE IF NOT EXISTS retired_shares (
  key_id TEXT NOT NULL,
  generation INTEGER NOT NULL,
  share BLOB NOT NULL,
  retired_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, generation)
) STRICT;
-- This node's shares of presignatures (wasm/vendor/dkls23-core/PRESIGN.md), sealed like shares.
-- Each is taken (read and deleted in one transaction) before its partial signature leaves the node:
-- a presignature signs at most once, also across restarts.
CREATE TABLE IF NOT EXISTS presignatures (
  presignature_id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  signers TEXT NOT NULL,
  generation INTEGER NOT NULL,
  presignature BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS bans (
  key_id TEXT NOT NULL,
  peer_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (key_id, peer_id)
) STRICT;
CREATE TABLE IF NOT EXISTS nonces (
  edge_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (edge_id, nonce)
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS user_actions (
  challenge TEXT PRIMARY KEY,
  binding TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS wallet_usage (
  wallet_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  record TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (wallet_id, request_id)
) STRICT;
CREATE TABLE IF NOT EXISTS peer_audit_heads (
  peer_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (peer_id, seq)
) STRICT;
CREATE TABLE IF NOT EXISTS governed_orgs (
  org_id TEXT PRIMARY KEY,
  roots TEXT NOT NULL,
  root_permission TEXT,
  added_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS governance_entries (
  org_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  entry TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (org_id, idx)
) STRICT;
CREATE TABLE IF NOT EXISTS evm_nonces (
  scope TEXT PRIMARY KEY,
  nonce INTEGER NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;
`;

interface KeyRow {
  key_id: string;
  scheme: string;
  threshold: number;
  parties: string;
  my_index: number;
  public_key: string;
  chain_code: string | null;
  org_id: string;
  wallet_id: string | null;
  network: string | null;
  derivation_path: string | null;
  credentials: string;
  owner: string | null;
  generation: number;
  created_at: number;
}

export class NodeStore {
  private readonly db: DatabaseSync;

  constructor(
    path: string,
    private readonly vault: ShareVault,
    private readonly nodePeerId: string,
  ) {
    this.db = new DatabaseSync(path);
    this.wal = new PathSyncer(`${path}-wal`);
    // secure_delete: freed pages are overwritten with zeros, so a deleted (retired) share does not
    // linger in free space; eraseRetired() also vacuums and truncates the WAL.
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON;");
    this.db.exec(SCHEMA);
    // Keys of governed orgs are owned by an identity of the org's governance log.
    const columns = this.db.prepare("PRAGMA table_info(keys)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "owner")) this.db.exec("ALTER TABLE keys ADD COLUMN owner TEXT");
  }

  close(): void {
    this.writePeerHeads();
    this.db.close();
    this.wal.close();
  }

  /** The write-ahead log: every commit's pages land there first (journal_mode = WAL). */
  private readonly wal: PathSyncer;

  /**
   * Puts every commit made so far on disk, off the event loop: a commit made without waiting for
   * the disk (relaxed) is in the write-ahead log's file, and syncing that file is what a FULL
   * commit does itself (SQLite syncs the log before each checkpoint copies it into the database and
   * the database after). Group-committed by the caller (GroupCommit), so one sync covers the
   * commits of every ceremony that asked meanwhile.
   */
  syncToDisk(): Promise<void> {
    return this.wal.sync();
  }

  /** Statements compiled once per database and reused: a signature runs about a dozen of them. */
  private readonly statements = new Map<string, StatementSync>();
  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private tx<T>(f: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = f();
      // Peers' audit heads waiting for a commit ride along with this one (recordPeerHeads).
      const heads = this.pendingHeads.length > 0 ? this.insertPendingHeads() : 0;
      this.db.exec("COMMIT");
      if (heads > 0) this.pendingHeads.splice(0, heads);
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /**
   * Runs `f` with commits that do not wait for the disk (synchronous = NORMAL): in WAL mode they
   * survive a crash of the process, and an operating-system crash can lose only the newest of them —
   * never reorder them, since the next FULL commit syncs the WAL up to and including them. Only for
   * writes whose loss is harmless (see each caller); the spending of nonces, user actions and
   * presignatures is never made here unless a FULL commit follows before anything is released.
   */
  private relaxed<T>(f: () => T): T {
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      return f();
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
    }
  }

  // ---------------------------------------------------------------- keys and shares

  /**
   * Key records as read, until a write changes the keys (a signature looks its key up several
   * times: the checks, the engine, the share cache). Frozen: every caller gets the same object.
   */
  private readonly keys = new Map<string, KeyRecord | undefined>();

  key(keyId: string): KeyRecord | undefined {
    if (this.keys.has(keyId)) return this.keys.get(keyId);
    const record = this.ownKey(keyId) ?? this.derivedKey(keyId);
    if (record) {
      Object.freeze(record.parties);
      Object.freeze(record.credentials);
      Object.freeze(record);
    }
    if (this.keys.size >= 4096) this.keys.clear();
    this.keys.set(keyId, record);
    return record;
  }

  /** Every write to keys or derived keys forgets what was read. */
  private keysChanged(): void {
    this.keys.clear();
  }

  /**
   * A derived key as the engine uses it: the master's scheme, parties, index and share generation
   * (its share signs), with the child's own public key, path and binding.
   */
  private derivedKey(keyId: string): KeyRecord | undefined {
    const row = this.stmt("SELECT key_id, master_key_id, path, public_key, org_id, wallet_id, network, credentials, owner, created_at FROM derived_keys WHERE key_id = ?").get(keyId) as
      | { key_id: string; master_key_id: string; path: string; public_key: string; org_id: string; wallet_id: string | null; network: string | null; credentials: string; owner: string | null; created_at: number }
      | undefined;
    if (!row) return undefined;
    const master = this.ownKey(row.master_key_id);
    if (!master) return undefined;
    return {
      ...master,
      keyId: row.key_id,
      publicKey: row.public_key,
      chainCode: null,
      orgId: row.org_id,
      walletId: row.wallet_id,
      network: row.network,
      derivationPath: row.path,
      credentials: JSON.parse(row.credentials) as string[],
      owner: row.owner,
      masterKeyId: row.master_key_id,
      createdAt: row.created_at,
    };
  }

  /** The derived key already at `path` of `masterKeyId`, if any (one path, one key: two wallets never share a child). */
  derivedAt(masterKeyId: string, path: string): string | null {
    const row = this.stmt("SELECT key_id FROM derived_keys WHERE master_key_id = ? AND path = ?").get(masterKeyId, path) as { key_id: string } | undefined;
    return row?.key_id ?? null;
  }

  /** Records a derived key: {master, path} and the user's binding; no share is stored. */
  createDerivedKey(record: { keyId: string; masterKeyId: string; path: string; publicKey: string; orgId: string; walletId: string | null; network: string | null; credentials: string[]; owner: string | null }, now: number): void {
    this.keysChanged();
    this.stmt(
      "INSERT INTO derived_keys (key_id, master_key_id, path, public_key, org_id, wallet_id, network, credentials, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(record.keyId, record.masterKeyId, record.path, record.publicKey, record.orgId, record.walletId, record.network, JSON.stringify(record.credentials), record.owner, now);
    this.keysChanged();
  }

  derivedKeyCount(): number {
    return (this.stmt("SELECT count(*) AS n FROM derived_keys").get() as { n: number }).n;
  }

  /** A derived key's bans are its master's: one set of shares, one set of parties. */
  private shareKeyOf(keyId: string): string {
    return this.key(keyId)?.masterKeyId ?? keyId;
  }

  private ownKey(keyId: string): KeyRecord | undefined {
    const row = this.stmt("SELECT key_id, scheme, threshold, parties, my_index, public_key, chain_code, org_id, wallet_id, network, derivation_path, credentials, owner, generation, created_at FROM keys WHERE key_id = ?").get(keyId) as
      | KeyRow
      | undefined;
    if (!row) return undefined;
    return {
      keyId: row.key_id,
      scheme: row.scheme as MpcScheme,
      threshold: row.threshold,
      parties: JSON.parse(row.parties) as Party[],
      myIndex: row.my_index,
      publicKey: row.public_key,
      chainCode: row.chain_code,
      orgId: row.org_id,
      walletId: row.wallet_id,
      network: row.network,
      derivationPath: row.derivation_path,
      credentials: JSON.parse(row.credentials) as string[],
      owner: row.owner,
      generation: row.generation,
      createdAt: row.created_at,
    };
  }

  keyCount(): number {
    return (this.stmt("SELECT count(*) AS n FROM keys").get() as { n: number }).n;
  }

  /** Stores a new key and its share; refuses to overwrite an existing key. */
  /** Stores a new key and its share (a reshare's new holder starts at the others' generation); refuses to overwrite an existing key. */
  createKey(record: Omit<KeyRecord, "generation" | "createdAt">, share: Uint8Array, now: number, generation = 0): void {
    const sealed = this.vault.seal(share, { nodePeerId: this.nodePeerId, keyId: record.keyId, generation });
    this.keysChanged();
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO keys (key_id, scheme, threshold, parties, my_index, public_key, chain_code, org_id, wallet_id, network, derivation_path, credentials, owner, generation, share, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          record.keyId,
          record.scheme,
          record.threshold,
          JSON.stringify(record.parties),
          record.myIndex,
          record.publicKey,
          record.chainCode,
          record.orgId,
          record.walletId,
          record.network,
          record.derivationPath,
          JSON.stringify(record.credentials),
          record.owner ?? null,
          generation,
          sealed,
          now,
          now,
        );
    });
    this.keysChanged();
  }

  /** The current share's bytes, decrypted, for the MPC core. */
  share(keyId: string): Uint8Array {
    keyId = this.shareKeyOf(keyId);
    const row = this.stmt("SELECT generation, share FROM keys WHERE key_id = ?").get(keyId) as { generation: number; share: Uint8Array } | undefined;
    if (!row) throw new Error(`no share of key ${keyId}`);
    return this.vault.open(row.share, { nodePeerId: this.nodePeerId, keyId, generation: row.generation });
  }

  /**
   * Commits a refresh every party confirmed: the new share becomes current (generation + 1) and
   * the old one is retired, kept sealed only until every party reported its commit too
   * (eraseRetired) — until then an operator could still roll back a refresh others did not finish.
   */
  commitRefresh(keyId: string, share: Uint8Array, now: number): number {
    try {
      return this.tx(() => this.commitGeneration(keyId, share, now));
    } finally {
      this.keysChanged();
    }
  }

  private commitGeneration(keyId: string, share: Uint8Array, now: number): number {
    this.keysChanged();
    {
      const row = this.stmt("SELECT generation, share FROM keys WHERE key_id = ?").get(keyId) as { generation: number; share: Uint8Array } | undefined;
      if (!row) throw new Error(`no share of key ${keyId}`);
      const next = row.generation + 1;
      this.stmt("INSERT INTO retired_shares (key_id, generation, share, retired_at) VALUES (?, ?, ?, ?)").run(keyId, row.generation, row.share, now);
      const sealed = this.vault.seal(share, { nodePeerId: this.nodePeerId, keyId, generation: next });
      this.stmt("UPDATE keys SET share = ?, generation = ?, updated_at = ? WHERE key_id = ?").run(sealed, next, now, keyId);
      // Presignatures belong to the old shares.
      this.stmt("DELETE FROM presignatures WHERE key_id = ?").run(keyId);
      return next;
    }
  }

  /** A reshare every party confirmed: committed like a refresh, and the key's parties become the new set. */
  commitReshare(keyId: string, share: Uint8Array, parties: KeyRecord["parties"], now: number): number {
    try {
      return this.tx(() => {
        const next = this.commitGeneration(keyId, share, now);
        this.stmt("UPDATE keys SET parties = ? WHERE key_id = ?").run(JSON.stringify(parties), keyId);
        return next;
      });
    } finally {
      this.keysChanged();
    }
  }

  /**
   * This node was retired from the org: every share it holds of the org's keys (current and
   * retired generations) is erased like a retired share — rows deleted, WAL truncated, VACUUM.
   * The keys' records go with them. Returns the keys and how many sealed shares were erased.
   */
  eraseOrgShares(orgId: string): { keys: string[]; shares: number } {
    const keys = (this.stmt("SELECT key_id FROM keys WHERE org_id = ?").all(orgId) as { key_id: string }[]).map((r) => r.key_id);
    this.keysChanged();
    let shares = 0;
    this.tx(() => {
      for (const keyId of keys) {
        shares += Number(this.stmt("DELETE FROM retired_shares WHERE key_id = ?").run(keyId).changes);
        shares += Number(this.stmt("DELETE FROM presignatures WHERE key_id = ?").run(keyId).changes);
        shares += Number(this.stmt("DELETE FROM keys WHERE key_id = ?").run(keyId).changes);
      }
    });
    this.keysChanged();
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.db.exec("VACUUM");
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return { keys, shares };
  }

  /**
   * Erases the key's retired shares: rows deleted (pages zeroed by secure_delete), the WAL
   * checkpointed and truncated, the file rebuilt by VACUUM, so no copy stays in the database files.
   */
  eraseRetired(keyId: string): number {
    const n = Number(this.stmt("DELETE FROM retired_shares WHERE key_id = ?").run(keyId).changes);
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.db.exec("VACUUM");
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return n;
  }

  retiredGenerations(keyId: string): number[] {
    return (this.stmt("SELECT generation FROM retired_shares WHERE key_id = ? ORDER BY generation").all(keyId) as { generation: number }[]).map((r) => r.generation);
  }

  // ---------------------------------------------------------------- presignatures

  /**
   * Keeps this node's shares of a presigning ceremony's presignatures of `keyId` (a key with its
   * own shares) by these signers, all in one transaction: a batch is stored whole or not at all.
   * Committed without waiting for the disk: losing fresh presignatures in an operating-system
   * crash only makes the signatures that name them take the three-round path (this node then
   * refuses them as not held); what must be durable is each one's deletion when used.
   */
  storePresignatures(keyId: string, presignatures: { id: string; bytes: Uint8Array }[], signers: number[], generation: number, now: number): void {
    const sealed = presignatures.map((p) => ({ id: p.id, sealed: this.vault.seal(p.bytes, { nodePeerId: this.nodePeerId, keyId: `${keyId}#presignature:${p.id}`, generation }) }));
    const order = JSON.stringify([...signers].sort((x, y) => x - y));
    this.relaxed(() =>
      this.tx(() => {
        const insert = this.stmt("INSERT INTO presignatures (presignature_id, key_id, signers, generation, presignature, created_at) VALUES (?, ?, ?, ?, ?, ?)");
        for (const p of sealed) insert.run(p.id, keyId, order, generation, p.sealed, now);
      }),
    );
  }

  /**
   * Takes a presignature for one signature: returns its bytes and deletes it in the same
   * transaction (committed to disk before the caller releases anything computed from it), or null
   * if this node has none under that id for this key (a derived key's: its master's), these
   * signers and the key's current share generation — never made, already used, or made before a
   * refresh.
   */
  takePresignature(keyId: string, presignatureId: string, signers: number[], o: { durable?: boolean } = {}): Uint8Array | null {
    const shareKey = this.shareKeyOf(keyId);
    const take = () => this.tx(() => {
      const found = this.stmt(
        "SELECT p.generation, p.presignature, p.signers FROM presignatures p JOIN keys k ON k.key_id = p.key_id AND k.generation = p.generation WHERE p.presignature_id = ? AND p.key_id = ?",
      ).get(presignatureId, shareKey) as { generation: number; presignature: Uint8Array; signers: string } | undefined;
      if (!found || found.signers !== JSON.stringify([...signers].sort((x, y) => x - y))) return undefined;
      this.stmt("DELETE FROM presignatures WHERE presignature_id = ?").run(presignatureId);
      return found;
    });
    // `durable: false`: the caller syncs (syncToDisk) before it releases anything computed from it.
    const row = o.durable === false ? this.relaxed(take) : take();
    if (!row) return null;
    return this.vault.open(row.presignature, { nodePeerId: this.nodePeerId, keyId: `${shareKey}#presignature:${presignatureId}`, generation: row.generation });
  }

  presignatureCount(keyId?: string): number {
    return keyId === undefined
      ? (this.stmt("SELECT count(*) AS n FROM presignatures").get() as { n: number }).n
      : (this.stmt("SELECT count(*) AS n FROM presignatures WHERE key_id = ?").get(this.shareKeyOf(keyId)) as { n: number }).n;
  }

  // ---------------------------------------------------------------- peers' audit heads

  /** A peer's audit head as it signed it into a ceremony's messages (cross-anchoring its log). */
  recordPeerHead(peerId: string, head: { seq: number; hash: string }, now: number): void {
    this.recordPeerHeads([[peerId, head]], now);
  }

  /**
   * The audit heads the peers of one ceremony signed. Not a commit of their own: they are written
   * with the store's next commit (the next request's claim, usually), or within a second by a
   * commit of their own when none comes, or when the store closes. The same heads go into this
   * node's audit entry for the ceremony (peerHeads), which is synced; this table is the index
   * `audit verify --against` reads, and the heads of the last second before a crash may be missing
   * from it (as the newest of them could be before, from an operating-system crash).
   */
  recordPeerHeads(heads: Iterable<[string, { seq: number; hash: string }]>, now: number): void {
    let added = false;
    for (const [peerId, head] of heads) {
      if (head.seq <= 0) continue;
      this.pendingHeads.push({ peerId, seq: head.seq, hash: head.hash, at: now });
      added = true;
    }
    if (!added || this.headsTimer) return;
    this.headsTimer = setTimeout(() => {
      this.headsTimer = null;
      this.writePeerHeads();
    }, 1_000);
    this.headsTimer.unref?.();
  }

  peerHeads(peerId: string): { seq: number; hash: string }[] {
    this.writePeerHeads();
    return this.stmt("SELECT seq, hash FROM peer_audit_heads WHERE peer_id = ? ORDER BY seq").all(peerId) as { seq: number; hash: string }[];
  }

  /** Peers' audit heads not written yet (recordPeerHeads). */
  private readonly pendingHeads: { peerId: string; seq: number; hash: string; at: number }[] = [];
  private headsTimer: ReturnType<typeof setTimeout> | null = null;

  /** Writes the pending peers' heads now, in a commit that does not wait for the disk. */
  private writePeerHeads(): void {
    if (this.headsTimer) clearTimeout(this.headsTimer);
    this.headsTimer = null;
    if (this.pendingHeads.length > 0 && this.db.isOpen) this.relaxed(() => this.tx(() => {}));
  }

  private insertPendingHeads(): number {
    const insert = this.stmt("INSERT OR IGNORE INTO peer_audit_heads (peer_id, seq, hash, at) VALUES (?, ?, ?, ?)");
    for (const h of this.pendingHeads) insert.run(h.peerId, h.seq, h.hash, h.at);
    return this.pendingHeads.length;
  }

  // ---------------------------------------------------------------- bans

  /**
   * Bans as read once from the table, then kept up to date by ban(), the one place that adds any
   * (every request checks its parties against them). Never removed: a ban stays.
   */
  private banned: Set<string> | null = null;

  isBanned(keyId: string, peerId: string): boolean {
    if (!this.banned) {
      const rows = this.stmt("SELECT key_id, peer_id FROM bans").all() as { key_id: string; peer_id: string }[];
      this.banned = new Set(rows.map((r) => `${r.key_id}\n${r.peer_id}`));
    }
    return this.banned.has(`${this.shareKeyOf(keyId)}\n${peerId}`);
  }

  ban(keyId: string, peerId: string, reason: string, now: number): void {
    keyId = this.shareKeyOf(keyId);
    this.stmt("INSERT OR IGNORE INTO bans (key_id, peer_id, reason, at) VALUES (?, ?, ?, ?)").run(keyId, peerId, reason.slice(0, 1000), now);
    this.banned?.add(`${keyId}\n${peerId}`);
  }

  bans(): { keyId: string; peerId: string; reason: string; at: number }[] {
    return (this.stmt("SELECT key_id, peer_id, reason, at FROM bans ORDER BY at").all() as { key_id: string; peer_id: string; reason: string; at: number }[]).map((r) => ({
      keyId: r.key_id,
      peerId: r.peer_id,
      reason: r.reason,
      at: r.at,
    }));
  }

  // ---------------------------------------------------------------- replay protection

  /**
   * Spends an authorization nonce and, for signatures, binds a user action to what it signs.
   * Synchronous, so check and insert cannot interleave with another request.
   */
  /**
   * `durable: false` commits without waiting for the disk; only for a request whose next step is a
   * FULL commit before this node releases anything (an online signature from a presignature: the
   * presignature's deletion), which syncs this claim with it.
   */
  claim(c: Parameters<AuthorizationContext["claim"]>[0], now: number, o: { durable?: boolean } = {}): ReturnType<AuthorizationContext["claim"]> {
    try {
      return o.durable === false ? this.relaxed(() => this.claimNow(c, now)) : this.claimNow(c, now);
    } catch (e) {
      // Refused by the org's policies: nothing of the claim is kept (the transaction rolled back).
      if (e instanceof PolicyRefusal) return { ok: false, code: "policy", reason: e.message };
      throw e;
    }
  }

  private claimNow(c: Parameters<AuthorizationContext["claim"]>[0], now: number): ReturnType<AuthorizationContext["claim"]> {
    return this.tx(() => {
      if (this.stmt("SELECT 1 FROM nonces WHERE edge_id = ? AND nonce = ?").get(c.edgeId, c.nonce) !== undefined) {
        return { ok: false as const, reason: `nonce ${c.nonce} was already used` };
      }
      // A session id binds every round message; running two sessions under one id is refused.
      if (this.stmt("SELECT 1 FROM sessions WHERE session_id = ?").get(c.sessionId) !== undefined) {
        return { ok: false as const, reason: `session ${c.sessionId} already ran on this node` };
      }
      if (c.userAction) {
        const seen = this.stmt("SELECT binding FROM user_actions WHERE challenge = ?").get(c.userAction.challenge) as { binding: string } | undefined;
        if (seen && seen.binding !== c.userAction.binding) return { ok: false as const, reason: "the user action already authorized a different signature" };
        if (!seen) this.stmt("INSERT INTO user_actions (challenge, binding, at) VALUES (?, ?, ?)").run(c.userAction.challenge, c.userAction.binding, now);
      }
      if (c.policy) {
        // The org's policies over this node's own records of the wallet, decided and recorded in one
        // transaction: two requests racing through this node each see the other.
        const own = this.walletUsage(c.policy.walletId);
        const problem = c.policy.decide(own, now);
        if (problem) throw new PolicyRefusal(problem);
        const r = c.policy.record;
        if (r) this.stmt("INSERT OR IGNORE INTO wallet_usage (wallet_id, request_id, record, at) VALUES (?, ?, ?, ?)").run(r.walletId, r.requestId, canonicalJson(r), r.at);
      }
      this.stmt("INSERT INTO sessions (session_id, at) VALUES (?, ?)").run(c.sessionId, now);
      this.stmt("INSERT INTO nonces (edge_id, nonce, expires_at) VALUES (?, ?, ?)").run(c.edgeId, c.nonce, c.expiresAt);
      return { ok: true as const };
    });
  }

  /** This node's own usage records of a wallet: one per request it agreed to sign under a velocity policy. */
  walletUsage(walletId: string): OwnUsage[] {
    return (this.stmt("SELECT request_id, record, at FROM wallet_usage WHERE wallet_id = ?").all(walletId) as { request_id: string; record: string; at: number }[]).map((r) => ({
      requestId: r.request_id,
      record: r.record,
      at: r.at,
    }));
  }

  /** The highest EVM transaction nonce this node signed for a key on a chain (shared/src/chains/evm/fees.ts nonceScope). */
  evmNonce(scope: string): number | null {
    const row = this.stmt("SELECT nonce FROM evm_nonces WHERE scope = ?").get(scope) as { nonce: number } | undefined;
    return row ? row.nonce : null;
  }

  recordEvmNonce(scope: string, nonce: number, now: number): void {
    this.stmt("INSERT INTO evm_nonces (scope, nonce, at) VALUES (?, ?, ?) ON CONFLICT (scope) DO UPDATE SET nonce = max(nonce, excluded.nonce), at = excluded.at").run(scope, nonce, now);
  }

  /** Nonces of authorizations that expired long ago can go: an expired one is refused anyway. */
  pruneNonces(olderThan: number): number {
    return Number(this.stmt("DELETE FROM nonces WHERE expires_at < ?").run(olderThan).changes);
  }

  // ---------------------------------------------------------------- governance

  /** An org's root of trust, learned out of band (mpc-node orgs add). Refuses to change an existing one. */
  addGovernedOrg(orgId: string, roots: string[], rootPermission: string | null, now: number): void {
    const existing = this.governedOrg(orgId);
    if (existing) {
      if (JSON.stringify(existing.roots) === JSON.stringify(roots) && existing.rootPermission === rootPermission) return;
      throw new Error(`org ${orgId} already has a root of trust on this node`);
    }
    this.db.prepare("INSERT INTO governed_orgs (org_id, roots, root_permission, added_at) VALUES (?, ?, ?, ?)").run(orgId, JSON.stringify(roots), rootPermission, now);
  }

  governedOrg(orgId: string): { roots: string[]; rootPermission: string | null } | null {
    const row = this.stmt("SELECT roots, root_permission FROM governed_orgs WHERE org_id = ?").get(orgId) as { roots: string; root_permission: string | null } | undefined;
    return row ? { roots: JSON.parse(row.roots) as string[], rootPermission: row.root_permission } : null;
  }

  governanceEntries(orgId: string): string[] {
    return (this.db.prepare("SELECT entry FROM governance_entries WHERE org_id = ? ORDER BY idx").all(orgId) as { entry: string }[]).map((r) => r.entry);
  }

  appendGovernanceEntries(orgId: string, entries: { index: number; entry: string; hash: string }[]): void {
    this.tx(() => {
      const insert = this.db.prepare("INSERT INTO governance_entries (org_id, idx, entry, hash) VALUES (?, ?, ?, ?)");
      for (const e of entries) insert.run(orgId, e.index, e.entry, e.hash);
    });
  }

  // ---------------------------------------------------------------- audit head

  auditHead(): { seq: number; hash: string } | null {
    return (this.stmt("SELECT seq, hash FROM audit_head WHERE id = 1").get() as { seq: number; hash: string } | undefined) ?? null;
  }

  setAuditHead(seq: number, hash: string): void {
    // The log file itself was fsynced; the head may lag it after a crash (never lead it), which
    // verification accepts, so this commit need not wait for the disk.
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      this.stmt("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash").run(seq, hash);
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
    }
  }

  // ---------------------------------------------------------------- operations

  /** How many keys this node holds a share of, per scheme (for `mpc-node status`). */
  keysByScheme(): Record<string, number> {
    const rows = this.stmt("SELECT scheme, count(*) AS n FROM keys GROUP BY scheme ORDER BY scheme").all() as { scheme: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.scheme, r.n]));
  }

  /**
   * Re-seals every share — current and retired — from this store's vault into `next`, in one
   * transaction: after a crash either every share opens with the old key-encryption key or every
   * one with the new. Each share is opened (authenticated) before it is re-sealed, so a wrong
   * current key fails before anything changes. Returns how many shares were re-sealed.
   */
  resealAll(next: ShareVault): { keys: number; retired: number } {
    return this.tx(() => {
      const keys = this.stmt("SELECT key_id, generation, share FROM keys").all() as { key_id: string; generation: number; share: Uint8Array }[];
      const retired = this.stmt("SELECT key_id, generation, share FROM retired_shares").all() as { key_id: string; generation: number; share: Uint8Array }[];
      const updateKey = this.stmt("UPDATE keys SET share = ? WHERE key_id = ?");
      const updateRetired = this.stmt("UPDATE retired_shares SET share = ? WHERE key_id = ? AND generation = ?");
      for (const r of keys) {
        const binding = { nodePeerId: this.nodePeerId, keyId: r.key_id, generation: r.generation };
        updateKey.run(next.seal(this.vault.open(r.share, binding), binding), r.key_id);
      }
      for (const r of retired) {
        const binding = { nodePeerId: this.nodePeerId, keyId: r.key_id, generation: r.generation };
        updateRetired.run(next.seal(this.vault.open(r.share, binding), binding), r.key_id, r.generation);
      }
      return { keys: keys.length, retired: retired.length };
    });
  }
}

class PolicyRefusal extends Error {}
