import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { AgeSecretStore, type RotateStep } from "../../src/secrets/index.ts";
import { ageCli, rejectionOf, tempStore } from "./helpers.ts";

const VALUES: Record<string, string> = { ALPHA: "alpha-value", BETA: "beta value ✓", GAMMA: "gamma\nmulti\nline" };

async function seeded(options: { passphrase?: string } = {}): Promise<AgeSecretStore> {
  const store = tempStore({ passphrase: options.passphrase === undefined ? undefined : async () => options.passphrase ?? "" });
  await store.init({ passphrase: options.passphrase });
  for (const [name, value] of Object.entries(VALUES)) await store.set(name, value);
  return store;
}

function oldIdentityFile(store: AgeSecretStore): string {
  const copy = `${store.paths.dir}/../old-identity.txt`;
  Bun.spawnSync(["cp", "-p", store.paths.identity, copy]);
  return copy;
}

/** Every secret file decrypts with the identity currently on disk, checked by the real age CLI. */
function expectDecryptableOnDisk(store: AgeSecretStore): void {
  for (const [name, value] of Object.entries(VALUES)) {
    const result = ageCli(["-d", "-i", store.paths.identity, `${store.paths.dir}/${name}.age`]);
    expect(result.stderr).toBe("");
    expect(new TextDecoder().decode(result.stdout)).toBe(value);
  }
}

describe("age store rotation", () => {
  test("age store: rotate keeps every secret and the old identity no longer decrypts", async () => {
    const store = await seeded();
    const oldRecipient = await store.recipient();
    const oldIdentity = oldIdentityFile(store);
    const { recipient, rotated } = await store.rotate();
    expect(rotated).toBe(3);
    expect(recipient).not.toBe(oldRecipient);
    expect(readFileSync(store.paths.identity, "utf8")).toContain(`# public key: ${recipient}`);
    const fresh = new AgeSecretStore(store.paths.dir);
    for (const [name, value] of Object.entries(VALUES)) expect(await fresh.get(name)).toBe(value);
    expectDecryptableOnDisk(store);
    for (const name of Object.keys(VALUES)) expect(ageCli(["-d", "-i", oldIdentity, `${store.paths.dir}/${name}.age`]).exitCode).not.toBe(0);
    expect(readdirSync(store.paths.dir).sort()).toEqual([".lock", "ALPHA.age", "BETA.age", "GAMMA.age", "identity.txt", "index.json"]);
  });

  test("age store: rotate keeps the passphrase of a sealed identity", async () => {
    const store = await seeded({ passphrase: "rotate me" });
    await store.rotate();
    expect(store.isPassphraseProtected()).toBe(true);
    const fresh = new AgeSecretStore(store.paths.dir, { passphrase: async () => "rotate me" });
    expect(await fresh.get("BETA")).toBe(VALUES.BETA ?? "");
    expect((await rejectionOf(new AgeSecretStore(store.paths.dir, { passphrase: async () => "other" }).get("BETA"))).code).toBe("integrity");
  });

  test("age store: a damaged file aborts rotation before anything is written", async () => {
    const store = await seeded();
    const identityBefore = readFileSync(store.paths.identity, "utf8");
    await Bun.write(`${store.paths.dir}/BETA.age`, "garbage");
    expect((await rejectionOf(store.rotate())).code).toBe("integrity");
    expect(readFileSync(store.paths.identity, "utf8")).toBe(identityBefore);
    expect(readdirSync(store.paths.dir).filter((file) => file.includes(".new") || file === "rotation.json")).toEqual([]);
    expect(await store.get("ALPHA")).toBe(VALUES.ALPHA ?? "");
  });

  const crashPoints: Array<[RotateStep, string | undefined]> = [
    ["marked", undefined],
    ["staged", undefined],
    ["swapped", "ALPHA"],
    ["swapped", "BETA"],
    ["swapped", "GAMMA"],
    ["identity-replaced", undefined],
    ["reencrypted", "ALPHA"],
    ["reencrypted", "BETA"],
  ];
  for (const [crashStep, crashName] of crashPoints) {
    test(`age store: a crash after rotate step ${crashStep}${crashName ? ` (${crashName})` : ""} leaves a decryptable store`, async () => {
      const store = await seeded();
      const oldIdentity = oldIdentityFile(store);
      const crashing = new AgeSecretStore(store.paths.dir, {
        onRotateStep: (step, name) => {
          if (step === crashStep && name === crashName) throw new Error("simulated crash");
        },
      });
      expect((await rejectionOf(crashing.rotate())).message).toBe("simulated crash");
      // Before any recovery: the identity on disk decrypts every file (checked with the age CLI).
      expectDecryptableOnDisk(store);
      // The next process recovers: every value readable, leftovers gone, one recipient per file.
      const next = new AgeSecretStore(store.paths.dir);
      for (const [name, value] of Object.entries(VALUES)) expect(await next.get(name)).toBe(value);
      expect(existsSync(store.paths.rotationMarker)).toBe(false);
      expect(readdirSync(store.paths.dir).filter((file) => file.includes(".new") || file.includes(".tmp-"))).toEqual([]);
      const committed = crashStep === "identity-replaced" || crashStep === "reencrypted";
      for (const name of Object.keys(VALUES)) {
        expect(ageCli(["-d", "-i", oldIdentity, `${store.paths.dir}/${name}.age`]).exitCode === 0).toBe(!committed);
      }
      expectDecryptableOnDisk(store);
      // and a later rotation completes normally
      await next.rotate();
      expectDecryptableOnDisk(store);
    });
  }
});
