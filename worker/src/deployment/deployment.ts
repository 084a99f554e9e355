// The deployment-wide Durable Object (one instance, named "deployment"):
//  - the token-signing key when no TOKEN_SIGNING_KEY secret is configured (local dev and tests),
//    generated once and persisted so tokens survive restarts;
//  - the registry of organisations, so public endpoints (login, registration) never address an
//    Org Durable Object that was not bootstrapped (which would create storage for any name).
import { DurableObject } from "cloudflare:workers";
import { p256 } from "@noble/curves/nist.js";
import { encodeBase64Url } from "../../../shared/src/dfns/base64url.js";

export interface SigningKeyJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  d: string;
}

export class Deployment extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS signing_key (id INTEGER PRIMARY KEY CHECK (id = 1), jwk TEXT NOT NULL, created_at TEXT NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS orgs (org_id TEXT PRIMARY KEY, created_at TEXT NOT NULL)");
  }

  /** The persisted P-256 token-signing key, generated on first use (synchronously: no race). */
  tokenSigningKey(): SigningKeyJwk {
    const sql = this.ctx.storage.sql;
    const existing = sql.exec<{ jwk: string }>("SELECT jwk FROM signing_key WHERE id = 1").toArray()[0];
    if (existing) return JSON.parse(existing.jwk) as SigningKeyJwk;
    const { secretKey, publicKey } = p256.keygen();
    const point = p256.Point.fromBytes(publicKey).toBytes(false); // 0x04 ‖ x ‖ y
    const jwk: SigningKeyJwk = {
      kty: "EC",
      crv: "P-256",
      x: encodeBase64Url(point.subarray(1, 33)),
      y: encodeBase64Url(point.subarray(33, 65)),
      d: encodeBase64Url(secretKey),
    };
    sql.exec("INSERT INTO signing_key (id, jwk, created_at) VALUES (1, ?, ?)", JSON.stringify(jwk), new Date().toISOString());
    return jwk;
  }

  registerOrg(orgId: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO orgs (org_id, created_at) VALUES (?, ?)", orgId, new Date().toISOString());
  }

  orgExists(orgId: string): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM orgs WHERE org_id = ?", orgId).toArray().length > 0;
  }
}
