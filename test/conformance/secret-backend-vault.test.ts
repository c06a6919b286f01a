import { afterAll, beforeAll, describe } from "bun:test";
import { VaultAppRoleAuth, VaultSecretBackend, VaultTokenAuth } from "../../src/secrets/index.ts";
import { backendPolicy, startVaultDev, type VaultDevServer } from "../secrets/vault-server.ts";
import { secretBackendConformance } from "./secret-backend.ts";

// A real Vault-API server in dev mode on loopback (see test/secrets/vault-server.ts). Each test
// gets its own path prefix; the credentials hold only the policy docs/secrets.md recommends.
let server: VaultDevServer;
let token: string;
let roleId: string;
let secretId: string;
let counter = 0;

beforeAll(async () => {
  server = await startVaultDev();
  await server.policy("aegisclaw-conformance", backendPolicy("secret", "conformance"));
  token = await server.token(["aegisclaw-conformance"]);
  await server.api("POST", "sys/auth/approle", { type: "approle" });
  await server.api("POST", "auth/approle/role/conformance", { token_policies: ["aegisclaw-conformance"], token_ttl: "10m" });
  roleId = String(((await server.api("GET", "auth/approle/role/conformance/role-id")).body.data as Record<string, unknown>).role_id);
  secretId = String(((await server.api("POST", "auth/approle/role/conformance/secret-id", {})).body.data as Record<string, unknown>).secret_id);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("SecretBackend conformance: Vault KV v2 (token auth)", () => {
  secretBackendConformance("vault backend (token)", async () => {
    const auth = new VaultTokenAuth(async () => token);
    return new VaultSecretBackend({ address: server.address, path: `conformance/token-${++counter}`, auth });
  });
});

describe("SecretBackend conformance: Vault KV v2 (AppRole auth)", () => {
  secretBackendConformance("vault backend (approle)", async () => {
    const auth = new VaultAppRoleAuth({ roleId, secretId: async () => secretId });
    return new VaultSecretBackend({ address: server.address, path: `conformance/approle-${++counter}`, auth });
  });
});
