/** secrets.read through the Gate with the Vault backend (a real dev server, a read-only token). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { requireDocker } from "../helpers/docker.ts";
import { deliveryFixture, leakedForms } from "./delivery-support.ts";
import { startVaultDev, type VaultDevServer } from "./vault-server.ts";
import { failure } from "../helpers/errors.ts";

let server: VaultDevServer;
let token: string;
const VALUE = "vault-delivered-value-5e2c91d0";

beforeAll(async () => {
  await requireDocker();
  server = await startVaultDev();
  // Read only: a deployment where runs resolve secrets and people manage them elsewhere.
  await server.policy("delivery-read-only", `path "secret/data/dv/*" { capabilities = ["read"] }`);
  token = await server.token(["delivery-read-only"]);
  await server.api("POST", "secret/data/dv/API_KEY", { data: { value: VALUE } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** A Gate whose backend is Vault; the token lives in the local age store (tokenSecret). */
function vaultFixture() {
  return deliveryFixture(
    { VAULT_TOKEN: token },
    { settings: { backend: "vault", vault: { address: server.address, mount: "secret", path: "dv", timeoutMs: 5000, auth: { method: "token", token: { secret: "VAULT_TOKEN" } } } } },
  );
}

describe("secret delivery from Vault", () => {
  test("delivery (vault): a granted Vault secret is delivered with a read-only token; the token itself is redacted too", async () => {
    const f = await vaultFixture();
    const half = token.length >> 1;
    const script = `sha256sum /run/secrets/API_KEY | cut -c1-64; cat /run/secrets/API_KEY; echo; printf '%s%s\\n' ${token.slice(0, half)} ${token.slice(half)}`;
    const result = await f.run(["sh", "-c", script], { grants: ["secrets.read:API_KEY"] });
    expect(result.exitCode).toBe(0);
    const digest = new Bun.CryptoHasher("sha256").update(VALUE).digest("hex");
    expect(result.stdout).toBe(`${digest}\n[REDACTED:secret:API_KEY]\n[REDACTED:secret:VAULT_TOKEN]\n`);
    expect(leakedForms(JSON.stringify(f.entries()), VALUE)).toEqual([]);
    expect(existsSync(f.specs[0]?.secrets?.source ?? "/")).toBe(false);
  });

  test("delivery (vault): a secret missing in Vault fails after the decision with a clear error; no sandbox is created", async () => {
    const f = await vaultFixture();
    const error = await failure(f.run(["cat", "/run/secrets/ABSENT"], { grants: ["secrets.read:ABSENT"] }));
    expect(error.code).toBe("bad-input");
    expect(error.message).toContain("no secret named ABSENT");
    expect(f.specs).toEqual([]);
    expect(f.entries().map((entry) => entry.type)).toEqual(["decision", "approval", "result"]);
    expect(f.entries()[2]?.result?.error).toContain("no secret named ABSENT");
    expect(leakedForms(JSON.stringify(f.entries()), token)).toEqual([]);
  });
});
