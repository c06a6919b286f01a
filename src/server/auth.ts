import { HttpError } from "./http.ts";
import type { FailureLimiter } from "./rate-limit.ts";
import type { Role } from "./rbac.ts";
import { sameSecret, SESSION_COOKIE, type Session, type SessionStore } from "./sessions.ts";
import type { TokenRecord, TokenStore } from "./tokens.ts";

/** Who is calling: the token's id, name (recorded as actor / approver) and role. */
export interface Identity {
  tokenId: string;
  name: string;
  role: Role;
  /** How the token was presented: an Authorization header, or a browser session cookie. */
  via: "bearer" | "session";
  session?: Session;
}

/** What authentication needs. */
export interface AuthDeps {
  tokens: TokenStore;
  sessions: SessionStore;
  limiter: FailureLimiter;
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="aegisclaw"' };

/**
 * Authenticates a request by its bearer token, else its session cookie. Failed attempts count
 * against the client address; an address over its limit is refused (429) before any token is
 * looked at. Throws HttpError 401 / 429 / 503.
 */
export function authenticate(request: Request, address: string, deps: AuthDeps): Identity {
  const presented = credentials(request);
  if (!presented) throw new HttpError(401, "unauthenticated", "authentication required: send `Authorization: Bearer <token>` (create one with `aegisclaw token create`)", { headers: CHALLENGE });
  const wait = deps.limiter.retryAfterMs(address);
  if (wait > 0) {
    throw new HttpError(429, "rate-limited", "too many failed authentication attempts from this address; try again later", { headers: { "Retry-After": String(Math.ceil(wait / 1000)) } });
  }
  const identity = presented.kind === "bearer" ? bearerIdentity(presented.value, deps) : sessionIdentity(presented.value, deps);
  if (identity) return identity;
  deps.limiter.fail(address);
  throw new HttpError(401, "unauthenticated", presented.kind === "bearer" ? "invalid or revoked token" : "invalid or expired session", { headers: CHALLENGE });
}

/** Verifies a bare token (the session login); failures count like any other. */
export function verifyToken(token: string, address: string, deps: AuthDeps): TokenRecord {
  const wait = deps.limiter.retryAfterMs(address);
  if (wait > 0) throw new HttpError(429, "rate-limited", "too many failed authentication attempts from this address; try again later", { headers: { "Retry-After": String(Math.ceil(wait / 1000)) } });
  const record = lookup(() => deps.tokens.verify(token));
  if (record) return record;
  deps.limiter.fail(address);
  throw new HttpError(401, "unauthenticated", "invalid or revoked token", { headers: CHALLENGE });
}

/**
 * Refuses requests from browser pages of other origins. A request without an Origin header
 * is not from a cross-origin page (browsers send it on every cross-origin request and on
 * every POST), so it passes here; cookie-authenticated changes additionally need one (see
 * {@link checkCsrf}). `Sec-Fetch-Site: cross-site` is refused as well, as defence in depth.
 */
export function checkOrigin(request: Request, allowed: ReadonlySet<string>): void {
  const origin = request.headers.get("origin");
  if (origin !== null && !allowed.has(origin)) throw new HttpError(403, "origin-not-allowed", `origin ${origin.slice(0, 200)} is not allowed`, { hint: "serve the page from the server's own origin, or start the server with --origin" });
  if (request.headers.get("sec-fetch-site") === "cross-site") throw new HttpError(403, "origin-not-allowed", "cross-site requests are not allowed");
}

/**
 * CSRF protection for browser sessions: a cookie-authenticated request that changes state
 * (or opens a WebSocket) must come from an allowed Origin and, for state changes, echo the
 * session's CSRF token in `X-CSRF-Token`. The cookie itself is SameSite=Strict. Bearer
 * requests are not exposed to CSRF: a browser never attaches an Authorization header for
 * another site's page, and the server grants no CORS.
 */
export function checkCsrf(request: Request, identity: Identity, allowed: ReadonlySet<string>, upgrade: boolean): void {
  if (identity.via !== "session" || !identity.session) return;
  if (!upgrade && !UNSAFE_METHODS.has(request.method)) return;
  const origin = request.headers.get("origin");
  if (origin === null || !allowed.has(origin)) throw new HttpError(403, "csrf", "a browser session request needs an allowed Origin header");
  if (upgrade) return;
  const echoed = request.headers.get("x-csrf-token") ?? "";
  if (!sameSecret(echoed, identity.session.csrfToken)) throw new HttpError(403, "csrf", "missing or wrong X-CSRF-Token header", { hint: "send the csrfToken returned by POST /api/v1/session" });
}

function credentials(request: Request): { kind: "bearer" | "session"; value: string } | undefined {
  const header = request.headers.get("authorization");
  if (header !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return { kind: "bearer", value: match?.[1] ?? "" };
  }
  const session = cookieValue(request.headers.get("cookie"), SESSION_COOKIE);
  return session === undefined ? undefined : { kind: "session", value: session };
}

function bearerIdentity(token: string, deps: AuthDeps): Identity | undefined {
  const record = lookup(() => deps.tokens.verify(token));
  return record ? { tokenId: record.id, name: record.name, role: record.role, via: "bearer" } : undefined;
}

function sessionIdentity(id: string, deps: AuthDeps): Identity | undefined {
  const session = deps.sessions.get(id);
  if (!session) return undefined;
  const record = lookup(() => deps.tokens.active(session.tokenId));
  if (!record) {
    deps.sessions.delete(id);
    return undefined;
  }
  return { tokenId: record.id, name: record.name, role: record.role, via: "session", session };
}

/** An unreadable token store fails closed: nobody gets in, and the caller learns why (503). */
function lookup(find: () => TokenRecord | undefined): TokenRecord | undefined {
  try {
    return find();
  } catch {
    // The reason (a path, a parse error) is for the operator's shell, not for any caller.
    throw new HttpError(503, "unavailable", "the token store cannot be read; the server's operator must repair it", { hint: "`aegisclaw token list` on the server names the problem" });
  }
}

function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
