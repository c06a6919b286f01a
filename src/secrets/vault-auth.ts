import { AegisError } from "../shared/index.ts";
import { isRecord, vaultErrorText, type VaultHttp } from "./vault-http.ts";

/** Produces a credential (token or AppRole secret_id) on demand: from the environment or the age store. */
export type CredentialSource = () => Promise<string>;

/** What a 403 meant, once the token has been checked with `auth/token/lookup-self`. */
export type DenialCause = "retry" | "token-invalid" | "policy";

/** How the Vault backend obtains a client token. */
export interface VaultAuth {
  /** `token` or `approle`, for error messages. */
  readonly method: "token" | "approle";
  /** A client token for the next request (logging in or renewing first when needed). */
  token(http: VaultHttp): Promise<string>;
  /**
   * Called after a 403. "policy": the token is valid, so its policies lack the path.
   * "token-invalid": the token is dead and cannot be replaced. "retry": a new token was
   * obtained (AppRole re-login), so the request is worth sending once more.
   */
  afterDenial(http: VaultHttp): Promise<DenialCause>;
  /** Credentials in use, cut out of any text that reaches an error message. */
  sensitive(): string[];
}

/** A fixed client token (from `tokenEnv` or `tokenSecret`), read on first use. */
export class VaultTokenAuth implements VaultAuth {
  readonly method = "token";
  private cached: string | undefined;

  constructor(private readonly source: CredentialSource) {}

  async token(): Promise<string> {
    this.cached ??= await this.source();
    return this.cached;
  }

  async afterDenial(http: VaultHttp): Promise<DenialCause> {
    return (await tokenIsValid(http, await this.token())) ? "policy" : "token-invalid";
  }

  sensitive(): string[] {
    return this.cached === undefined ? [] : [this.cached];
  }
}

/** How an AppRole login is configured. */
export interface AppRoleOptions {
  /** The role's role_id (an identifier, like a user name). */
  roleId: string;
  /** The role's secret_id (a credential). */
  secretId: CredentialSource;
  /** Where the AppRole auth method is mounted (default `approle`). */
  mount?: string;
  /** Clock in ms (tests). */
  now?: () => number;
}

interface Lease {
  token: string;
  /** Absolute expiry in ms; undefined when the token does not expire. */
  expiresAt: number | undefined;
  ttlMs: number;
  renewable: boolean;
}

/**
 * AppRole: logs in with role_id + secret_id, renews the client token before it expires (or
 * logs in again when renewal is refused), and logs in again after a 403 when the token turns
 * out to be dead (revoked, or past its max TTL). Concurrent callers share one login.
 */
export class VaultAppRoleAuth implements VaultAuth {
  readonly method = "approle";
  private lease: Lease | undefined;
  private inflight: Promise<string> | undefined;
  private secretId: string | undefined;
  private readonly mount: string;
  private readonly now: () => number;

  constructor(private readonly options: AppRoleOptions) {
    this.mount = options.mount ?? "approle";
    this.now = options.now ?? Date.now;
  }

  async token(http: VaultHttp): Promise<string> {
    const lease = this.lease;
    if (lease && !this.nearExpiry(lease)) return lease.token;
    this.inflight ??= (lease?.renewable ? this.renew(http, lease) : this.login(http)).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  async afterDenial(http: VaultHttp): Promise<DenialCause> {
    const lease = this.lease;
    if (lease && (await tokenIsValid(http, lease.token))) return "policy";
    this.lease = undefined;
    await this.token(http);
    return "retry";
  }

  sensitive(): string[] {
    return [this.lease?.token, this.secretId].filter((value): value is string => value !== undefined);
  }

  private nearExpiry(lease: Lease): boolean {
    if (lease.expiresAt === undefined) return false;
    return lease.expiresAt - this.now() < Math.max(2_000, lease.ttlMs / 10);
  }

  private async renew(http: VaultHttp, lease: Lease): Promise<string> {
    const response = await http.send({ method: "POST", path: "auth/token/renew-self", token: lease.token, body: {} });
    const renewed = response.status === 200 ? this.leaseFrom(response.body) : undefined;
    // A refused or capped renewal (max TTL reached) is not an error: a fresh login replaces it.
    if (renewed && renewed.ttlMs > lease.ttlMs / 2) {
      this.lease = renewed;
      return renewed.token;
    }
    return this.login(http);
  }

  private async login(http: VaultHttp): Promise<string> {
    this.secretId ??= await this.options.secretId();
    const path = `auth/${this.mount.split("/").map(encodeURIComponent).join("/")}/login`;
    const response = await http.send({ method: "POST", path, body: { role_id: this.options.roleId, secret_id: this.secretId } });
    const detail = vaultErrorText(response.body, this.sensitive());
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new AegisError("denied", `Vault at ${http.address} refused the AppRole login (${response.status}${detail ? `: ${detail}` : ""})`, {
        hint: `check secrets.vault.auth.roleId and the secret_id (wrong, expired or out of uses? \`vault write -f auth/approle/role/ROLE/secret-id\` makes a new one), and that AppRole is enabled at auth/${this.mount} (Vault answers 403 when it is not)`,
      });
    }
    if (response.status === 404) {
      throw new AegisError("bad-input", `Vault at ${http.address} has no AppRole auth method at auth/${this.mount}`, {
        hint: "enable it (`vault auth enable approle`) or set secrets.vault.auth.mount",
      });
    }
    const lease = response.status === 200 ? this.leaseFrom(response.body) : undefined;
    if (!lease) {
      throw new AegisError("unavailable", `Vault at ${http.address} answered the AppRole login with ${response.status}${detail ? `: ${detail}` : ""}`, {
        hint: "check the server's health (`vault status`) and its logs",
      });
    }
    this.lease = lease;
    return lease.token;
  }

  private leaseFrom(body: unknown): Lease | undefined {
    const auth = isRecord(body) && isRecord(body.auth) ? body.auth : undefined;
    if (!auth || typeof auth.client_token !== "string" || auth.client_token === "") return undefined;
    const seconds = typeof auth.lease_duration === "number" ? auth.lease_duration : 0;
    return {
      token: auth.client_token,
      expiresAt: seconds > 0 ? this.now() + seconds * 1000 : undefined,
      ttlMs: seconds * 1000,
      renewable: auth.renewable === true,
    };
  }
}

/** True when Vault still accepts the token (`auth/token/lookup-self`, allowed by the default policy). */
async function tokenIsValid(http: VaultHttp, token: string): Promise<boolean> {
  const response = await http.send({ method: "GET", path: "auth/token/lookup-self", token });
  return response.status === 200;
}
