// Registration of a new user (public): an admin created the user and handed over a registration
// code; POST /auth/registration/init trades username + code for a challenge and a temporary token;
// POST /auth/registration (Bearer: that token) registers the first credential.
import { Hono } from "hono";
import * as req from "../../../shared/src/dfns/requests.js";
import type { AppEnv } from "../http/app-env.js";
import { parseBody } from "../http/body.js";
import { ApiError, unwrap } from "../http/errors.js";
import { verifyAttestation } from "./attestations.js";
import { bearerToken } from "./authenticate.js";
import { knownOrg, orgChallengeIdentifier } from "./challenge-response.js";
import { issueToken, REGISTRATION_TOKEN_SECONDS, verifyToken } from "./tokens.js";
import { relyingParty } from "./webauthn-config.js";

export const registrationRoutes = new Hono<AppEnv>();

registrationRoutes.post("/auth/registration/init", async (c) => {
  const body = await parseBody(c, req.registrationInit);
  const org = await knownOrg(c.env, body.orgId);
  if (!org) throw new ApiError(401, "Invalid username or registration code");
  const ch = unwrap(await org.registrationChallenge({ username: body.username, registrationCode: body.registrationCode }));
  const temporaryAuthenticationToken = await issueToken(
    c.env,
    { orgId: ch.orgId, userId: ch.user.id, tokenId: ch.challengeIdentifier, tokenKind: "Registration" },
    REGISTRATION_TOKEN_SECONDS,
  );
  const rp = relyingParty(c.env);
  return c.json({
    user: ch.user,
    temporaryAuthenticationToken,
    challenge: ch.challenge,
    challengeIdentifier: orgChallengeIdentifier(ch.orgId, ch.challengeIdentifier),
    rp: { id: rp.id, name: rp.name },
    supportedCredentialKinds: { firstFactor: ["Key", "Fido2"], secondFactor: [] },
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    attestation: "none",
    pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    excludeCredentials: [],
    otpUrl: "",
  });
});

registrationRoutes.post("/auth/registration", async (c) => {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "Not authorized: missing registration token");
  const checked = await verifyToken(c.env, token, "registration");
  if (!checked.ok) throw new ApiError(401, `Not authorized: ${checked.reason}`);
  const body = await parseBody(c, req.registration);
  const org = c.env.ORG.getByName(checked.claims.orgId);
  const pending = unwrap(await org.pendingChallenge(checked.claims.tokenId, "Registration"));
  if (pending.subject !== checked.claims.userId) throw new ApiError(401, "Challenge not found");
  const credential = unwrap(await verifyAttestation(c.env, pending.challenge, body.firstFactorCredential, "first credential"));
  const registered = unwrap(await org.completeRegistration({ challengeId: pending.challengeId, credential }));
  // The nodes learn the user's first credential from the governance log.
  await org.recordRegistration(registered.user.id, registered.credential.uuid, relyingParty(c.env).id);
  return c.json(registered);
});
