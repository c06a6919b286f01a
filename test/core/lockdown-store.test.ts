import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LockdownStore } from "../../src/core/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

test("lockdown store: absent flag means unlocked; written flag persists for a new reader", () => {
  const file = join(tempDir(), "lockdown.json");
  expect(new LockdownStore(file).isActive()).toBe(false);
  new LockdownStore(file).write({ active: true, reason: "test" });
  expect(new LockdownStore(file).read()).toMatchObject({ active: true, reason: "test" });
});

test("lockdown store: a corrupted flag file fails closed (locked)", () => {
  const file = join(tempDir(), "lockdown.json");
  for (const junk of ["{", '{"active":"no"}', '{"active":false,"extra":1}', ""]) {
    writeFileSync(file, junk);
    expect(new LockdownStore(file).isActive()).toBe(true);
  }
});

test("lockdown store: a cached flag still sees another process's lockdown at the very next read", async () => {
  const file = join(tempDir(), "lockdown.json");
  const reader = new LockdownStore(file);
  const writer = new LockdownStore(file);
  writer.write({ active: false });
  // Older than the settling time, so the reader caches it.
  await Bun.sleep(1100);
  expect(reader.isActive()).toBe(false);
  expect(reader.isActive()).toBe(false);
  writer.write({ active: true, reason: "drill" });
  expect(reader.read()).toMatchObject({ active: true, reason: "drill" });
  writer.write({ active: false });
  expect(reader.isActive()).toBe(false);
});

test("lockdown store: an in-place rewrite of the same size is seen, and a removed flag is unlocked", async () => {
  const file = join(tempDir(), "lockdown.json");
  const reader = new LockdownStore(file);
  writeFileSync(file, '{"active":false}');
  await Bun.sleep(1100);
  expect(reader.isActive()).toBe(false);
  writeFileSync(file, '{"active":true }');
  expect(reader.isActive()).toBe(true);
  writeFileSync(file, '{"active":tru}');
  expect(reader.isActive()).toBe(true);
  Bun.spawnSync(["rm", file]);
  expect(reader.isActive()).toBe(false);
});
