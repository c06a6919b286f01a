import type { Session } from "./types.ts";

/** A failed API call: the HTTP status and the server's `{error: {code, message, hint}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Method = "GET" | "POST" | "DELETE";

/**
 * The dashboard's API client. Authentication is the session cookie (HttpOnly: no script can
 * read it); the CSRF token the login returns is kept in this object only — never in
 * localStorage, sessionStorage or the DOM — and sent on every state-changing request.
 * Reloading the page forgets it, so the person logs in again.
 */
export class Api {
  private csrfToken: string | undefined;
  /** Called when a request comes back 401: the session expired, was logged out or its token revoked. */
  onSessionLost: () => void = () => {};

  /** Exchanges a token for a session. The caller must not keep the token. */
  async login(token: string): Promise<Session> {
    const session = await this.send<Session>("POST", "/api/v1/session", { token }, false);
    this.csrfToken = session.csrfToken;
    return session;
  }

  /** Ends the session on the server (best effort) and forgets the CSRF token. */
  async logout(): Promise<void> {
    try {
      await this.send("DELETE", "/api/v1/session", undefined, false);
    } finally {
      this.csrfToken = undefined;
    }
  }

  get<T>(path: string): Promise<T> {
    return this.send<T>("GET", path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>("POST", path, body);
  }

  private async send<T>(method: Method, path: string, body?: unknown, reportLoss = true): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && this.csrfToken) headers["X-CSRF-Token"] = this.csrfToken;
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    const error = errorOf(parsed);
    if (response.status === 401 && reportLoss) {
      this.csrfToken = undefined;
      this.onSessionLost();
    }
    throw new ApiError(response.status, error.code, error.message || `${method} ${path}: HTTP ${response.status}`, error.hint);
  }
}

function errorOf(body: unknown): { code: string; message: string; hint?: string } {
  if (typeof body === "object" && body !== null && "error" in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === "object" && error !== null) {
      const { code, message, hint } = error as { code?: unknown; message?: unknown; hint?: unknown };
      return { code: typeof code === "string" ? code : "error", message: typeof message === "string" ? message : "", ...(typeof hint === "string" ? { hint } : {}) };
    }
  }
  return { code: "error", message: "" };
}

/** The text to show for a failed call: the server's message and hint, or the browser's error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}
