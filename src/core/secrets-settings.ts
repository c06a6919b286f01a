import type { SecretBackendKind, SecretsSettings } from "../secrets/index.ts";
import type { Config } from "./config.ts";
import { parseDuration } from "./units.ts";

/**
 * The `secrets` config section as `openSecretBackend` takes it (durations in ms, credentials
 * by reference). `backend` overrides the configured backend (`AEGISCLAW_SECRETS_BACKEND` for
 * one `secrets` command); runs always use the configured one.
 */
export function secretsSettingsFrom(section: Config["secrets"], backend: SecretBackendKind = section.backend): SecretsSettings {
  const vault = section.vault;
  if (!vault) return { backend };
  const auth = vault.auth;
  return {
    backend,
    vault: {
      address: vault.address,
      namespace: vault.namespace,
      mount: vault.mount,
      path: vault.path,
      timeoutMs: parseDuration(vault.timeout) ?? 10_000,
      caFile: vault.caFile,
      auth:
        auth.method === "token"
          ? { method: "token", token: auth.tokenEnv !== undefined ? { env: auth.tokenEnv } : { secret: auth.tokenSecret ?? "" } }
          : { method: "approle", mount: auth.mount, roleId: auth.roleId, secretId: auth.secretIdEnv !== undefined ? { env: auth.secretIdEnv } : { secret: auth.secretIdSecret ?? "" } },
    },
  };
}
