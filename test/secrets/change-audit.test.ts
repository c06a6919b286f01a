/** `aegisclaw secrets init|set|rm|rotate` are recorded in the audit log, by name, before they happen. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditRecord } from "../../src/audit/schema.ts";
import { initAuditDir, readEntries } from "../../src/audit/index.ts";
import { runSecrets } from "../../src/cli/commands/secrets.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { renderDefaultConfig } from "../../src/core/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { filesUnder, leakedForms } from "./delivery-support.ts";
import { failure } from "../helpers/errors.ts";

const VALUE = "CANARY-change-audit-3e9d1b7a";

function context(home: string): CliContext {
  return { home, json: false, isTty: false, stdout: () => {}, stderr: () => {} };
}

async function initialisedHome(): Promise<string> {
  const home = join(tempDir(), "home");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, "config.yaml"), renderDefaultConfig("standard"));
  await initAuditDir(join(home, "audit"));
  return home;
}

describe("secret change audit", () => {
  test("secrets audit: init, set, rm and rotate each append a `secret` entry with the name and backend, never the value", async () => {
    const home = await initialisedHome();
    const ctx = context(home);
    expect(await runSecrets("init", [], {}, ctx)).toBe(0);
    expect(await runSecrets("set", ["API_KEY"], { value: VALUE }, ctx)).toBe(0);
    expect(await runSecrets("set", ["OTHER"], { value: `${VALUE}-2` }, ctx)).toBe(0);
    expect(await runSecrets("rotate", [], {}, ctx)).toBe(0);
    expect(await runSecrets("rm", ["OTHER"], {}, ctx)).toBe(0);
    expect(await runSecrets("list", [], {}, ctx)).toBe(0); // reads change nothing and are not recorded
    const entries = [...readEntries(join(home, "audit"))].filter((entry) => entry.type === "secret");
    expect(entries.map((entry) => entry.secret)).toEqual([
      { action: "init", backend: "age" },
      { action: "set", name: "API_KEY", backend: "age" },
      { action: "set", name: "OTHER", backend: "age" },
      { action: "rotate", count: 2, backend: "age" },
      { action: "remove", name: "OTHER", backend: "age" },
    ]);
    expect(entries.map((entry) => entry.note)).toContain("secret set API_KEY (age)");
    for (const entry of entries) expect(AuditRecord.safeParse({ type: entry.type, actor: entry.actor, secret: entry.secret, note: entry.note }).success).toBe(true);
    for (const file of filesUnder(home).filter((path) => !path.endsWith(".age"))) expect(leakedForms(readFileSync(file), VALUE), file).toEqual([]);
  });

  test("secrets audit: a change that fails after its entry is followed by a `failed` entry; bad input before it records nothing", async () => {
    const home = await initialisedHome();
    const ctx = context(home);
    await runSecrets("init", [], {}, ctx);
    const before = [...readEntries(join(home, "audit"))].length;
    expect((await failure(runSecrets("set", ["bad-name"], { value: VALUE }, ctx))).code).toBe("bad-input");
    expect((await failure(runSecrets("set", ["EMPTY"], { value: "" }, ctx))).code).toBe("bad-input");
    expect([...readEntries(join(home, "audit"))].length).toBe(before);
    expect((await failure(runSecrets("rm", ["ABSENT"], {}, ctx))).code).toBe("bad-input");
    const tail = [...readEntries(join(home, "audit"))].slice(before).map((entry) => entry.secret);
    expect(tail).toEqual([
      { action: "remove", name: "ABSENT", backend: "age" },
      { action: "remove", name: "ABSENT", backend: "age", failed: "no secret named ABSENT" },
    ]);
  });

  test("secrets audit: without an initialised home (no audit log) a change is refused and nothing is written", async () => {
    const home = join(tempDir(), "home");
    const error = await failure(runSecrets("init", [], {}, context(home)));
    expect(error.code).toBe("bad-input");
    expect(error.hint).toContain("aegisclaw init");
    expect(existsSync(join(home, "secrets", "identity.txt"))).toBe(false);
  });

  test("secrets audit: the schema holds names only and rejects anything else", () => {
    const actor = { name: "u", source: "cli" as const };
    expect(AuditRecord.safeParse({ type: "secret", actor, secret: { action: "set", name: "API_KEY", backend: "vault", location: "secret/aegisclaw" } }).success).toBe(true);
    expect(AuditRecord.safeParse({ type: "secret", actor, secret: { action: "set", name: "API_KEY", backend: "age", value: VALUE } }).success).toBe(false);
    expect(AuditRecord.safeParse({ type: "secret", actor, secret: { action: "set", name: "not a name", backend: "age" } }).success).toBe(false);
    expect(AuditRecord.safeParse({ type: "result", actor, redactions: 2, redactionKinds: { "secret:API_KEY": 1, "github-token": 1 } }).success).toBe(true);
  });
});
