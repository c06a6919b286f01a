import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadManifest, parsePathBindings, pickCommand, planSkillRun, type InstalledSkill, type Verification } from "../../src/skills/index.ts";

const ROOT = join(import.meta.dir, "..", "..");
const IMAGE = `sha256:${"d".repeat(64)}`;

function installed(name: string): InstalledSkill {
  const parsed = loadManifest(join(ROOT, "skills", name));
  return { name, dir: "/nowhere", parsed, record: { name, version: parsed.manifest.version, imageId: IMAGE, image: parsed.manifest.image, installedAt: new Date(0).toISOString(), source: "/src" } };
}

const VALID: Verification = { status: "valid", reason: "signed", keyId: "0123456789abcdef", publisher: "acme" };

describe("skill run plan", () => {
  test("run plan: file parameters are bound to the named directory, in scopes and in argv; the image is the id", () => {
    const plan = planSkillRun(installed("git-stats"), VALID, "stats", [], { repo: "/home/me/project" });
    expect(plan.argv).toEqual(["/skill/git-stats", "/home/me/project"]);
    expect(plan.grants).toEqual(["shell.exec:/skill/git-stats", "files.read:/home/me/project"]);
    expect(plan.image).toBe(IMAGE);
    expect(plan.env).toEqual({ LC_ALL: "C" });
    expect(plan.limits).toEqual({ pids: 32, memoryBytes: 64 * 1024 ** 2, cpus: 0.5 });
    expect(plan.timeoutMs).toBe(60_000);
    expect(plan.skill).toEqual({ name: "git-stats", version: "1.0.0", command: "stats", signature: "valid", publisher: "acme", keyId: "0123456789abcdef", imageDigest: IMAGE });
  });

  test("run plan: each command gets only its own scopes (plan reads, apply writes)", () => {
    const skill = installed("file-organiser");
    expect(planSkillRun(skill, VALID, "plan", [], { dir: "/data/inbox" }).grants).toEqual(["shell.exec:/skill/organise", "files.read:/data/inbox"]);
    expect(planSkillRun(skill, VALID, "apply", [], { dir: "/data/inbox" }).grants).toEqual(["shell.exec:/skill/organise", "files.write:/data/inbox"]);
    const runner = installed("code-runner");
    expect(planSkillRun(runner, VALID, "awk", ["BEGIN { print 1 }"], {}).grants).toEqual(["shell.exec:/skill/run-awk"]);
  });

  test("run plan: the person's arguments follow the command's; the config timeout caps the skill's", () => {
    const plan = planSkillRun(installed("code-runner"), VALID, "sh", ["echo $1", "x"], {}, 10_000);
    expect(plan.argv).toEqual(["/skill/run-sh", "echo $1", "x"]);
    expect(plan.timeoutMs).toBe(10_000);
  });

  test("run plan: a missing or unknown path binding is a usage error that says how to bind it", () => {
    expect(() => planSkillRun(installed("git-stats"), VALID, "stats", [], {})).toThrow("--path repo=DIR");
    expect(() => planSkillRun(installed("git-stats"), VALID, "stats", [], { repo: "/x", other: "/y" })).toThrow("has no path parameter other");
    expect(() => planSkillRun(installed("code-runner"), VALID, "sh", [], { dir: "/x" })).toThrow("command sh of code-runner has no path parameter dir");
  });

  test("run plan: the command may be left out only when the skill has one", () => {
    expect(pickCommand(installed("git-stats").parsed.manifest, ["--verbose"])).toEqual({ command: "stats", args: ["--verbose"] });
    expect(pickCommand(installed("git-stats").parsed.manifest, ["stats", "x"])).toEqual({ command: "stats", args: ["x"] });
    expect(pickCommand(installed("code-runner").parsed.manifest, ["awk", "BEGIN{}"])).toEqual({ command: "awk", args: ["BEGIN{}"] });
    expect(() => pickCommand(installed("code-runner").parsed.manifest, ["python"])).toThrow('has no command "python"');
    expect(() => pickCommand(installed("code-runner").parsed.manifest, [])).toThrow("has several commands");
  });

  test("run plan: --path values are NAME=DIR, resolved to absolute paths, each name once", () => {
    expect(parsePathBindings(["repo=/a/b/../c", "out=rel"], "/work")).toEqual({ repo: "/a/c", out: "/work/rel" });
    for (const bad of ["repo", "=/x", "repo=", "Repo=/x", "a b=/x"]) expect(() => parsePathBindings([bad])).toThrow("expected NAME=DIR");
    expect(() => parsePathBindings(["a=/x", "a=/y"])).toThrow("given twice");
  });
});
