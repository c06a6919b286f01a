import { AegisError } from "../shared/index.ts";
import { MAX_SECRET_BYTES } from "./age-store.ts";
import type { SecretBackend, SecretMeta } from "./backend.ts";
import { assertSecretName, isSecretName } from "./names.ts";
import type { VaultAuth } from "./vault-auth.ts";
import { deniedError, isMissingMount, kvVersionError, missingSecretError, mountMissingError, statusError, type VaultAction } from "./vault-errors.ts";
import { isRecord, VaultHttp, type VaultRequest, type VaultResponse } from "./vault-http.ts";

/** Mount, path prefix and namespace segments: letters, digits, `_ . -`, joined by `/`; no `.`/`..`. */
export const VAULT_PATH_PATTERN = /^(?!\.\.?(\/|$))[A-Za-z0-9_.-]+(\/(?!\.\.?(\/|$))[A-Za-z0-9_.-]+)*$/;

/** Where and how the Vault backend keeps secrets. */
export interface VaultBackendOptions {
  /** Server origin; https, or http on loopback only. */
  address: string;
  /** Namespace (Vault Enterprise, OpenBao); absent means the root namespace. */
  namespace?: string;
  /** KV v2 mount (default `secret`). */
  mount?: string;
  /** Prefix under the mount (default `aegisclaw`; empty string: the mount's root). */
  path?: string;
  /** Per-request time limit in ms (default 10 s). */
  timeoutMs?: number;
  /** PEM certificates to trust for https (a private CA). */
  ca?: string;
  /** Token or AppRole credentials. */
  auth: VaultAuth;
}

/** Extra read options the Vault backend has beyond the port. */
export interface VaultReadOptions {
  /** A KV v2 version number (1, 2, ...); absent means the current version. */
  version?: number;
}

const LIST_CONCURRENCY = 8;

/**
 * Secrets in HashiCorp Vault / OpenBao KV v2. Each secret is one KV entry at
 * `<mount>/data/<path>/<NAME>` whose data is `{"value": "..."}`, so `vault kv put -mount=secret
 * aegisclaw/NAME value=...` and this backend interoperate. `remove` deletes the metadata, which
 * destroys every version. Errors name the server and the API path, never a token or a value.
 */
export class VaultSecretBackend implements SecretBackend {
  /** `mount/path`, for messages. */
  readonly location: string;
  private readonly http: VaultHttp;
  private readonly mount: string;
  private readonly prefix: string;
  private kvChecked: Promise<void> | undefined;

  constructor(private readonly options: VaultBackendOptions) {
    this.mount = checkSegments(options.mount ?? "secret", "secrets.vault.mount", false);
    const path = checkSegments(options.path ?? "aegisclaw", "secrets.vault.path", true);
    if (options.namespace !== undefined) checkSegments(options.namespace, "secrets.vault.namespace", false);
    this.prefix = path === "" ? "" : `${path}/`;
    this.location = `${this.mount}/${path}`;
    this.http = new VaultHttp({ address: options.address, namespace: options.namespace, timeoutMs: options.timeoutMs ?? 10_000, ca: options.ca });
  }

