// Request bodies the Dfns SDK sends, as zod schemas: the edge validates every one of them before
// anything else looks at it. Unknown extra fields are ignored (clients send newer fields), while
// every field we use is typed and bounded.
import { z } from "zod";
import { isDfnsOperation } from "./operations.js";

const id = z.string().min(1).max(128);
const name = z.string().trim().min(1).max(128);
const b64url = z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url");
const pem = z.string().min(1).max(8_192);

export const operationName = z.string().refine(isDfnsOperation, { message: "unknown operation" });

export const keyAssertion = z.object({
  kind: z.literal("Key"),
  credentialAssertion: z.object({ credId: id, clientData: b64url, signature: b64url, algorithm: z.string().max(64).optional() }),
});

export const fido2Assertion = z.object({
  kind: z.literal("Fido2"),
  credentialAssertion: z.object({
    credId: id,
    clientData: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: z.string().max(512).optional().nullable(),
  }),
});

export const firstFactor = z.discriminatedUnion("kind", [keyAssertion, fido2Assertion]);
export type FirstFactor = z.infer<typeof firstFactor>;

export const signedChallenge = z.object({ challengeIdentifier: id, firstFactor, secondFactor: z.unknown().optional() });

export const userActionInit = z.object({
  userActionPayload: z.string().max(256 * 1024),
  userActionHttpMethod: z.enum(["POST", "PUT", "DELETE"]),
  userActionHttpPath: z.string().min(1).max(1024).startsWith("/"),
  userActionServerKind: z.enum(["Api", "Staff"]).optional(),
});

export const loginInit = z.object({ username: z.string().min(1).max(256), orgId: id });

export const logout = z.object({ allSessions: z.boolean().optional() });

export const credentialAttestation = z.object({
  credentialKind: z.enum(["Key", "Fido2"]),
  credentialInfo: z.object({ credId: id, clientData: b64url, attestationData: b64url }),
});
export type CredentialAttestation = z.infer<typeof credentialAttestation>;

export const registrationInit = z.object({ orgId: id, username: z.string().min(1).max(256), registrationCode: z.string().min(1).max(256) });
export const registration = z.object({ firstFactorCredential: credentialAttestation });

export const credentialInit = z.object({ kind: z.enum(["Key", "Fido2"]) });
export const createCredential = credentialAttestation.extend({ credentialName: name, challengeIdentifier: id });
export const credentialUuidBody = z.object({ credentialUuid: id });

export const createUser = z.object({
  email: z.string().min(3).max(256),
  kind: z.literal("CustomerEmployee"),
  publicKey: pem.optional(),
  externalId: z.string().max(256).optional(),
  isSSORequired: z.boolean().optional(),
});

const lifetime = {
  daysValid: z.number().int().min(1).max(730).optional(),
};

export const createServiceAccount = z.object({ name, publicKey: pem, permissionId: id.optional(), externalId: z.string().max(256).optional(), ...lifetime });
export const createPat = z.object({
  name,
  publicKey: pem,
  permissionId: id.optional(),
  externalId: z.string().max(256).optional(),
  ...lifetime,
  secondsValid: z.number().int().min(60).max(730 * 86_400).optional(),
});
export const updateIdentity = z.object({ name: name.optional(), externalId: z.string().max(256).optional() });
export const deactivate = z.object({ force: z.boolean().optional() });

export const createPermission = z.object({ name, operations: z.array(operationName).min(1).max(200) });
export const updatePermission = z.object({ name: name.optional(), operations: z.array(operationName).min(1).max(200).optional() });
export const archivePermission = z.object({ isArchived: z.boolean() });
export const createAssignment = z.object({ identityId: id });

export const bootstrap = z.object({
  orgName: name.optional(),
  rootUser: z.object({ username: z.string().min(1).max(256).optional(), publicKey: pem.optional() }).optional(),
  serviceAccount: z.object({ name: name.optional(), publicKey: pem }),
});
