import { readFileSync } from "node:fs";
import { AegisError } from "../shared/index.ts";
import { AgeSecretStore } from "./age-store.ts";
import { VaultAppRoleAuth, VaultTokenAuth, type CredentialSource, type VaultAuth } from "./vault-auth.ts";
import { VaultSecretBackend } from "./vault-backend.ts";

/** The backends `secrets.backend` can name. */
export const SECRET_BACKEND_KINDS = ["age", "vault"] as const;
/** One of `SECRET_BACKEND_KINDS`. */
export type SecretBackendKind = (typeof SECRET_BACKEND_KINDS)[number];

/**
 * Where a Vault credential comes from: an environment variable or a secret in the local age
 * store. Never a literal: config files are not a place for tokens.
 */
export type CredentialRef = { env: string } | { secret: string };

/** Vault auth as the config describes it, credentials by reference. */
export type VaultAuthSettings = { method: "token"; token: CredentialRef } | { method: "approle"; mount: string; roleId: string; secretId: CredentialRef };

/** The `secrets.vault` section, normalised by the front end (durations in ms). */
export interface VaultSettings {
  address: string;
  namespace?: string;
  mount: string;
  path: string;
  timeoutMs: number;
  /** A PEM file of CA certificates to trust for https (read when the backend is opened). */
  caFile?: string;
  auth: VaultAuthSettings;
}

/** The `secrets` section: which backend serves `list/get/set/remove`. */
export interface SecretsSettings {
  backend: SecretBackendKind;
  vault?: VaultSettings;
}

/** What the factory needs from the process: the local store and the environment. */
export interface OpenBackendContext {
  /** `$AEGISCLAW_HOME/secrets`: the age store, the default backend and the home of `*Secret` credentials. */
  secretsDir: string;
  /** Passphrase for a sealed age identity (asked only when a value is read). */
  passphrase?: () => Promise<string>;
  /** Environment for `*Env` credentials (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** The selected backend, tagged so callers can reach backend-only features (age `init`, Vault versions). */
export type OpenedBackend = { kind: "age"; backend: AgeSecretStore } | { kind: "vault"; backend: VaultSecretBackend };

/**
 * The one place a backend is chosen. Configuration mistakes (missing `vault` section, bad
 * address or path) throw here, before any request; credentials are read on first use.
 */
export function openSecretBackend(settings: SecretsSettings, context: OpenBackendContext): OpenedBackend {
  const local = new AgeSecretStore(context.secretsDir, { passphrase: context.passphrase });
  if (settings.backend === "age") return { kind: "age", backend: local };
  const vault = settings.vault;
  if (!vault) {
    throw new AegisError("bad-input", 'secrets.backend is "vault" but there is no secrets.vault section', { hint: "add secrets.vault (address, mount, path, auth); see docs/secrets.md" });
  }
  const env = context.env ?? process.env;
  const auth: VaultAuth =
    vault.auth.method === "token"
      ? new VaultTokenAuth(credential(vault.auth.token, "token", "secrets.vault.auth.token", local, env))
      : new VaultAppRoleAuth({
          roleId: vault.auth.roleId,
          mount: vault.auth.mount,
          secretId: credential(vault.auth.secretId, "AppRole secret_id", "secrets.vault.auth.secretId", local, env),
        });
  const ca = vault.caFile === undefined ? undefined : readCaFile(vault.caFile);
  const backend = new VaultSecretBackend({ address: vault.address, namespace: vault.namespace, mount: vault.mount, path: vault.path, timeoutMs: vault.timeoutMs, ca, auth });
  return { kind: "vault", backend };
}

function credential(ref: CredentialRef, what: string, field: string, local: AgeSecretStore, env: Record<string, string | undefined>): CredentialSource {
  if ("env" in ref) {
    return async () => {
      const value = env[ref.env];
      if (value === undefined || value.trim() === "") {
        throw new AegisError("bad-input", `the Vault ${what} is read from $${ref.env} (${field}Env), which is not set`, {
          hint: `export ${ref.env}=... in the environment that runs aegisclaw, or keep it in the local age store with ${field}Secret`,
        });
      }
      return value.trim();
    };
  }
  return async () => {
    if (!local.isInitialised()) {
      throw new AegisError("bad-input", `the Vault ${what} is read from the local age store (${field}Secret: ${ref.secret}), which has no identity yet`, {
        hint: `AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets init, then AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets set ${ref.secret}`,
      });
    }
    if (!(await local.list()).some((meta) => meta.name === ref.secret)) {
      throw new AegisError("bad-input", `the Vault ${what} is read from the local age store (${field}Secret), which has no secret named ${ref.secret}`, {
        hint: `AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets set ${ref.secret}`,
      });
    }
    return (await local.get(ref.secret)).trim();
  };
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AegisError("bad-input", `cannot read secrets.vault.caFile ${path}: ${(error as Error).message}`, { hint: "point it at a readable PEM file" });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new AegisError("bad-input", `secrets.vault.caFile ${path} holds no PEM certificate`, { hint: "use the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)" });
  }
  return text;
}
