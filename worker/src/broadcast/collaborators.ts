// Where the broadcast layer finds the other layers in a deployment: the wallet directory and the
// threshold-signing coordinator (the wallet module, layer 4), the policy gate (layer 3), and the
// org's webhook dispatcher. Each is reached only through the small interfaces this layer defines
// (WalletDirectory, SigningCoordinator, the gate's evaluate/commit/release), so the engine and its
// tests do not depend on how the others are built.
import type { Env } from "../env.js";
import { commitReservation, releaseReservation } from "../policy/gate.js";
import type { SignatureRequest, SigningCoordinator, ThresholdSignature } from "../signing/authorization.js";
import type { WebhookEvent } from "../webhooks/webhook-dispatcher.js";
import type { OutboxHandlers } from "./outbox.js";
import type { WalletDirectory, WalletRecord } from "./wallet-directory.js";

/**
 * The wallet module registers its directory and coordinator here at start-up (module top level,
 * imported by index.ts), as the policy module's resume handler is registered. Until it has, no
 * wallet exists (404) and nothing can be signed.
 */
let wallets: WalletDirectory | null = null;
let signing: ((env: Env, wallet: WalletRecord) => SigningCoordinator) | null = null;

export function registerWalletModule(module: { directory: WalletDirectory; signingCoordinator: (env: Env, wallet: WalletRecord) => SigningCoordinator }): void {
  wallets = module.directory;
  signing = module.signingCoordinator;
}

const NO_WALLETS: WalletDirectory = { get: async () => null };

export function walletDirectory(): WalletDirectory {
  return wallets ?? NO_WALLETS;
}

/** Fails every signature with a clear reason when no coordinator is installed in this deployment. */
class NoSigningCoordinator implements SigningCoordinator {
  async generateKey(): Promise<never> {
    throw new Error("no threshold-signing coordinator is installed in this deployment");
  }
  async sign(_request: SignatureRequest): Promise<ThresholdSignature> {
    throw new Error("no threshold-signing coordinator is installed in this deployment");
  }
}

export function signingCoordinatorFor(env: Env, wallet: WalletRecord): SigningCoordinator {
  return signing ? signing(env, wallet) : new NoSigningCoordinator();
}

/** Where a wallet's outbox goes: events to the org's webhook object, reservations to the policy engine. */
export function outboxHandlers(env: Env, orgId: string): OutboxHandlers {
  return {
    webhook: async (event) => {
      await env.WEBHOOKS.getByName(orgId).publish(event as WebhookEvent);
    },
    policyCommit: (reservation) => commitReservation(env, reservation),
    policyRelease: (reservation, reason) => releaseReservation(env, reservation, reason),
  };
}
