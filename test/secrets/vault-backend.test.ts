import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { VaultAppRoleAuth, VaultSecretBackend, VaultTokenAuth, type VaultAuth } from "../../src/secrets/index.ts";
import { expectNoLeak, rejectionOf } from "../conformance/secret-backend.ts";
import { backendPolicy, freePort, startVaultDev, type VaultDevServer } from "./vault-server.ts";

// Vault-only behaviour against a real dev-mode server on loopback; the shared contract is in
// test/conformance/secret-backend-vault.test.ts.
let server: VaultDevServer;
let counter = 0;

beforeAll(async () => {
  server = await startVaultDev();
  await server.policy("aegisclaw-full", backendPolicy("secret", "vt"));
  await server.policy("aegisclaw-read-only", `path "secret/data/vt/*" { capabilities = ["read"] }`);
  await server.api("POST", "sys/auth/approle", { type: "approle" });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function backend(auth: VaultAuth, options: { path?: string; mount?: string } = {}): VaultSecretBackend {
  return new VaultSecretBackend({ address: server.address, path: options.path ?? `vt/case-${++counter}`, mount: options.mount, auth });
}

async function tokenBackend(policies = ["aegisclaw-full"]): Promise<{ backend: VaultSecretBackend; token: string }> {
  const token = await server.token(policies);
  return { backend: backend(new VaultTokenAuth(async () => token)), token };
}

async function appRole(name: string, settings: Record<string, unknown>): Promise<{ roleId: string; secretId: string }> {
  await server.api("POST", `auth/approle/role/${name}`, { token_policies: ["aegisclaw-full"], ...settings });
  const roleId = String(((await server.api("GET", `auth/approle/role/${name}/role-id`)).body.data as Record<string, unknown>).role_id);
  const secretId = String(((await server.api("POST", `auth/approle/role/${name}/secret-id`, {})).body.data as Record<string, unknown>).secret_id);
  return { roleId, secretId };
}

describe("vault backend against a real server", () => {
  test("vault backend: versioned reads return each version; remove destroys them all", async () => {
    const { backend: vault } = await tokenBackend();
    for (const value of ["one", "two", "three"]) await vault.set("ROTATING", value);
    expect(await vault.get("ROTATING")).toBe("three");
    expect(await vault.get("ROTATING", { version: 1 })).toBe("one");
    expect(await vault.get("ROTATING", { version: 2 })).toBe("two");
    expect(await rejectionOf(vault.get("ROTATING", { version: 9 }))).toMatchObject({ code: "bad-input", message: expect.stringContaining("no version 9 of secret ROTATING") });
    for (const bad of [0, -1, 1.5]) expect((await rejectionOf(vault.get("ROTATING", { version: bad }))).code).toBe("bad-input");
    await vault.remove("ROTATING");
    expect((await rejectionOf(vault.get("ROTATING", { version: 1 }))).code).toBe("bad-input");
    const metadata = await server.api("GET", `${vault.location.replace(/^secret\//, "secret/metadata/")}/ROTATING`, undefined, [404]);
    expect(metadata.status).toBe(404);
  });

  test("vault backend: interoperates with `vault kv put ... value=` and skips foreign keys in list", async () => {
    const { backend: vault } = await tokenBackend();
    const base = vault.location.replace(/^secret\//, "");
    await server.api("POST", `secret/data/${base}/FROM_CLI`, { data: { value: "written by vault kv put" } });
    await server.api("POST", `secret/data/${base}/lower-case-key`, { data: { value: "not a secret name" } });
    await server.api("POST", `secret/data/${base}/nested/INNER`, { data: { value: "in a sub-folder" } });
    await server.api("POST", `secret/data/${base}/NO_VALUE_FIELD`, { data: { password: "other shape" } });
    expect(await vault.get("FROM_CLI")).toBe("written by vault kv put");
    expect((await vault.list()).map((meta) => meta.name)).toEqual(["FROM_CLI", "NO_VALUE_FIELD"]);
    const shape = await rejectionOf(vault.get("NO_VALUE_FIELD"));
    expect(shape).toMatchObject({ code: "bad-input", message: `secret/data/${base}/NO_VALUE_FIELD has no string field "value"` });
    expectNoLeak(shape, ["other shape"]);
  });

  test("vault backend: a wrong token is a clear denial that never contains the token", async () => {
    const wrong = `hvs.wrong-token-canary-${crypto.randomUUID()}`;
    const vault = backend(new VaultTokenAuth(async () => wrong));
    for (const attempt of [() => vault.get("ANY"), () => vault.set("ANY", "value-canary-xyz"), () => vault.list(), () => vault.remove("ANY")]) {
      const error = await rejectionOf(attempt());
      expect(error).toMatchObject({ code: "denied", message: `Vault at ${server.address} rejected the token (403): it is invalid, expired or revoked` });
      expectNoLeak(error, [wrong, "value-canary-xyz"]);
    }
  });

  test("vault backend: a valid token without a policy for the path is denied, naming path and capabilities", async () => {
    const { backend: vault, token } = await tokenBackend(["aegisclaw-read-only"]);
    const write = await rejectionOf(vault.set("NEW", "value-canary-123"));
    expect(write.code).toBe("denied");
    expect(write.message).toBe(`Vault denied write on ${vault.location.replace(/^secret\//, "secret/data/")}/NEW: the token has no policy allowing it`);
    expect(write.hint).toContain('capabilities = ["create", "update"]');
    expectNoLeak(write, [token, "value-canary-123"]);
    const list = await rejectionOf(vault.list());
    expect(list).toMatchObject({ code: "denied", message: expect.stringContaining("Vault denied list on secret/metadata/vt/") });
  });

  test("vault backend: AppRole logs in, and logs in again after its token is revoked", async () => {
    const { roleId, secretId } = await appRole("relogin", { token_ttl: "1h" });
    const vault = backend(new VaultAppRoleAuth({ roleId, secretId: async () => secretId }));
    await vault.set("VIA_APPROLE", "first");
    await server.api("PUT", "sys/leases/revoke-prefix/auth/approle/login", {});
    expect(await vault.get("VIA_APPROLE")).toBe("first");
    await server.api("PUT", "sys/leases/revoke-prefix/auth/approle/login", {});
    await vault.set("VIA_APPROLE", "second");
    expect(await vault.get("VIA_APPROLE")).toBe("second");
  });

  test("vault backend: AppRole tokens are renewed and replaced as their TTLs run out", async () => {
    // Five operations over ~6.5 s with 3 s tokens; the secret_id allows only 3 logins, so this
    // passes only if most tokens are renewed (renew-self) rather than replaced by a new login.
    const { roleId, secretId } = await appRole("short", { token_ttl: "3s", token_max_ttl: "5s", secret_id_num_uses: 3 });
    const vault = backend(new VaultAppRoleAuth({ roleId, secretId: async () => secretId }));
    await vault.set("SHORT_LIVED", "still readable");
    for (let round = 0; round < 4; round++) {
      await Bun.sleep(1_600);
      expect(await vault.get("SHORT_LIVED")).toBe("still readable");
    }
  }, 30_000);

  test("vault backend: a wrong AppRole secret_id is a denied login that never contains it", async () => {
    const { roleId } = await appRole("wrong-secret", {});
    const wrongSecret = crypto.randomUUID();
    const error = await rejectionOf(backend(new VaultAppRoleAuth({ roleId, secretId: async () => wrongSecret })).list());
    expect({ ...error }).toMatchObject({ code: "denied", message: expect.stringContaining("refused the AppRole login") });
    expectNoLeak(error, [wrongSecret]);
    const noMount = await rejectionOf(backend(new VaultAppRoleAuth({ roleId, mount: "missing-approle", secretId: async () => wrongSecret })).list());
    // Vault answers a login at an unmounted path with 403, like a bad secret_id; the hint names both.
    expect(noMount).toMatchObject({ code: "denied", message: `Vault at ${server.address} refused the AppRole login (403: permission denied)` });
    expect(noMount.hint).toContain("AppRole is enabled at auth/missing-approle");
  });

  test("vault backend: a missing mount and a KV version 1 mount are bad input with the fix", async () => {
    const root = new VaultTokenAuth(async () => server.rootToken);
    const missing = await rejectionOf(backend(root, { mount: "no-such-mount" }).get("X"));
    expect(missing).toMatchObject({ code: "bad-input", message: `Vault at ${server.address} has no KV v2 secrets engine at no-such-mount/` });
    await server.api("POST", "sys/mounts/kv-one", { type: "kv", options: { version: "1" } });
    const v1 = await rejectionOf(backend(root, { mount: "kv-one" }).set("X", "value"));
    expect(v1).toMatchObject({ code: "bad-input", message: `Vault at ${server.address}: the secrets engine at kv-one/ is KV version 1, not 2` });
    const listed = await server.api("GET", "kv-one?list=true", undefined, [404]);
    expect(listed.status).toBe(404);
  });

  test("vault backend: a server that is down is unavailable, naming the address only", async () => {
    const token = "hvs.down-canary-token";
    const address = `http://127.0.0.1:${freePort()}`;
    const down = new VaultSecretBackend({ address, auth: new VaultTokenAuth(async () => token) });
    const error = await rejectionOf(down.get("ANY"));
    expect({ ...error }).toMatchObject({ code: "unavailable", message: expect.stringContaining(`Vault at ${address} is unreachable`) });
    expectNoLeak(error, [token]);
  });

  test("vault backend: https with a private CA is refused until that CA is configured", async () => {
    const secure = await startVaultDev({ tls: true });
    try {
      const auth = new VaultTokenAuth(async () => secure.rootToken);
      const untrusted = await rejectionOf(new VaultSecretBackend({ address: secure.address, auth }).list());
      expect({ ...untrusted }).toMatchObject({ code: "unavailable", message: expect.stringContaining(`Vault at ${secure.address} presented a TLS certificate that is not trusted`) });
      expectNoLeak(untrusted, [secure.rootToken]);
      const trusted = new VaultSecretBackend({ address: secure.address, ca: secure.ca, auth });
      await trusted.set("OVER_TLS", "encrypted in transit");
      expect(await trusted.get("OVER_TLS")).toBe("encrypted in transit");
    } finally {
      await secure.stop();
    }
  }, 60_000);

  test("vault backend: a sealed server is unavailable", async () => {
    const sealed = await startVaultDev();
    try {
      const vault = new VaultSecretBackend({ address: sealed.address, auth: new VaultTokenAuth(async () => sealed.rootToken) });
      await vault.set("BEFORE_SEAL", "v");
      await sealed.api("PUT", "sys/seal", {});
      const error = await rejectionOf(vault.get("BEFORE_SEAL"));
      expect({ ...error }).toMatchObject({ code: "unavailable", message: expect.stringContaining("sealed") });
      expectNoLeak(error, [sealed.rootToken]);
    } finally {
      await sealed.stop();
    }
  }, 60_000);
});
