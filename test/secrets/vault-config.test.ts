import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/core/index.ts";
import { AgeSecretStore, openSecretBackend, VaultSecretBackend, type VaultSettings } from "../../src/secrets/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { rejectionOf } from "./helpers.ts";

function configWith(secrets: string): string {
  return `version: 1\nsecrets:\n${secrets.replace(/^/gm, "  ")}\n`;
}

function configError(text: string): string {
  try {
    parseConfig(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

const TOKEN_VAULT = `backend: vault
vault:
  address: https://vault.example.com:8200
  auth:
    method: token
    tokenEnv: VAULT_TOKEN`;

describe("secrets config", () => {
  test("secrets config: without a secrets section the age store is the backend", () => {
    expect(parseConfig("version: 1\n").secrets).toEqual({ backend: "age" });
  });

  test("secrets config: a Vault section gets defaults for mount, path and timeout", () => {
    expect(parseConfig(configWith(TOKEN_VAULT)).secrets).toEqual({
      backend: "vault",
      vault: { address: "https://vault.example.com:8200", mount: "secret", path: "aegisclaw", timeout: "10s", auth: { method: "token", tokenEnv: "VAULT_TOKEN" } },
    });
    const approle = parseConfig(
      configWith(`backend: vault
vault:
  address: http://127.0.0.1:8200
  namespace: team-a
  mount: kv
  path: ""
  auth:
    method: approle
    roleId: 7f2c-role
    secretIdSecret: VAULT_SECRET_ID`),
    ).secrets.vault;
    expect(approle).toMatchObject({ namespace: "team-a", mount: "kv", path: "", auth: { method: "approle", mount: "approle", roleId: "7f2c-role", secretIdSecret: "VAULT_SECRET_ID" } });
  });

  test("secrets config: mistakes are rejected naming the field", () => {
    const cases: Array<[string, string]> = [
      [TOKEN_VAULT.replace("https://vault.example.com:8200", "http://vault.example.com:8200"), "secrets.vault.address"],
      [TOKEN_VAULT.replace("https://vault.example.com:8200", "https://vault.example.com/v1"), "secrets.vault.address"],
      [`${TOKEN_VAULT}\n    tokenSecret: VAULT_TOKEN`, "secrets.vault.auth: set exactly one of tokenEnv or tokenSecret"],
      [TOKEN_VAULT.replace("    tokenEnv: VAULT_TOKEN", "    tokenSecret: lower-case"), "secrets.vault.auth.tokenSecret"],
      [TOKEN_VAULT.replace("method: token", "method: kerberos"), "secrets.vault.auth.method"],
      [TOKEN_VAULT.replace("vault:\n", "vault:\n  mount: ../sys\n"), "secrets.vault.mount"],
      ["backend: vault", 'secrets.vault: backend "vault" needs a vault section'],
      ["backend: s3", "secrets.backend"],
      [`${TOKEN_VAULT}\n  extra: 1`, "secrets.vault: Unrecognized key"],
    ];
    for (const [section, expected] of cases) expect(configError(configWith(section))).toContain(expected);
  });

  test("secrets config: a literal token in the file is rejected without being repeated", () => {
    const message = configError(configWith(TOKEN_VAULT.replace("tokenEnv: VAULT_TOKEN", "token: hvs.literal-canary")));
    expect(message).toContain("secrets.vault.auth");
    expect(message).not.toContain("hvs.literal-canary");
  });
});

function vaultSettings(auth: VaultSettings["auth"]): VaultSettings {
  return { address: "http://127.0.0.1:1", mount: "secret", path: "aegisclaw", timeoutMs: 1_000, auth };
}

describe("openSecretBackend", () => {
  test("openSecretBackend: age by default, Vault when configured", () => {
    const secretsDir = join(tempDir(), "secrets");
    expect(openSecretBackend({ backend: "age" }, { secretsDir }).backend).toBeInstanceOf(AgeSecretStore);
    const opened = openSecretBackend({ backend: "vault", vault: vaultSettings({ method: "token", token: { env: "X" } }) }, { secretsDir });
    expect(opened.kind).toBe("vault");
    expect(opened.backend).toBeInstanceOf(VaultSecretBackend);
    expect(() => openSecretBackend({ backend: "vault" }, { secretsDir })).toThrow("no secrets.vault section");
  });

  test("openSecretBackend: caFile must be a readable PEM file, checked when the backend opens", () => {
    const dir = tempDir();
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    const open = (caFile: string) => () => openSecretBackend({ backend: "vault", vault: { ...vaultSettings({ method: "token", token: { env: "X" } }), caFile } }, { secretsDir: dir });
    expect(open(join(dir, "missing.pem"))).toThrow("cannot read secrets.vault.caFile");
    expect(open(notPem)).toThrow("holds no PEM certificate");
  });

  test("openSecretBackend: a credential env var that is unset is bad input naming it", async () => {
    const opened = openSecretBackend({ backend: "vault", vault: vaultSettings({ method: "token", token: { env: "AEGISCLAW_TEST_UNSET_TOKEN" } }) }, { secretsDir: tempDir(), env: {} });
    const error = await rejectionOf(opened.backend.list());
    expect(error.code).toBe("bad-input");
    expect(error.message).toContain("$AEGISCLAW_TEST_UNSET_TOKEN");
  });

  test("openSecretBackend: a credential in the local store needs the store and the secret", async () => {
    const secretsDir = join(tempDir(), "secrets");
    const settings = { backend: "vault" as const, vault: vaultSettings({ method: "approle", mount: "approle", roleId: "r", secretId: { secret: "VAULT_SECRET_ID" } }) };
    const uninitialised = await rejectionOf(openSecretBackend(settings, { secretsDir }).backend.list());
    expect(uninitialised).toMatchObject({ code: "bad-input", hint: "AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets init, then AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets set VAULT_SECRET_ID" });
    await new AgeSecretStore(secretsDir).init();
    const missing = await rejectionOf(openSecretBackend(settings, { secretsDir }).backend.list());
    expect(missing.message).toContain("has no secret named VAULT_SECRET_ID");
  });
});
