import type { z } from "zod";
import { HttpError } from "./http.ts";

/**
 * Reads and validates a JSON body. Empty means `{}` (routes whose body is optional);
 * anything else must be `application/json`, parse, and match the schema. Errors name the
 * field and what was expected. Oversized bodies never get here: Bun answers 413 itself
 * (`maxRequestBodySize`), and a declared Content-Length over the limit is refused first.
 */
export async function readBody<T>(request: Request, schema: z.ZodType<T>, maxBytes: number): Promise<T> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new HttpError(413, "too-large", `request body is larger than ${maxBytes} bytes`);
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) throw new HttpError(413, "too-large", `request body is larger than ${maxBytes} bytes`);
  let value: unknown = {};
  if (text.trim() !== "") {
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, "unsupported-media-type", "the request body must be JSON (Content-Type: application/json)");
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, "malformed-json", `request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
    }
  }
  return validated(schema, value, "request body");
}

/** Validates the query string (first value of each name) against the route's schema. */
export function readQuery<T>(url: URL, schema: z.ZodType<T>): T {
  const values: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!(name in values)) values[name] = value;
  return validated(schema, values, "query");
}

function validated<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") || (issue?.code === "unrecognized_keys" ? issue.keys.join(",") : "");
  const message = issue?.message ?? "invalid";
  throw new HttpError(400, "invalid-request", `invalid ${where}: ${field ? `${field}: ` : ""}${message}`, field ? { field } : {});
}
