// The challenge object Dfns clients expect from /auth/login/init and /auth/action/init
// (SDK type UserActionChallenge). The key signer needs challenge, challengeIdentifier and its
// credId in allowCredentials.key; browsers use allowCredentials.webauthn and rp.
import type { AllowCredentials } from "../../../shared/src/dfns/wire.js";
import type { Env } from "../env.js";
import type { Org } from "../orgs/org.js";
import { relyingParty } from "./webauthn-config.js";

export function challengeResponse(env: Env, c: { challenge: string; challengeIdentifier: string; allowCredentials: AllowCredentials }) {
  const rp = relyingParty(env);
  return {
    challenge: c.challenge,
    challengeIdentifier: c.challengeIdentifier,
    allowCredentials: { key: c.allowCredentials.key, webauthn: c.allowCredentials.webauthn, passwordProtectedKey: [] },
    supportedCredentialKinds: [
      { kind: "Key", factor: "first", requiresSecondFactor: false },
      { kind: "Fido2", factor: "first", requiresSecondFactor: false },
    ],
    userVerification: "required",
    attestation: "none",
    externalAuthenticationUrl: "",
    rp: { id: rp.id, name: rp.name },
  };
}

/** Login and registration happen before we know the caller, so their identifiers name the org. */
export function orgChallengeIdentifier(orgId: string, challengeId: string): string {
  return `${orgId}~${challengeId}`;
}

export function splitOrgChallengeIdentifier(identifier: string): { orgId: string; challengeId: string } | null {
  const m = /^(or-[0-9a-z-]{1,64})~(ch-[0-9a-z-]{1,64})$/.exec(identifier);
  return m ? { orgId: m[1]!, challengeId: m[2]! } : null;
}

export function isOrgId(value: string): boolean {
  return /^or-[0-9a-z-]{1,64}$/.test(value);
}

/**
 * The Org Durable Object for an org id a public (unauthenticated) request named, or null if no
 * such org was bootstrapped. Authenticated requests need no lookup: their org id is in a token we signed.
 */
export async function knownOrg(env: Env, orgId: string): Promise<DurableObjectStub<Org> | null> {
  if (!isOrgId(orgId)) return null;
  if (!(await env.DEPLOYMENT.getByName("deployment").orgExists(orgId))) return null;
  return env.ORG.getByName(orgId);
}
