/**
 * A minimal Docker Engine API client over the unix socket, using Bun's fetch (`unix:`).
 * AegisClaw needs a dozen endpoints; a full client (dockerode) would bring ssh2, gRPC and
 * protobuf into the binary and triple its start-up cost. API 1.41 is the newest the Debian
 * 12 engine speaks (see notes/stack.md §2).
 */
const API_VERSION = "v1.41";

/** A non-2xx answer from the engine, with the engine's own message. */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

type Query = Record<string, string | number | boolean | undefined>;

/** Talks to one engine socket. Construction does no I/O. */
export class EngineClient {
  constructor(readonly socketPath: string) {}

  /** Sends a request; resolves to the raw response (2xx), throws EngineError otherwise. */
  async request(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    const response = await fetch(this.url(path, options.query), {
      method,
      unix: this.socketPath,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body), headers: { "content-type": "application/json" } }),
      ...(options.signal ? { signal: options.signal } : {}),
    } as RequestInit);
    if (response.ok) return response;
    const text = await response.text().catch(() => "");
    let message = text.trim() || response.statusText;
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // not JSON: keep the text
    }
    throw new EngineError(response.status, message);
  }

  /** Sends a request and parses the JSON answer (empty bodies become undefined). */
  async json<T>(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  private url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.size > 0 ? `?${params}` : "";
    return `http://docker/${API_VERSION}${path}${search}`;
  }
}
