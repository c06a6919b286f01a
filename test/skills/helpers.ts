/** Skill test fixtures: copies of skill directories with test-only versions, and image cleanup. */
import { expect } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis } from "../helpers/cli.ts";
import { tempDir } from "../helpers/temp-home.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** The starter skills shipped in skills/. */
export const STARTER_SKILLS = ["code-runner", "file-organiser", "git-stats"] as const;
/** Unique per test process, so images never collide with setup's or another run's. */
export const TEST_SUFFIX = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;

/** Image tags the tests created; removeTestImages deletes exactly these. */
const createdTags = new Set<string>();

/**
 * Copies skill directory `source` into a temp dir, giving it the version `<version>-<suffix>`
 * (and the matching image tag), so its image is this test's own: the version is an image label,
 * so the build is a different image from setup's, which cleanup can remove without harm.
 */
export function copySkill(source: string, options: { name?: string; version?: string } = {}): { dir: string; tag: string; name: string; version: string } {
  const from = source.includes("/") ? source : join(ROOT, "skills", source);
  const dir = join(tempDir(), options.name ?? source.split("/").pop() ?? "skill");
  cpSync(from, dir, { recursive: true });
  const manifestPath = join(dir, "manifest.yaml");
  const text = readFileSync(manifestPath, "utf8");
  const name = options.name ?? /^name: (.+)$/m.exec(text)?.[1] ?? "";
  const version = `${options.version ?? "1.0.0"}-${TEST_SUFFIX}`;
  const tag = `aegisclaw/skill-${name}:${version}`;
  writeFileSync(
    manifestPath,
    text
      .replace(/^name: .+$/m, `name: ${name}`)
      .replace(/^version: .+$/m, `version: ${version}`)
      .replace(/^image: .+$/m, `image: ${tag}`),
  );
  createdTags.add(tag);
  return { dir, tag, name, version };
}

/** A publisher key pair made by the binary: `{key, pub}` paths. */
export async function publisherKey(home: string): Promise<{ key: string; pub: string }> {
  const key = join(tempDir(), "publisher.key");
  const made = await aegis(home, ["skills", "keygen", key]);
  expect(made.exitCode).toBe(0);
  return { key, pub: `${key}.pub` };
}

/** Removes the images whose tags copySkill handed out (never anything else). */
export function removeTestImages(): void {
  for (const tag of createdTags) Bun.spawnSync(["docker", "rmi", tag], { stdout: "ignore", stderr: "ignore" });
  createdTags.clear();
}

/** Waits until `approvals list` shows a pending request of this home, and returns it. */
export async function firstPending(home: string): Promise<{ id: string; requestHash: string; argv: string[] }> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const listed = await aegis(home, ["approvals", "list", "--json"]);
    const pending = JSON.parse(listed.stdout).pending;
    if (pending.length > 0) return pending[0];
    await Bun.sleep(100);
  }
  throw new Error("no pending approval appeared");
}
