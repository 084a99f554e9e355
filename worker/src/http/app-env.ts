import type { UserActionEvidence } from "../../../shared/src/dfns/wire.js";
import type { Env } from "../env.js";
import type { Outcome } from "./errors.js";
import type { Caller, Org } from "../orgs/org.js";

/** What each layer of the middleware chain leaves in the request context for the next. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Layer 1: the authenticated caller (token valid, not revoked, identity active). */
    caller: Caller;
    /** The caller's organisation. */
    org: DurableObjectStub<Org>;
    /** Layer 1: the user action this state-changing request spent, with its evidence. */
    userAction: UserActionEvidence | null;
    /** Layer 1: the outcome of spending the request's user action, when authenticate did it in the same call as resolving the caller. */
    spentUserAction?: Outcome<UserActionEvidence>;
  };
}
