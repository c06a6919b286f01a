import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AgeSecretStore, SECRET_NAME_MAX_LENGTH } from "../../src/secrets/index.ts";
import { rejectionOf, TEST_WORK_FACTOR, tempStore } from "./helpers.ts";

describe("age store", () => {
  test("age store: values round-trip, including unicode, newlines and 1 MiB", async () => {
    const store = tempStore();
    await store.init();
    const values = ["s3cr3t", "ünïcødé ✓ 秘密", "line1\nline2\n", " leading and trailing ", "x".repeat(1024 * 1024)];
    for (const [i, value] of values.entries()) await store.set(`SECRET_${i}`, value);
    for (const [i, value] of values.entries()) expect(await store.get(`SECRET_${i}`)).toBe(value);
    // a fresh instance (no cached identity) reads the same
    const again = new AgeSecretStore(store.paths.dir);
    expect(await again.get("SECRET_1")).toBe("ünïcødé ✓ 秘密");
  });

  test("age store: list returns names and times only, sorted", async () => {
    const store = tempStore();
    await store.init();
    await store.set("ZED", "value-zed-123");
    await store.set("ALPHA", "value-alpha-456");
    const listed = await store.list();
    expect(listed.map((meta) => meta.name)).toEqual(["ALPHA", "ZED"]);
    for (const meta of listed) expect(Object.keys(meta).sort()).toEqual(["created", "name", "updated"]);
    expect(JSON.stringify(listed)).not.toContain("value-");
  });

  test("age store: set replaces a value and keeps its created time", async () => {
    const store = tempStore();
    await store.init();
    await store.set("TOKEN", "first");
    const [before] = await store.list();
    await Bun.sleep(5);
    await store.set("TOKEN", "second");
    const [after] = await store.list();
    expect(await store.get("TOKEN")).toBe("second");
    expect(after?.created).toBe(before?.created ?? "");
    expect(after?.updated).not.toBe(before?.updated ?? "");
  });

  test("age store: remove deletes the file and the index entry", async () => {
    const store = tempStore();
    await store.init();
    await store.set("GONE", "v");
    await store.remove("GONE");
    expect(await store.list()).toEqual([]);
    expect(readdirSync(store.paths.dir).some((file) => file.startsWith("GONE"))).toBe(false);
    expect(readFileSync(store.paths.index, "utf8")).not.toContain("GONE");
    expect((await rejectionOf(store.remove("GONE"))).code).toBe("bad-input");
  });

  test("age store: missing secret, bad names and empty values are bad input and write nothing", async () => {
    const store = tempStore();
    await store.init();
    const before = readdirSync(store.paths.dir).sort();
    const missing = await rejectionOf(store.get("NOPE"));
    expect(missing).toMatchObject({ code: "bad-input", message: "no secret named NOPE" });
    for (const bad of ["lower", "1START", "HAS-DASH", "", "A".repeat(SECRET_NAME_MAX_LENGTH + 1), "sk-live-canary"]) {
      const error = await rejectionOf(store.set(bad, "v"));
      expect(error.code).toBe("bad-input");
      if (bad !== "") expect(error.message).not.toContain(bad);
    }
    expect((await rejectionOf(store.set("EMPTY", ""))).code).toBe("bad-input");
    expect((await rejectionOf(store.set("HUGE", "x".repeat(1024 * 1024 + 1)))).code).toBe("bad-input");
    await store.set("A".repeat(SECRET_NAME_MAX_LENGTH), "ok");
    expect(readdirSync(store.paths.dir).sort()).toEqual([...before, `${"A".repeat(SECRET_NAME_MAX_LENGTH)}.age`].sort());
  });

  test("age store: without an identity every action says to run secrets init", async () => {
    const store = tempStore();
    for (const attempt of [store.list(), store.get("X"), store.set("X", "v"), store.remove("X"), store.rotate()]) {
      const error = await rejectionOf(attempt);
      expect(error.code).toBe("bad-input");
      expect(error.hint).toContain("aegisclaw secrets init");
    }
  });

  test("age store: init refuses to replace an identity or orphan existing secret files", async () => {
    const store = tempStore();
    await store.init();
    expect((await rejectionOf(store.init())).code).toBe("bad-input");
    await store.set("KEEP", "v");
    await Bun.file(store.paths.identity).delete();
    const orphan = await rejectionOf(new AgeSecretStore(store.paths.dir).init());
    expect(orphan.code).toBe("bad-input");
    expect(orphan.message).toContain("no identity.txt");
  });

  test("age store: identity file looks like age-keygen output; modes are 0600 and 0700", async () => {
    const store = tempStore();
    const { recipient } = await store.init();
    await store.set("MODE", "v");
    const lines = readFileSync(store.paths.identity, "utf8").trimEnd().split("\n");
    expect(lines[0]).toMatch(/^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines[1]).toBe(`# public key: ${recipient}`);
    expect(lines[2]).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(recipient).toMatch(/^age1[0-9a-z]+$/);
    expect(statSync(store.paths.dir).mode & 0o777).toBe(0o700);
    for (const file of ["identity.txt", "MODE.age", "index.json"]) expect(statSync(join(store.paths.dir, file)).mode & 0o777).toBe(0o600);
  });

  test("age store: a group- or world-readable identity is refused", async () => {
    const store = tempStore();
    await store.init();
    await store.set("X", "v");
    const { chmodSync } = await import("node:fs");
    chmodSync(store.paths.identity, 0o644);
    const error = await rejectionOf(new AgeSecretStore(store.paths.dir).get("X"));
    expect(error).toMatchObject({ code: "integrity", hint: `chmod 600 ${store.paths.identity}` });
  });

  test("age store: a corrupt index.json is a clear error naming the file", async () => {
    const store = tempStore();
    await store.init();
    await Bun.write(store.paths.index, "{not json");
    const error = await rejectionOf(store.list());
    expect(error.code).toBe("bad-input");
    expect(error.message).toContain("index.json");
  });
});

