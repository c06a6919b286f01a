import { AegisError } from "../shared/index.ts";

/** Where a Vault (or OpenBao) server is and how to reach it. */
export interface VaultEndpoint {
  /** Base URL, e.g. `https://vault.example.com:8200`; http:// only for loopback hosts. */
  address: string;
  /** Enterprise/OpenBao namespace sent as `X-Vault-Namespace`; absent means the root namespace. */
  namespace?: string;
  /** Per-request time limit in milliseconds. */
  timeoutMs: number;
  /** PEM certificates to trust for https (a private CA); absent means Bun's built-in roots. */
  ca?: string;
}

/** A Vault answer: status and parsed JSON body (undefined when empty or not JSON). */
export interface VaultResponse {
  status: number;
  body: unknown;
}

/** One HTTP request to the Vault API. */
export interface VaultRequest {
  method: "GET" | "POST" | "DELETE";
  /** API path below `/v1/`, already encoded (e.g. `secret/data/aegisclaw/NAME`). */
  path: string;
  /** `X-Vault-Token`; omitted for login requests. */
  token?: string;
  /** JSON request body. */
  body?: unknown;
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

/**
 * Checks a Vault address at construction: an absolute http(s) URL with no path, query or
 * credentials. Plain http is refused except on loopback, because every request carries the
 * client token in a header and every read returns a secret value.
 */
export function checkVaultAddress(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new AegisError("bad-input", `secrets.vault.address is not a URL`, { hint: "use e.g. https://vault.example.com:8200" });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AegisError("bad-input", `secrets.vault.address must be http(s), not ${url.protocol}`, { hint: "use e.g. https://vault.example.com:8200" });
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new AegisError("bad-input", "secrets.vault.address must be scheme, host and port only (no path, query or credentials)", {
      hint: "use e.g. https://vault.example.com:8200; tokens come from tokenEnv/tokenSecret, never the URL",
    });
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new AegisError("bad-input", `secrets.vault.address uses plain http to ${url.hostname}; tokens and secret values would cross the network unencrypted`, {
      hint: "use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)",
    });
  }
  return url.origin;
}

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Sends requests to the Vault HTTP API with a time limit. Network failures become
 * `unavailable` errors naming the address; HTTP statuses are returned for the caller to map.
 * Redirects are not followed: a redirect would carry the token to another host (a standby
 * node or worse), so it is reported instead.
 */
export class VaultHttp {
  /** The normalised server origin, used in error messages (never contains credentials). */
  readonly address: string;

  constructor(private readonly endpoint: VaultEndpoint) {
    this.address = checkVaultAddress(endpoint.address);
  }

  /** Sends one request; throws only when no HTTP answer arrived (or it was a redirect). */
  async send(request: VaultRequest): Promise<VaultResponse> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (request.token !== undefined) headers["x-vault-token"] = request.token;
    if (this.endpoint.namespace !== undefined) headers["x-vault-namespace"] = this.endpoint.namespace;
    if (request.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.address}/v1/${request.path}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        redirect: "manual",
        signal: AbortSignal.timeout(this.endpoint.timeoutMs),
        ...(this.endpoint.ca === undefined ? {} : { tls: { ca: this.endpoint.ca } }),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new AegisError("unavailable", `Vault at ${this.address} answered with a redirect (${response.status}); the token is not sent after it`, {
        hint: "set secrets.vault.address to the active node (or the load balancer that forwards to it)",
      });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    return { status: response.status, body: parseJson(text) };
  }

  private unreachable(error: unknown): AegisError {
    const name = error instanceof Error ? error.name : "";
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    if (/CERT|VERIFY|SIGNATURE|ALTNAME/i.test(code)) {
      return new AegisError("unavailable", `Vault at ${this.address} presented a TLS certificate that is not trusted (${code})`, {
        hint: "if Vault uses a private CA, set secrets.vault.caFile to its PEM file; check that the address's host name is in the certificate",
        cause: error,
      });
    }
    const why = name === "TimeoutError" || name === "AbortError" ? `did not answer within ${this.endpoint.timeoutMs} ms` : `is unreachable${code ? ` (${code})` : ""}`;
    return new AegisError("unavailable", `Vault at ${this.address} ${why}`, {
      hint: "check secrets.vault.address, that the server runs and is unsealed, and the network path to it",
      cause: error,
    });
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Vault's own error strings from a response body (`{"errors": [...]}`), with every given
 * sensitive string (token, secret id, value) cut out, shortened to one line.
 */
export function vaultErrorText(body: unknown, sensitive: readonly string[]): string {
  const errors = isRecord(body) && Array.isArray(body.errors) ? body.errors.filter((item): item is string => typeof item === "string") : [];
  let text = errors.join("; ").replace(/\s+/g, " ").trim();
  for (const value of sensitive) if (value.length >= 4) text = text.split(value).join("[redacted]");
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** True for plain JSON objects. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
