// A credential signer that reads before it signs. Tessera's challenges state what they authorize
// (shared/src/dfns/user-action.ts): kind, org, method, path, SHA-256 of the body, expiry. This
// signer is told which request the CLI is about to make and refuses any challenge that does not
// describe exactly that request — so an API that hands back the challenge for another request
// (a compromised edge answering "create a wallet" with "transfer everything to me") gets nothing.
// The key itself signs as the official @dfns/sdk-keysigner does.
import type { CredentialSigner, KeyAssertion, UserActionChallenge } from "@dfns/sdk";
import { challengeProblem, type ExpectedRequest } from "../../shared/src/dfns/user-action.js";

export class ChallengeRefused extends Error {
  constructor(reason: string) {
    super(`refusing to sign: ${reason}`);
    this.name = "ChallengeRefused";
  }
}

export class VerifyingSigner implements CredentialSigner<KeyAssertion> {
  private expected: ExpectedRequest | null = null;
  /** Told when a challenge checked out and is about to be signed (the CLI shows it as progress). */
  onVerified: ((request: string) => void) | undefined;

  constructor(
    private readonly inner: CredentialSigner<KeyAssertion>,
    private readonly orgId: string | undefined,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** The next (and only the next) challenge must describe `method path` with this JSON body, as the SDK sends it. */
  expect(method: string, path: string, body: unknown): void {
    this.expected = { method, path, payload: body === undefined ? "" : JSON.stringify(body), ...(this.orgId ? { orgId: this.orgId } : {}) };
  }

  async sign(challenge: UserActionChallenge): Promise<KeyAssertion> {
    const expected = this.expected;
    this.expected = null;
    if (!expected) throw new ChallengeRefused("this client did not announce a request to sign for");
    const problem = challengeProblem(challenge.challenge, expected, this.nowSeconds());
    if (problem) throw new ChallengeRefused(problem);
    this.onVerified?.(`${expected.method} ${expected.path}`);
    return this.inner.sign(challenge);
  }
}