describe("age store with a passphrase", () => {
  test("age store: passphrase-sealed identity round-trips and asks only when needed", async () => {
    let asked = 0;
    const passphrase = async () => {
      asked++;
      return "correct horse battery staple";
    };
    const store = tempStore();
    await store.init({ passphrase: "correct horse battery staple" });
    expect(store.isPassphraseProtected()).toBe(true);
    const text = readFileSync(store.paths.identity, "utf8");
    expect(text.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")).toBe(true);
    expect(text).not.toContain("AGE-SECRET-KEY");
    await store.set("P", "protected value");

    const fresh = new AgeSecretStore(store.paths.dir, { passphrase, scryptWorkFactorForTests: TEST_WORK_FACTOR });
    expect(await fresh.list()).toHaveLength(1);
    expect(asked).toBe(0);
    expect(await fresh.get("P")).toBe("protected value");
    expect(await fresh.get("P")).toBe("protected value");
    expect(asked).toBe(1);
  });

  test("age store: wrong or missing passphrase fails closed without writing", async () => {
    const store = tempStore();
    await store.init({ passphrase: "right" });
    await store.set("P", "v");
    const wrong = new AgeSecretStore(store.paths.dir, { passphrase: async () => "wrong" });
    expect(await rejectionOf(wrong.get("P"))).toMatchObject({ code: "integrity" });
    expect((await rejectionOf(wrong.set("Q", "v"))).code).toBe("integrity");
    expect((await rejectionOf(new AgeSecretStore(store.paths.dir).get("P"))).code).toBe("usage");
    expect(readdirSync(store.paths.dir).some((file) => file.startsWith("Q"))).toBe(false);
  });

  test("age store: the default scrypt work factor is used unless a test lowers it", async () => {
    const production = new AgeSecretStore(join(tempStore().paths.dir));
    await production.init({ passphrase: "slow but safe" });
    const { armor } = await import("age-encryption");
    const header = new TextDecoder().decode(armor.decode(readFileSync(production.paths.identity, "utf8"))).split("\n");
    expect(header.find((line) => line.startsWith("-> scrypt "))).toMatch(/ 18$/);
  });
});
