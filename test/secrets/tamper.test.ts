import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { AgeSecretStore } from "../../src/secrets/index.ts";
import { rejectionOf, tempStore } from "./helpers.ts";

const CANARY = "tamper-canary-7f3a9c";

async function storeWithSecret(): Promise<{ store: AgeSecretStore; file: string; original: Uint8Array }> {
  const store = tempStore();
  await store.init();
  await store.set("T", CANARY);
  const file = `${store.paths.dir}/T.age`;
  return { store, file, original: new Uint8Array(readFileSync(file)) };
}

describe("age store tamper detection", () => {
  test("age store: flipping any single bit of a secret file fails decryption", async () => {
    const { store, file, original } = await storeWithSecret();
    for (let offset = 0; offset < original.length; offset++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = original.slice();
        tampered[offset] = (tampered[offset] ?? 0) ^ bit;
        writeFileSync(file, tampered);
        const error = await rejectionOf(new AgeSecretStore(store.paths.dir).get("T"));
        expect(error.code).toBe("integrity");
        expect(error.message).not.toContain(CANARY);
      }
    }
    writeFileSync(file, original);
    expect(await store.get("T")).toBe(CANARY);
  });

  test("age store: every truncation of a secret file fails decryption", async () => {
    const { store, file, original } = await storeWithSecret();
    for (let length = 0; length < original.length; length++) {
      writeFileSync(file, original.subarray(0, length));
      const error = await rejectionOf(store.get("T"));
      expect(error.code).toBe("integrity");
      expect(error.message).toBe("secrets/T.age is damaged or was tampered with (age decryption failed)");
    }
  });

  test("age store: appended bytes fail decryption", async () => {
    const { store, file, original } = await storeWithSecret();
    writeFileSync(file, Buffer.concat([original, Buffer.from("extra")]));
    expect((await rejectionOf(store.get("T"))).code).toBe("integrity");
  });

  test("age store: a file from another store is reported as the wrong identity", async () => {
    const { store, file } = await storeWithSecret();
    const other = tempStore();
    await other.init();
    await other.set("T", "other value");
    writeFileSync(file, readFileSync(`${other.paths.dir}/T.age`));
    const error = await rejectionOf(store.get("T"));
    expect(error).toMatchObject({ code: "integrity", message: "secrets/T.age is not encrypted to this store's identity" });
  });

  test("age store: a damaged or replaced identity file is an integrity error", async () => {
    const { store } = await storeWithSecret();
    writeFileSync(store.paths.identity, "# public key: nothing here\n", { mode: 0o600 });
    expect((await rejectionOf(new AgeSecretStore(store.paths.dir).get("T"))).code).toBe("integrity");
    writeFileSync(store.paths.identity, "AGE-SECRET-KEY-1NOTAREALKEY\n", { mode: 0o600 });
    expect((await rejectionOf(new AgeSecretStore(store.paths.dir).get("T"))).code).toBe("integrity");
  });
});
