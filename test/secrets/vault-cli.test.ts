import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSecrets } from "../../src/cli/commands/secrets.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { renderDefaultConfig } from "../../src/core/index.ts";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { initAuditDir } from "../../src/audit/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { rejectionOf } from "./helpers.ts";
import { backendPolicy, startVaultDev, type VaultDevServer } from "./vault-server.ts";

// `aegisclaw secrets` with `secrets.backend: vault`, in process against a real dev server.
let server: VaultDevServer;
let token: string;

beforeAll(async () => {
  server = await startVaultDev();
  await server.policy("aegisclaw-cli", backendPolicy("secret", "cli"));
  token = await server.token(["aegisclaw-cli"]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** An initialised home (config.yaml and an audit log, which records secret changes) using Vault. */
async function vaultHome(): Promise<string> {
  const home = join(tempDir(), "home");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  await initAuditDir(join(home, "audit"));
  const secrets = `secrets:
  backend: vault
  vault:
    address: ${server.address}
    path: cli/agents
    timeout: 5s
    auth:
      method: token
      tokenSecret: VAULT_TOKEN
`;
  writeFileSync(join(home, "config.yaml"), `${renderDefaultConfig("standard")}${secrets}`);
  return home;
}

function context(home: string, json = false): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { home, json, isTty: false, stdout: (text) => out.push(text), stderr: (text) => err.push(text), out, err };
}

/** Runs with `AEGISCLAW_SECRETS_BACKEND` set for the call only. */
async function withBackendEnv<T>(value: string | undefined, work: () => Promise<T>): Promise<T> {
  const previous = process.env.AEGISCLAW_SECRETS_BACKEND;
  if (value === undefined) delete process.env.AEGISCLAW_SECRETS_BACKEND;
  else process.env.AEGISCLAW_SECRETS_BACKEND = value;
  try {
    return await work();
  } finally {
    if (previous === undefined) delete process.env.AEGISCLAW_SECRETS_BACKEND;
    else process.env.AEGISCLAW_SECRETS_BACKEND = previous;
  }
}

describe("secrets CLI with the Vault backend", () => {
  test("secrets cli (vault): the token lives in the local store; set, list and rm go to Vault", async () => {
    const home = await vaultHome();
    await withBackendEnv("age", async () => {
      expect(await runSecrets("init", [], {}, context(home))).toBe(0);
      expect(await runSecrets("set", ["VAULT_TOKEN"], { value: token }, context(home))).toBe(0);
    });
    await withBackendEnv(undefined, async () => {
      const set = context(home);
      expect(await runSecrets("set", ["API_KEY"], { value: "cli-value-canary" }, set)).toBe(0);
      expect(set.err.at(-1)).toBe("stored API_KEY in Vault (secret/cli/agents)\n");
      const stored = await server.api("GET", "secret/data/cli/agents/API_KEY");
      expect((stored.body.data as { data: { value: string } }).data.value).toBe("cli-value-canary");

      const list = context(home, true);
      expect(await runSecrets("list", [], {}, list)).toBe(0);
      const listed = JSON.parse(list.out.join("")) as { secrets: Array<{ name: string }> };
      expect(listed.secrets.map((meta) => meta.name)).toEqual(["API_KEY"]);
      expect(list.out.join("")).not.toContain("canary");

      const rm = context(home);
      expect(await runSecrets("rm", ["API_KEY"], {}, rm)).toBe(0);
      expect(rm.err).toEqual(["removed API_KEY in Vault (secret/cli/agents)\n"]);
      expect((await rejectionOf(runSecrets("rm", ["API_KEY"], {}, context(home)))).code).toBe("bad-input");
    });
    // the local store kept only the Vault token
    expect((await new AgeSecretStore(join(home, "secrets")).list()).map((meta) => meta.name)).toEqual(["VAULT_TOKEN"]);
  });

  test("secrets cli (vault): init and rotate refuse, pointing at the local-store override", async () => {
    const home = await vaultHome();
    for (const action of ["init", "rotate"]) {
      const error = await withBackendEnv(undefined, () => rejectionOf(runSecrets(action, [], {}, context(home))));
      expect(error).toMatchObject({ code: "usage", message: `secrets ${action} manages the local age store, but secrets.backend is vault` });
      expect(error.hint).toContain(`AEGISCLAW_SECRETS_BACKEND=age aegisclaw secrets ${action}`);
    }
    expect((await withBackendEnv("s3", () => rejectionOf(runSecrets("list", [], {}, context(home))))).code).toBe("usage");
  });

  test("secrets cli (vault): a revoked token is a denial that never prints the token", async () => {
    const home = await vaultHome();
    const doomed = await server.token(["aegisclaw-cli"]);
    await withBackendEnv("age", async () => {
      await runSecrets("init", [], {}, context(home));
      await runSecrets("set", ["VAULT_TOKEN"], { value: doomed }, context(home));
    });
    await server.api("POST", "auth/token/revoke", { token: doomed });
    const error = await withBackendEnv(undefined, () => rejectionOf(runSecrets("list", [], {}, context(home))));
    expect(error.code).toBe("denied");
    expect(`${error.message} ${error.hint}`).not.toContain(doomed);
  });
});
