/**
 * Secrets (issue 7): the `SecretBackend` port and the local age store. Values stay encrypted at
 * rest (age, X25519), leave only through `get`, and never appear in listings or errors.
 */
export type { SecretBackend, SecretMeta } from "./backend.ts";
export { AgeSecretStore, MAX_SECRET_BYTES, type AgeStoreOptions } from "./age-store.ts";
export { SECRET_NAME_MAX_LENGTH, SECRET_NAME_PATTERN, assertSecretName, isSecretName } from "./names.ts";
export type { RotateStep } from "./rotate.ts";
export type { UnlockedIdentity } from "./identity.ts";