  /** Names and times from KV metadata; entries whose names are not secret names are skipped. */
  async list(): Promise<SecretMeta[]> {
    const listPath = `${this.mount}/metadata/${this.prefix}`;
    const action: VaultAction = { verb: "list", apiPath: listPath, capabilities: '"list"' };
    const response = await this.call({ method: "GET", path: `${listPath}?list=true` }, action);
    if (response.status === 404) {
      if (isMissingMount(response.body)) throw mountMissingError(this.http.address, this.mount, this.options.namespace);
      return [];
    }
    if (response.status !== 200) throw this.unexpected(response, action);
    const data = isRecord(response.body) && isRecord(response.body.data) ? response.body.data : {};
    const names = (Array.isArray(data.keys) ? data.keys : []).filter((key): key is string => typeof key === "string" && isSecretName(key)).sort();
    const metas: SecretMeta[] = [];
    for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(names.slice(i, i + LIST_CONCURRENCY).map((name) => this.metadata(name)));
      for (const meta of batch) if (meta) metas.push(meta);
    }
    return metas;
  }

  /** The current value, or a given version's with `{ version }`. */
  async get(name: string, options: VaultReadOptions = {}): Promise<string> {
    assertSecretName(name);
    const version = options.version;
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw new AegisError("bad-input", `secret version must be a whole number from 1 up, not ${version}`);
    }
    const apiPath = this.dataPath(name);
    const action: VaultAction = { verb: "read", apiPath, capabilities: '"read"' };
    const response = await this.call({ method: "GET", path: version === undefined ? apiPath : `${apiPath}?version=${version}` }, action);
    if (response.status === 404) throw this.notFound(response, name, version);
    if (response.status !== 200) throw this.unexpected(response, action);
    const outer = isRecord(response.body) && isRecord(response.body.data) ? response.body.data : undefined;
    const value = outer && isRecord(outer.data) ? outer.data.value : undefined;
    if (typeof value !== "string") {
      throw new AegisError("bad-input", `${apiPath} has no string field "value"`, {
        hint: `store it with \`aegisclaw secrets set ${name}\` or \`vault kv put -mount=${this.mount} ${this.prefix}${name} value=...\``,
      });
    }
    return value;
  }

  /** Writes a new version (the previous ones stay readable by version until `remove`). */
  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    if (value === "") throw new AegisError("bad-input", `the value for ${name} is empty`, { hint: "give a non-empty value (stdin, the hidden prompt or --value)" });
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new AegisError("bad-input", `the value for ${name} is larger than 1 MiB`, { hint: "store a path or reference instead" });
    const apiPath = this.dataPath(name);
    const action: VaultAction = { verb: "write", apiPath, capabilities: '"create", "update"' };
    const response = await this.call({ method: "POST", path: apiPath, body: { data: { value } } }, action);
    if (response.status === 404 && isMissingMount(response.body)) throw mountMissingError(this.http.address, this.mount, this.options.namespace);
    if (response.status !== 200 && response.status !== 204) throw this.unexpected(response, action, [value]);
  }

  /** Deletes the secret's metadata and with it every version. */
  async remove(name: string): Promise<void> {
    assertSecretName(name);
    if ((await this.metadata(name)) === undefined) throw missingSecretError(name);
    const apiPath = this.metadataPath(name);
    const action: VaultAction = { verb: "delete", apiPath, capabilities: '"delete"' };
    const response = await this.call({ method: "DELETE", path: apiPath }, action);
    if (response.status !== 204 && response.status !== 200) throw this.unexpected(response, action);
  }

  private async metadata(name: string): Promise<SecretMeta | undefined> {
    const apiPath = this.metadataPath(name);
    const action: VaultAction = { verb: "read", apiPath, capabilities: '"read"' };
    const response = await this.call({ method: "GET", path: apiPath }, action);
    if (response.status === 404) {
      if (isMissingMount(response.body)) throw mountMissingError(this.http.address, this.mount, this.options.namespace);
      return undefined;
    }
    if (response.status !== 200) throw this.unexpected(response, action);
    const data = isRecord(response.body) && isRecord(response.body.data) ? response.body.data : {};
    const created = isoTime(data.created_time);
    return { name, created, updated: isoTime(data.updated_time, created) };
  }

  /**
   * Sends a request with the current token. On 403 the auth decides: a dead AppRole token is
   * replaced and the request sent once more; otherwise the denial is reported by its cause.
   */
  private async call(request: Omit<VaultRequest, "token">, action: VaultAction): Promise<VaultResponse> {
    await this.checkKvVersion();
    const first = await this.http.send({ ...request, token: await this.options.auth.token(this.http) });
    if (first.status !== 403) return first;
    const cause = await this.options.auth.afterDenial(this.http);
    if (cause !== "retry") throw deniedError(this.http.address, action, cause, this.options.auth.method);
    const second = await this.http.send({ ...request, token: await this.options.auth.token(this.http) });
    if (second.status === 403) throw deniedError(this.http.address, action, "policy", this.options.auth.method);
    return second;
  }

  /**
   * Once per backend: a KV v1 mount would accept `data/...` writes as plain keys and break every
   * later read, so its version is checked first (`sys/internal/ui/mounts`, in Vault's default
   * policy). Any answer other than a clear "version 1" lets the real request report the problem.
   */
  private checkKvVersion(): Promise<void> {
    this.kvChecked ??= (async () => {
      const token = await this.options.auth.token(this.http);
      const response = await this.http.send({ method: "GET", path: `sys/internal/ui/mounts/${this.mount}`, token });
      const data = isRecord(response.body) && isRecord(response.body.data) ? response.body.data : undefined;
      if (response.status !== 200 || !data || data.type !== "kv") return;
      const version = isRecord(data.options) && typeof data.options.version === "string" ? data.options.version : "";
      if (version !== "2") throw kvVersionError(this.http.address, this.mount, version);
    })().catch((error: unknown) => {
      this.kvChecked = undefined;
      throw error;
    });
    return this.kvChecked;
  }

  private notFound(response: VaultResponse, name: string, version: number | undefined): AegisError {
    if (isMissingMount(response.body)) return mountMissingError(this.http.address, this.mount, this.options.namespace);
    return missingSecretError(name, version);
  }

  private unexpected(response: VaultResponse, action: VaultAction, values: string[] = []): AegisError {
    return statusError(this.http.address, response.status, response.body, action, [...this.options.auth.sensitive(), ...values]);
  }

  private dataPath(name: string): string {
    return `${this.mount}/data/${this.prefix}${name}`;
  }

  private metadataPath(name: string): string {
    return `${this.mount}/metadata/${this.prefix}${name}`;
  }
}

function checkSegments(text: string, field: string, allowEmpty: boolean): string {
  const trimmed = text.replace(/^\/+|\/+$/g, "");
  if ((allowEmpty && trimmed === "") || VAULT_PATH_PATTERN.test(trimmed)) return trimmed;
  throw new AegisError("bad-input", `${field} must be segments of letters, digits, _ . - joined by / (no . or .. segments)`, { hint: 'e.g. "secret" or "teams/agents"' });
}

/** Vault's RFC 3339 times (nanoseconds) as ISO 8601 with milliseconds, like the age store's. */
function isoTime(value: unknown, fallback = ""): string {
  if (typeof value !== "string") return fallback;
  const time = Date.parse(value.replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}
