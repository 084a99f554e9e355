// Errors leave the API in Dfns's shape, {"error":{"message":…}}, with a status that says whose
// fault it was. Durable Object methods cannot throw typed errors across RPC (only the message
// survives), so they return an Outcome and the Worker turns a failed one into an ApiError.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";

export type ClientErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415;

export class ApiError extends Error {
  constructor(
    readonly status: ClientErrorStatus | 503,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: ClientErrorStatus | 503; message: string; refusal?: Refusal };

/**
 * Why the share holders refused, when the edge acts on it: "policy" — a node judged the request
 * under the org's signed policies and refused it (the policies may have changed since the edge's
 * gate allowed it: the edge decides again under its newest ones, wallets/ and broadcast/).
 */
export type Refusal = "policy";

export const success = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const failure = (status: ClientErrorStatus | 503, message: string): { ok: false; status: ClientErrorStatus | 503; message: string } => ({
  ok: false,
  status,
  message,
});

/** The value of a successful Outcome, or an ApiError carrying the failure's status and message. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new ApiError(outcome.status, outcome.message);
}

export function errorBody(message: string) {
  return { error: { message } };
}

/** app.onError: known errors keep their status; anything else is a 500 without internals. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.message), err.status as ContentfulStatusCode);
  if (err instanceof ZodError) return c.json(errorBody(describeZodError(err)), 400);
  // Hono's HTTPException (e.g. from its own body parsing) carries a status of its own.
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return c.json(errorBody(err.message || "Bad request"), status as ContentfulStatusCode);
  }
  console.error("unhandled error", err.name, err.message);
  return c.json(errorBody("Internal server error"), 500);
}

export function describeZodError(err: ZodError): string {
  const first = err.issues[0];
  if (!first) return "Invalid request";
  const where = first.path.length ? first.path.join(".") : "body";
  return `Invalid request: ${where}: ${first.message}`;
}
