// Where a resumed request goes: the signing layer registers one handler at module top level (in
// a module index.ts imports), so every isolate that runs the PolicyState Durable Object has it.
import type { ResumeHandler } from "./contract.js";

let registered: ResumeHandler | null = null;

/** Sets (or, with null, clears) the handler; the last registration wins. */
export function registerResumeHandler(handler: ResumeHandler | null): void {
  registered = handler;
}

export function resumeHandler(): ResumeHandler | null {
  return registered;
}
