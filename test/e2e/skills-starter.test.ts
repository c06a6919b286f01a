/** The starter skills, signed here, installed and run for real through the compiled binary and Docker. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, backgroundAegis, initHomeWith, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { copySkill, firstPending, publisherKey, removeTestImages, STARTER_SKILLS } from "../skills/helpers.ts";

useCompiledBinary();

let home: string;

/** The audit entries of the last run, found through its decision entry. */
async function lastRunEntries(): Promise<Array<Record<string, unknown>>> {
  const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
  const decision = entries.findLast((entry) => entry.type === "decision");
  return entries.filter((entry) => entry.runId === decision?.runId);
}

function git(cwd: string, ...args: string[]): void {
  const result = Bun.spawnSync(["git", "-c", "user.name=Ann Example", "-c", "user.email=ann@example.com", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  expect(result.exitCode, result.stderr.toString()).toBe(0);
}

describe("starter skills (signed here, compiled binary, real Docker)", () => {
  beforeAll(async () => {
    await requireDocker();
    home = await initHomeWith("standard");
    const { key, pub } = await publisherKey(home);
    expect((await aegis(home, ["skills", "trust", "add", pub, "--name", "aegisclaw-starter"])).exitCode).toBe(0);
    for (const name of STARTER_SKILLS) {
      const { dir } = copySkill(name);
      const signed = await aegis(home, ["skills", "sign", dir, "--key", key]);
      expect(signed.exitCode, signed.stderr).toBe(0);
      const added = await aegis(home, ["skills", "add", dir]);
      expect(added.exitCode, added.stderr).toBe(0);
      expect(added.stdout).toContain(`installed ${name}`);
      expect(added.stdout).toContain("signed by aegisclaw-starter");
    }
  }, 120_000);
  afterAll(removeTestImages);

  test("starter skills: list shows all three, signed by the starter key, with their scopes", async () => {
    const listed = JSON.parse((await aegis(home, ["skills", "list", "--json"])).stdout);
    expect(listed.skills.map((skill: { name: string }) => skill.name)).toEqual([...STARTER_SKILLS]);
    for (const skill of listed.skills) expect(skill.signature).toMatchObject({ status: "valid", publisher: "aegisclaw-starter" });
    expect(listed.skills[2].scopes).toEqual(["shell.exec:/skill/git-stats", "files.read:{repo}"]);
    expect((await aegis(home, ["skills", "verify", "git-stats"])).exitCode).toBe(0);
  });

  test("git-stats e2e: counts a real repository mounted read-only; the audit entries name the skill", async () => {
    const repo = join(realpathSync(tempDir()), "repo");
    mkdirSync(repo);
    chmodSync(repo, 0o755);
    git(repo, "init", "-q", "-b", "main");
    mkdirSync(join(repo, "src"));
    writeFileSync(join(repo, "README.md"), "# demo\n");
    writeFileSync(join(repo, "src", "a.ts"), "one\ntwo\nthree\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "first");
    writeFileSync(join(repo, "src", "b.ts"), "four\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "second");
    git(repo, "tag", "v1");
    const result = await aegis(home, ["skills", "run", "git-stats", "--path", `repo=${repo}`]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`repository  ${repo}\n`);
    expect(result.stdout).toContain("branch      main\n");
    expect(result.stdout).toContain("tags        1\n");
    expect(result.stdout).toContain("commits     2 (made in this clone");
    expect(result.stdout).toContain("committers  1\n");
    expect(result.stdout).toContain("files       3 (working tree");
    expect(result.stdout).toContain("lines       5\n");
    expect(result.stdout).toMatch(/ 2 ts\n/);
    const [decision, outcome] = await lastRunEntries();
    expect(decision?.decision).toMatchObject({ kind: "allow" });
    expect(decision?.request).toMatchObject({
      skill: { name: "git-stats", command: "stats", signature: "valid", publisher: "aegisclaw-starter" },
      mounts: [{ source: repo, target: repo, mode: "ro" }],
    });
    expect(outcome).toMatchObject({ type: "result", result: { exitCode: 0 } });
  });

  test("code-runner e2e: runs sh and awk snippets in a sandbox without network", async () => {
    const sh = await aegis(home, ["skills", "run", "code-runner", "sh", "echo $((6*7)); ls /sys/class/net"]);
    expect(sh.exitCode).toBe(0);
    expect(sh.stdout).toBe("42\nlo\n");
    const awk = await aegis(home, ["skills", "run", "code-runner", "awk", "BEGIN { print 6 * 7 }"]);
    expect(awk.exitCode).toBe(0);
    expect(awk.stdout).toBe("42\n");
    const [decision] = await lastRunEntries();
    expect(decision?.request).toMatchObject({ argv: ["/skill/run-awk", "BEGIN { print 6 * 7 }"], skill: { name: "code-runner", command: "awk" } });
    const failing = await aegis(home, ["skills", "run", "code-runner", "sh", "exit 3"]);
    expect(failing.exitCode).toBe(3);
  });

  test("file-organiser e2e: plan reads and changes nothing; apply (files.write, high risk) waits for a person, then moves the files", async () => {
    const dir = join(realpathSync(tempDir()), "inbox");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    for (const name of ["report.PDF", "notes.txt", "todo.txt", "Makefile"]) writeFileSync(join(dir, name), `${name}\n`);
    const plan = await aegis(home, ["skills", "run", "file-organiser", "plan", "--path", `dir=${dir}`]);
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain("move  report.PDF -> pdf/report.PDF\n");
    expect(plan.stdout).toContain("move  Makefile -> other/Makefile\n");
    expect(plan.stdout).toContain("plan: 4 to move, 0 skipped (nothing changed)");
    expect(readdirSync(dir).sort()).toEqual(["Makefile", "notes.txt", "report.PDF", "todo.txt"]);
    const [planDecision] = await lastRunEntries();
    expect(planDecision?.request).toMatchObject({ mounts: [{ mode: "ro" }] });

    const apply = backgroundAegis(home, ["skills", "run", "file-organiser", "apply", "--path", `dir=${dir}`]);
    const pending = await firstPending(home);
    expect(pending.argv).toEqual(["/skill/organise", "apply", dir]);
    expect((await aegis(home, ["approvals", "approve", pending.id])).exitCode).toBe(0);
    const applied = await apply.done;
    expect(applied.exitCode).toBe(0);
    expect(applied.stdout).toContain("done: 4 moved, 0 skipped");
    expect(readdirSync(dir).sort()).toEqual(["other", "pdf", "txt"]);
    expect(existsSync(join(dir, "txt", "notes.txt"))).toBe(true);
    const entries = (await lastRunEntries()).map((entry) => [entry.type, (entry.request as { skill?: { name: string } } | undefined)?.skill?.name]);
    expect(entries).toEqual([["decision", "file-organiser"], ["approval", undefined], ["result", undefined]]);
  });
});
