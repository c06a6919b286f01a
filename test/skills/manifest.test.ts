import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadManifest, parseManifest, withSignature } from "../../src/skills/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { STARTER_SKILLS } from "./helpers.ts";

const BASE = `name: demo
version: 1.0.0
description: A demo skill.
platform: docker
image: aegisclaw/skill-demo:1.0.0
scopes:
  - shell.exec:/skill/run
  - files.read:{input}
commands:
  go:
    args: [/skill/run, "{input}"]
`;

/** The error message parseManifest throws for `text` (the test fails when it parses). */
function errorOf(text: string): string {
  try {
    parseManifest(text, "demo/manifest.yaml");
  } catch (error) {
    expect(isAegisError(error, "bad-input")).toBe(true);
    return (error as Error).message;
  }
  throw new Error("manifest was accepted");
}

describe("skill manifest", () => {
  test("manifest: the starter skills' manifests are valid", () => {
    for (const name of STARTER_SKILLS) {
      const parsed = loadManifest(join(import.meta.dir, "..", "..", "skills", name));
      expect(parsed.manifest.name).toBe(name);
      expect(parsed.manifest.platform).toBe("docker");
      expect(parsed.signature).toBeUndefined();
    }
  });

  test("manifest: errors name file:line: field and the fix", () => {
    const cases: Array<[string, string]> = [
      [BASE.replace("name: demo", "name: Demo_Skill"), "demo/manifest.yaml:1: name: expected lower-case letters"],
      [BASE.replace("platform: docker", "platform: docker-compose"), "demo/manifest.yaml:1: compose_file: a docker-compose skill names its compose file"],
      [BASE.replace("platform: docker", "platform: podman"), "demo/manifest.yaml:4: platform:"],
      [BASE.replace("image: aegisclaw/skill-demo:1.0.0", "image: aegisclaw/base:busybox"), "demo/manifest.yaml:5: image: expected aegisclaw/skill-demo:<tag>"],
      [BASE.replace("  - files.read:{input}", "  - files.read:/etc"), "demo/manifest.yaml:8: scopes.1: files.read:/etc: a skill cannot name host paths"],
      [BASE.replace("  - shell.exec:/skill/run", "  - shell.exec"), "demo/manifest.yaml:7: scopes.0: shell.exec: a skill's shell.exec must name one absolute program"],
      [BASE.replace("  - shell.exec:/skill/run", "  - net.outbound:*.com"), "demo/manifest.yaml:7: scopes.0:"],
      [BASE.replace("args: [/skill/run,", "args: [/skill/other,"), "demo/manifest.yaml:11: commands.go.args.0: program /skill/other is not allowed by a scope of this command"],
      [BASE.replace('"{input}"]', '"{output}"]'), "demo/manifest.yaml:11: commands.go.args.1: {output} is not a path parameter"],
      [`${BASE}    env: {PATH: /evil}\n`, "demo/manifest.yaml:12: commands.go.env.PATH: PATH is set by the sandbox"],
      [`${BASE}    scopes: [net.outbound:example.com]\n`, "demo/manifest.yaml:12: commands.go.scopes.0: net.outbound:example.com is not one of the skill's scopes"],
      [`${BASE}resources:\n  memory: lots\n`, "demo/manifest.yaml:13: resources.memory: expected a size"],
      [`${BASE}    runAs: root\n`, 'demo/manifest.yaml:12: commands.go: Unrecognized key: "runAs"'],
      [`${BASE}compose_file: compose.yaml\n`, "demo/manifest.yaml:12: compose_file: only for platform docker-compose"],
      [BASE.replace("commands:\n  go:\n    args: [/skill/run, \"{input}\"]\n", "commands: {}\n"), "demo/manifest.yaml:9: commands: a skill needs at least one command"],
      [BASE.replace("version: 1.0.0", "version: 1.0.0+build"), "demo/manifest.yaml:2: version:"],
      [`${BASE}name: twice\n`, "demo/manifest.yaml:12: invalid YAML"],
      ["name: [unclosed\n", "demo/manifest.yaml:"],
    ];
    for (const [text, expected] of cases) expect(errorOf(text)).toStartWith(expected);
  });

  test("manifest: a missing field is named; signature blocks are validated too", () => {
    expect(errorOf(BASE.replace("description: A demo skill.\n", ""))).toBe("demo/manifest.yaml:1: description: required but missing");
    expect(errorOf(`${BASE}signature:\n  algorithm: rsa\n`)).toStartWith("demo/manifest.yaml:13: signature.algorithm:");
  });

  test("manifest: the signed data is the manifest as written, without its signature block", () => {
    const parsed = parseManifest(`# comment\n${BASE}`);
    expect(parsed.signed).toEqual({
      name: "demo",
      version: "1.0.0",
      description: "A demo skill.",
      platform: "docker",
      image: "aegisclaw/skill-demo:1.0.0",
      scopes: ["shell.exec:/skill/run", "files.read:{input}"],
      commands: { go: { args: ["/skill/run", "{input}"] } },
    });
    const block = { algorithm: "ed25519" as const, keyId: "0123456789abcdef", publicKey: `${"A".repeat(43)}=`, imageDigest: `sha256:${"a".repeat(64)}`, value: `${"B".repeat(86)}==` };
    const signedText = withSignature(parsed, block);
    expect(signedText).toStartWith("# comment\n");
    const again = parseManifest(signedText);
    expect(again.signature).toEqual(block);
    expect(again.signed).toEqual(parsed.signed);
  });
});
