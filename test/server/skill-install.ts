/** Installs starter skills into a server fixture's home the way a person would: through the CLI. */
import { expect } from "bun:test";
import { aegis } from "../helpers/cli.ts";
import { copySkill, publisherKey } from "../skills/helpers.ts";

/**
 * Installs a test copy of skills/<source> as `name` (default: the same name), signed by a
 * publisher key trusted in `home` when `signed`, else unsigned. Its image is removed by
 * removeTestImages (test/skills/helpers.ts) in afterAll.
 */
export async function installSkill(home: string, source: string, options: { name?: string; signed?: boolean } = {}): Promise<void> {
  const { dir } = copySkill(source, options.name ? { name: options.name } : {});
  if (options.signed) {
    const { key, pub } = await publisherKey(home);
    const trusted = await aegis(home, ["skills", "trust", "add", pub, "--name", `test-${Math.random().toString(36).slice(2, 8)}`]);
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    const signed = await aegis(home, ["skills", "sign", dir, "--key", key]);
    expect(signed.exitCode, signed.stderr).toBe(0);
  }
  const added = await aegis(home, ["skills", "add", dir, "--yes"]);
  expect(added.exitCode, added.stderr).toBe(0);
}
