// Request bodies: read once as text (the exact bytes a user action commits to), parse as JSON,
// validate with zod. Malformed JSON or a schema mismatch is the client's fault: 400.
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, describeZodError } from "./errors.js";

/** Largest request body we accept; Dfns bodies are small JSON documents. */
export const MAX_BODY_BYTES = 256 * 1024;

export async function readBodyText(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new ApiError(413, "Request body too large");
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new ApiError(413, "Request body too large");
  return text;
}

export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readBodyText(c);
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, "Malformed JSON body");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(400, describeZodError(parsed.error));
  return parsed.data;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new ApiError(400, describeZodError(parsed.error));
  return parsed.data;
}
