// Extra credentials for the calling identity: /auth/credentials/init (a challenge, unsigned, as in
// Dfns) then /auth/credentials (user-action signed by an existing credential) with the new one.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { permit } from "../permissions/permit.js";
import { verifyAttestation } from "./attestations.js";
import { relyingParty } from "./webauthn-config.js";

export const credentialRoutes = new Hono<AppEnv>();

credentialRoutes.post("/auth/credentials/init", permit("Auth:Creds:Create"), async (c) => {
  const body = await parseBody(c, req.credentialInit);
  const ch = unwrap(await c.get("org").credentialChallenge(c.get("caller"), body.kind));
  const rp = relyingParty(c.env);
  const common = {
    kind: body.kind,
    user: ch.user,
    challengeIdentifier: ch.challengeIdentifier,
    challenge: ch.challenge,
    rp: { id: rp.id, name: rp.name },
    attestation: "none",
    pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    temporaryAuthenticationToken: ch.challengeIdentifier,
  };
  if (body.kind === "Key") return c.json(common);
  return c.json({
    ...common,
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    excludeCredentials: ch.excludeCredentials,
  });
});

credentialRoutes.post("/auth/credentials", permit("Auth:Creds:Create"), async (c) => {
  const body = await parseBody(c, req.createCredential);
  const org = c.get("org");
  const caller = c.get("caller");
  const pending = unwrap(await org.pendingChallenge(body.challengeIdentifier, "Credential"));
  if (pending.tokenId !== caller.tokenId) throw new ApiError(401, "Challenge not found");
  const credential = unwrap(await verifyAttestation(c.env, pending.challenge, body, body.credentialName));
  return c.json(unwrap(await org.completeCredential(caller, { challengeId: pending.challengeId, credential })));
});

credentialRoutes.get("/auth/credentials", permit("Auth:Creds:Read"), async (c) => c.json(await c.get("org").listCredentials(c.get("caller"))));

for (const [action, active] of [
  ["activate", true],
  ["deactivate", false],
] as const) {
  credentialRoutes.put(`/auth/credentials/${action}`, permit("Auth:Creds:Update"), async (c) => {
    const body = await parseBody(c, req.credentialUuidBody);
    return c.json(unwrap(await c.get("org").setCredentialActive(c.get("caller"), body.credentialUuid, active)));
  });
}
