import { describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEntries } from "../../src/audit/index.ts";
import { TokenStore, tokensFile } from "../../src/server/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { startFixture, tempHome } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

/** Runs `aegisclaw ARGS` from the sources with its own home. */
async function cli(home: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

describe("API tokens", () => {
  test("tokens: shown once as acw_<id>_<secret>; the file (0600) keeps only a sha256 of the secret", async () => {
    const path = join(tempDir(), "tokens.json");
    const store = new TokenStore(path);
    const { token, record } = await store.create("operator", "otto");
    expect(token).toMatch(/^acw_[0-9a-f]{12}_[0-9a-f]{64}$/);
    const secret = token.split("_")[2] ?? "";
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(secret);
    expect(text).toContain(new Bun.CryptoHasher("sha256").update(secret).digest("hex"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.verify(token)).toMatchObject({ id: record.id, name: "otto", role: "operator" });
  });

  test("tokens: wrong secret, unknown id, malformed or revoked tokens verify as nothing", async () => {
    const store = new TokenStore(join(tempDir(), "tokens.json"));
    const { token, record } = await store.create("admin");
    expect(record.name).toBe(`admin-${record.id}`);
    const [prefix = "", id = ""] = token.split("_");
    for (const wrong of [`${prefix}_${id}_${"0".repeat(64)}`, `${prefix}_${"0".repeat(12)}_${token.split("_")[2]}`, "acw_x", "", token.toUpperCase(), `${token} `]) {
      expect(store.verify(wrong), wrong).toBeUndefined();
    }
    await store.revoke(record.id);
    expect(store.verify(token)).toBeUndefined();
    expect(store.list()[0]?.revokedAt).toBeString();
  });

  test("tokens: another store instance (another process) sees creations and revocations at once", async () => {
    const path = join(tempDir(), "tokens.json");
    const server = new TokenStore(path);
    const cliStore = new TokenStore(path);
    const { token, record } = await cliStore.create("viewer", "v");
    expect(server.verify(token)?.id).toBe(record.id);
    await cliStore.revoke(record.id);
    expect(server.verify(token)).toBeUndefined();
  });

  test("tokens: duplicate live names and bad names are refused; a corrupt file fails closed with its path named", async () => {
    const path = join(tempDir(), "tokens.json");
    const store = new TokenStore(path);
    await store.create("viewer", "same");
    await expect(store.create("admin", "same")).rejects.toThrow("already exists");
    await expect(store.create("admin", "has space")).rejects.toThrow("invalid token name");
    writeFileSync(path, "{ not json");
    let failure: unknown;
    try {
      store.verify("acw_000000000000_" + "0".repeat(64));
    } catch (error) {
      failure = error;
    }
    expect(isAegisError(failure, "bad-input") && failure.message.includes(path)).toBe(true);
  });

  test("tokens: the CLI creates (printing the token once), lists and revokes; --json everywhere", async () => {
    const { home } = await tempHome();
    const created = await cli(home, ["token", "create", "--role", "operator", "--name", "ci-bot"]);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout.trim()).toMatch(/^acw_[0-9a-f]{12}_[0-9a-f]{64}$/);
    expect(created.stderr).toContain("shown only this once");
    const listed = await cli(home, ["token", "list", "--json"]);
    const tokens = JSON.parse(listed.stdout).tokens as Array<{ id: string; name: string; role: string }>;
    expect(tokens).toEqual([expect.objectContaining({ name: "ci-bot", role: "operator" })]);
    expect(listed.stdout).not.toContain("secretHash");
    const revoked = await cli(home, ["token", "revoke", tokens[0]?.id ?? "", "--json"]);
    expect(JSON.parse(revoked.stdout).revokedAt).toBeString();
    expect((await cli(home, ["token", "revoke", tokens[0]?.id ?? ""])).exitCode).toBe(65);
    expect((await cli(home, ["token", "create"])).exitCode).toBe(64);
    expect((await cli(home, ["token", "create", "--role", "root"])).exitCode).toBe(64);
    expect((await cli(home, ["token", "frobnicate"])).exitCode).toBe(64);
    expect(statSync(tokensFile(join(home, "state"))).mode & 0o777).toBe(0o600);
  });

  test("tokens: every create and revoke is in the audit log first, by whom, never with the secret; a pasted token is never echoed", async () => {
    const { home } = await tempHome();
    const created = await cli(home, ["token", "create", "--role", "operator", "--name", "ci-bot", "--json"]);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const secret = token.split("_")[2] ?? "";
    expect((await cli(home, ["token", "revoke", id])).exitCode).toBe(0);
    // A whole token pasted where the id belongs: refused (65), and neither it nor its secret is repeated anywhere.
    const pasted = await cli(home, ["token", "revoke", token]);
    expect(pasted.exitCode).toBe(65);
    expect(`${pasted.stdout}${pasted.stderr}`).not.toContain(secret.slice(0, 16));
    const entries = [...readEntries(join(home, "audit"))].filter((entry) => entry.type === "token");
    expect(entries.map((entry) => entry.token)).toEqual([
      { action: "create", id, name: "ci-bot", role: "operator" },
      { action: "revoke", id, name: "ci-bot", role: "operator" },
      { action: "revoke", id: "not-an-id" },
      { action: "revoke", id: "not-an-id", failed: "that is not a token id (ids are 12 hex characters)" },
    ]);
    expect(entries.every((entry) => entry.actor.source === "cli")).toBe(true);
    const log = readFileSync(join(home, "audit", "segment-000001.jsonl"), "utf8");
    expect(log).not.toContain(secret);
    expect(log).not.toContain(new Bun.CryptoHasher("sha256").update(secret).digest("hex"));
  });

  test("tokens: the API's creates and revokes are audited with the admin who made them", async () => {
    const fixture = await startFixture();
    try {
      const created = await fixture.call("/api/v1/tokens", { method: "POST", as: "admin", json: { role: "viewer", name: "dash" } });
      expect(created.status).toBe(201);
      const { id, token } = (await created.json()) as { id: string; token: string };
      expect((await fixture.call(`/api/v1/tokens/${id}`, { method: "DELETE", as: "admin" })).status).toBe(200);
      expect((await fixture.call("/api/v1/tokens/0123456789ab", { method: "DELETE", as: "admin" })).status).toBe(404);
      const entries = [...readEntries(join(fixture.home, "audit"))].filter((entry) => entry.type === "token");
      expect(entries.map((entry) => [entry.actor.source, entry.token?.action, entry.token?.id, entry.token?.failed === undefined])).toEqual([
        ["api", "create", id, true],
        ["api", "revoke", id, true],
        ["api", "revoke", "0123456789ab", true],
        ["api", "revoke", "0123456789ab", false],
      ]);
      expect(JSON.stringify(entries)).not.toContain(token.split("_")[2] ?? "");
    } finally {
      await fixture.stop();
    }
  });
});
