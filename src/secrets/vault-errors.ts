import { AegisError } from "../shared/index.ts";
import type { DenialCause } from "./vault-auth.ts";
import { vaultErrorText } from "./vault-http.ts";

/** What the backend was doing when Vault said no: the words and policy capabilities involved. */
export interface VaultAction {
  /** `read`, `write`, `list` or `delete`. */
  verb: "read" | "write" | "list" | "delete";
  /** The API path below /v1/, as a policy would name it (e.g. `secret/data/aegisclaw/NAME`). */
  apiPath: string;
  /** Policy capabilities the path needs for this action. */
  capabilities: string;
}

/** The 403 error, worded by cause; never names the token itself. */
export function deniedError(address: string, action: VaultAction, cause: Exclude<DenialCause, "retry">, method: "token" | "approle"): AegisError {
  const holder = method === "approle" ? "the AppRole role's token" : "the token";
  if (cause === "token-invalid") {
    return new AegisError("denied", `Vault at ${address} rejected ${holder} (403): it is invalid, expired or revoked`, {
      hint:
        method === "approle"
          ? "check the AppRole role and secret_id in secrets.vault.auth"
          : "issue a new token (`vault token create -policy=...`) and update the env var or age secret named in secrets.vault.auth",
    });
  }
  return new AegisError("denied", `Vault denied ${action.verb} on ${action.apiPath}: ${holder} has no policy allowing it`, {
    hint: `attach a policy with path "${action.apiPath}" { capabilities = [${action.capabilities}] } to ${method === "approle" ? "the AppRole role" : "the token"} (see docs/secrets.md)`,
  });
}

/** A 404 that comes from a missing mount rather than a missing secret. */
export function isMissingMount(body: unknown): boolean {
  return /no handler for route|unsupported path/i.test(vaultErrorText(body, []));
}

/** No KV v2 engine where the config says. */
export function mountMissingError(address: string, mount: string, namespace: string | undefined): AegisError {
  const where = namespace === undefined ? "" : ` in namespace ${namespace}`;
  return new AegisError("bad-input", `Vault at ${address} has no KV v2 secrets engine at ${mount}/${where}`, {
    hint: `enable one (\`vault secrets enable -path=${mount} kv-v2\`) or set secrets.vault.mount`,
  });
}

/** A mount that is KV version 1, which has no versions, metadata or data/ paths. */
export function kvVersionError(address: string, mount: string, version: string): AegisError {
  return new AegisError("bad-input", `Vault at ${address}: the secrets engine at ${mount}/ is KV version ${version || "1"}, not 2`, {
    hint: `upgrade it (\`vault kv enable-versioning ${mount}\`) or point secrets.vault.mount at a kv-v2 mount`,
  });
}

/** Any other unexpected status: 400 is bad input, 429 and 5xx mean Vault is not serving. */
export function statusError(address: string, status: number, body: unknown, action: VaultAction, sensitive: readonly string[]): AegisError {
  const detail = vaultErrorText(body, sensitive);
  const suffix = detail ? `: ${detail}` : "";
  if (status === 400) {
    return new AegisError("bad-input", `Vault refused ${action.verb} on ${action.apiPath} (400${suffix})`, { hint: "check secrets.vault.mount, path and namespace" });
  }
  if (status === 429 || status >= 500) {
    return new AegisError("unavailable", `Vault at ${address} could not ${action.verb} ${action.apiPath} (${status}${suffix})`, {
      hint: "check the server's health (`vault status`: sealed? standby?) and its logs",
    });
  }
  return new AegisError("internal", `Vault at ${address} answered ${status} to ${action.verb} on ${action.apiPath}${suffix}`);
}

/** A missing secret: the same message the age store gives, so callers see one behaviour. */
export function missingSecretError(name: string, version?: number): AegisError {
  if (version !== undefined) {
    return new AegisError("bad-input", `no version ${version} of secret ${name} (never written, deleted or destroyed)`, { hint: "omit the version to read the current one" });
  }
  return new AegisError("bad-input", `no secret named ${name}`, { hint: "see `aegisclaw secrets list`" });
}
