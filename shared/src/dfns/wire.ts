// Response objects in the shapes @dfns/sdk 0.8.21 declares (generated/auth, generated/permissions).

export interface PermissionAssignmentInfo {
  permissionName: string;
  permissionId: string;
  assignmentId: string;
  operations?: string[];
}

export interface UserInfo {
  username: string;
  name: string;
  userId: string;
  kind: "CustomerEmployee" | "EndUser";
  credentialUuid: string;
  orgId: string;
  permissions?: string[];
  isActive: boolean;
  isServiceAccount: boolean;
  isRegistered: boolean;
  isSSORequired: boolean;
  permissionAssignments: PermissionAssignmentInfo[];
}

export interface AccessTokenInfo {
  accessToken?: string;
  dateCreated: string;
  credId: string;
  isActive: boolean;
  kind: "Pat" | "ServiceAccount";
  linkedUserId: string;
  linkedAppId: string;
  name: string;
  orgId: string;
  publicKey: string;
  tokenId: string;
  permissionAssignments: PermissionAssignmentInfo[];
  expiresAt?: string;
}

export interface ServiceAccountInfo {
  userInfo: UserInfo;
  accessTokens: AccessTokenInfo[];
}

export interface PermissionInfo {
  id: string;
  name: string;
  operations: string[];
  status: "Active";
  isImmutable: boolean;
  isArchived: boolean;
  dateCreated: string;
  dateUpdated: string;
}

export interface AssignmentInfo {
  id: string;
  permissionId: string;
  identityId: string;
  isImmutable: boolean;
  dateCreated: string;
  dateUpdated: string;
}

export interface CredentialInfo {
  kind: "Key" | "Fido2";
  credentialId: string;
  credentialUuid: string;
  dateCreated: string;
  isActive: boolean;
  name: string;
  publicKey: string;
  relyingPartyId: string;
  origin: string;
}

export interface AllowCredentials {
  key: { type: "public-key"; id: string }[];
  webauthn: { type: "public-key"; id: string }[];
}

/** What a consumed user action proves, kept for the audit log and forwarded to the signing nodes. */
export interface UserActionEvidence {
  actionId: string;
  orgId: string;
  subject: string;
  tokenId: string;
  method: string;
  path: string;
  payload: string;
  nonce: string;
  /** Unix seconds; part of the committed fields. */
  expiry: number;
  challenge: string;
  challengeIdentifier: string;
  credential: { credId: string; credentialUuid: string; kind: "Key" | "Fido2"; publicKey: string };
  assertion: { clientData: string; signature: string; authenticatorData: string | null; userHandle: string | null };
  signedAt: string;
}
