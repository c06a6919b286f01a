import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { homeLayout } from "../../src/core/index.ts";
import { skillSigningCheck } from "../../src/posture/checks-home.ts";
import { generateKey, parseManifest, signManifest, SkillRegistry, TrustStore, withSignature } from "../../src/skills/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

const ROOT = join(import.meta.dir, "..", "..");
const IMAGE_ID = `sha256:${"ab".repeat(32)}`;

/** Installs the starter code-runner manifest (signed by `key` when given) with a made-up image id: verification needs no Docker. */
function install(skillsDir: string, key?: ReturnType<typeof generateKey>, imageId = IMAGE_ID): void {
  const text = readFileSync(join(ROOT, "skills", "code-runner", "manifest.yaml"), "utf8");
  let parsed = parseManifest(text);
  if (key) parsed = parseManifest(withSignature(parsed, signManifest(parsed.manifest as unknown as Record<string, unknown>, IMAGE_ID, key)));
  new SkillRegistry(skillsDir).write(parsed, { name: "code-runner", version: "1.0.0", imageId, image: "aegisclaw/skill-code-runner:1.0.0", installedAt: new Date().toISOString(), source: "test" });
}

test("posture skill-signing: none installed 10, unsigned or untrusted 5, trusted 10, invalid 0", () => {
  const layout = homeLayout(join(tempDir(), "home"));
  expect(skillSigningCheck(layout)).toMatchObject({ earned: 10 });
  install(layout.skills);
  expect(skillSigningCheck(layout)).toMatchObject({ earned: 5, fix: expect.stringContaining("skills trust add") });
  const key = generateKey();
  install(layout.skills, key);
  expect(skillSigningCheck(layout).earned).toBe(5);
  new TrustStore(new SkillRegistry(layout.skills).trustFile).add(key.publicKey, "starter");
  expect(skillSigningCheck(layout)).toMatchObject({ earned: 10, detail: expect.stringContaining("all signed by trusted publishers") });
  // The same signed manifest over a different image: the signature no longer holds.
  install(layout.skills, key, `sha256:${"cd".repeat(32)}`);
  expect(skillSigningCheck(layout)).toMatchObject({ earned: 0, detail: expect.stringContaining("invalid signature") });
});
