/**
 * Secrets (issue 7): the `SecretBackend` port, the local age store (default) and HashiCorp
 * Vault / OpenBao KV v2. Values leave only through `get`, and never appear in listings or errors.
 * `openSecretBackend` is the one place a backend is chosen from the `secrets` config section.
 */
export type { SecretBackend, SecretMeta } from "./backend.ts";
export { AgeSecretStore, MAX_SECRET_BYTES, type AgeStoreOptions } from "./age-store.ts";
export { SECRET_NAME_MAX_LENGTH, SECRET_NAME_PATTERN, assertSecretName, isSecretName } from "./names.ts";
export type { RotateStep } from "./rotate.ts";
export type { UnlockedIdentity } from "./identity.ts";
export {
  SECRET_BACKEND_KINDS,
  openSecretBackend,
  type CredentialRef,
  type OpenBackendContext,
  type OpenedBackend,
  type SecretBackendKind,
  type SecretsSettings,
  type VaultAuthSettings,
  type VaultSettings,
} from "./open-backend.ts";
export { VAULT_PATH_PATTERN, VaultSecretBackend, type VaultBackendOptions, type VaultReadOptions } from "./vault-backend.ts";
export { VaultAppRoleAuth, VaultTokenAuth, type AppRoleOptions, type CredentialSource, type DenialCause, type VaultAuth } from "./vault-auth.ts";
export { checkVaultAddress } from "./vault-http.ts";
export { SecretResolver, type KnownSecret, type RunSecretSource, type SecretResolverOptions } from "./resolver.ts";
