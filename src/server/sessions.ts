import { timingSafeEqual } from "node:crypto";

/** A browser session: a cookie that stands for a token, plus the CSRF token its page must echo. */
export interface Session {
  id: string;
  tokenId: string;
  csrfToken: string;
  expiresAt: number;
}

/** The session cookie's name. */
export const SESSION_COOKIE = "aegisclaw_session";
const SESSION_TTL_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1000;

/**
 * In-memory browser sessions (a restart logs every browser out, which is the safe direction).
 * The cookie holds only a random id; the token behind it is re-checked on every request, so
 * revoking the token ends its sessions too.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  /** Opens a session for a verified token. */
  create(tokenId: string, now = Date.now()): Session {
    this.prune(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const session = { id: randomHex(32), tokenId, csrfToken: randomHex(32), expiresAt: now + SESSION_TTL_MS };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this cookie value, or undefined. */
  get(id: string, now = Date.now()): Session | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** The cookie that opens `session`: HttpOnly, SameSite=Strict, Secure when served over TLS. */
  cookie(session: Session, tls: boolean): string {
    const maxAge = Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000));
    return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${tls ? "; Secure" : ""}`;
  }

  /** The cookie that clears the session in the browser. */
  clearingCookie(tls: boolean): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${tls ? "; Secure" : ""}`;
  }

  private prune(now: number): void {
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Constant-time equality of two strings (CSRF tokens, session ids). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}
