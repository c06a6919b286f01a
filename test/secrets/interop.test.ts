import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { ageCli, tempStore } from "./helpers.ts";

describe("age store interop with the age CLI", () => {
  test("age store: our files decrypt with `age -d -i identity.txt`", async () => {
    const store = tempStore();
    await store.init();
    await store.set("INTEROP", "from bun to age ✓\n");
    const result = ageCli(["-d", "-i", store.paths.identity, `${store.paths.dir}/INTEROP.age`]);
    expect(result.stderr).toBe("");
    expect(new TextDecoder().decode(result.stdout)).toBe("from bun to age ✓\n");
  });

  test("age store: `age -r <our recipient>` output decrypts in the store", async () => {
    const store = tempStore();
    const { recipient } = await store.init();
    const encrypted = ageCli(["-r", recipient], "from age to bun");
    expect(encrypted.exitCode).toBe(0);
    writeFileSync(`${store.paths.dir}/FROM_CLI.age`, encrypted.stdout, { mode: 0o600 });
    expect(await store.get("FROM_CLI")).toBe("from age to bun");
    expect((await store.list()).map((meta) => meta.name)).toEqual(["FROM_CLI"]);
  });

  test("age store: an identity made by age-keygen works as the store identity", async () => {
    const dir = `${tempDir()}/secrets`;
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir, { mode: 0o700 });
    const keygen = Bun.spawnSync(["age-keygen", "-o", `${dir}/identity.txt`], { stderr: "pipe" });
    expect(keygen.exitCode).toBe(0);
    const store = new AgeSecretStore(dir);
    const recipient = readFileSync(`${dir}/identity.txt`, "utf8").match(/# public key: (age1\S+)/)?.[1];
    expect(await store.recipient()).toBe(recipient ?? "");
    await store.set("K", "keygen identity");
    expect(new TextDecoder().decode(ageCli(["-d", "-i", `${dir}/identity.txt`, `${dir}/K.age`]).stdout)).toBe("keygen identity");
  });
});
