// One resume handler for layer 3, dispatching by what was held: a signature request (wallets/),
// a transfer or a transaction (broadcast/). Each registers for its own kind at module load, so
// every isolate that runs the PolicyState Durable Object knows where a resumed request goes.
import type { ResumeEvent } from "../policy/contract.js";
import { registerResumeHandler } from "../policy/gate.js";

type KindHandler = (env: Cloudflare.Env, event: ResumeEvent) => Promise<void>;
const handlers = new Map<string, KindHandler>();

export function onResume(kind: string, handler: KindHandler): void {
  handlers.set(kind, handler);
}

registerResumeHandler(async (env, event) => {
  const handler = handlers.get(event.input.resume.kind);
  // No handler means this isolate was built without that layer: throw so the event is retried.
  if (!handler) throw new Error(`no handler for held ${event.input.resume.kind} requests`);
  await handler(env, event);
});
