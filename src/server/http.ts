import { isAegisError, type ErrorCode } from "../shared/index.ts";

/** The one table from AegisError codes to HTTP statuses (STYLE.md habit 3). */
export const HTTP_STATUS_FOR: Readonly<Record<ErrorCode, number>> = {
  usage: 400,
  "bad-input": 400,
  denied: 403,
  lockdown: 423,
  unavailable: 503,
  integrity: 500,
  internal: 500,
};

/**
 * A failure that belongs to HTTP itself (unknown id, wrong content type, auth), with a stable
 * machine-readable `code` next to the human message.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { hint?: string; field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** The API's policy: JSON loads nothing, so nothing is allowed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The web dashboard's policy: its own script, stylesheet and icon, API calls and the event
 * WebSocket to its own origin (CSP3 'self' covers ws:/wss: of the same host and port), and
 * nothing else: no inline script or style, no eval, no other origin, no framing, no forms
 * posting anywhere (the login form is sent by script).
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Every response carries these: nothing may be framed, sniffed or cached. `csp` is the API's
 * policy unless a dashboard asset asks for the page's.
 */
export function securityHeaders(tls: boolean, csp: string = API_CSP): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    ...(tls ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { "Content-Type": "application/json; charset=utf-8", ...headers } });
}

/** The error envelope every failure uses: `{error: {code, message, hint?, field?}}`. */
export function errorResponse(status: number, code: string, message: string, extra: HttpError["extra"] = {}): Response {
  const { headers, ...details } = extra;
  return json({ error: { code, message, ...details } }, status, headers);
}

/**
 * Maps anything a handler threw to a response. AegisError messages are written to be shown
 * (they never contain secret values); anything else is an internal error whose details go to
 * the server's log only.
 */
export function responseForError(error: unknown, log: (line: string) => void): Response {
  if (error instanceof HttpError) return errorResponse(error.status, error.code, error.message, error.extra);
  if (isAegisError(error)) {
    const status = HTTP_STATUS_FOR[error.code];
    if (status >= 500) log(`aegisclaw serve: ${error.code}: ${error.message}`);
    return errorResponse(status, error.code, error.message, error.hint ? { hint: error.hint } : {});
  }
  log(`aegisclaw serve: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return errorResponse(500, "internal", "internal error (details are in the server's log)");
}

/** securityHeaders as name/value pairs, built once per combination (every response sets them). */
const headerPairs = new Map<string, ReadonlyArray<readonly [string, string]>>();

/** Adds the security headers to a response (a copy when its headers are immutable). */
export function withSecurityHeaders(response: Response, tls: boolean, csp: string = API_CSP): Response {
  const key = `${tls}\n${csp}`;
  let pairs = headerPairs.get(key);
  if (!pairs) headerPairs.set(key, (pairs = Object.entries(securityHeaders(tls, csp))));
  try {
    for (const [name, value] of pairs) response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [name, value] of pairs) copy.headers.set(name, value);
    return copy;
  }
}
