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
