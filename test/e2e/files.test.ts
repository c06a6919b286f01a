/** files.read / files.write end to end with the compiled binary: decision, audit, mounts, simulate. */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

useCompiledBinary();

async function initHome(template: string): Promise<string> {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes", "--template", template])).exitCode).toBe(0);
  return home;
}

/** A data directory (outside the home) holding file.txt with `text`. */
function dataDir(text: string): string {
  const dir = join(realpathSync(tempDir()), "data");
  mkdirSync(dir);
  writeFileSync(join(dir, "file.txt"), text);
  return dir;
}

async function lastDecision(home: string): Promise<Record<string, unknown> | undefined> {
  return jsonLines((await aegis(home, ["logs", "--json"])).stdout).findLast((entry) => entry.type === "decision");
}

describe("file scopes (compiled binary, real Docker)", () => {
  let home: string;
  beforeAll(async () => {
    await requireDocker();
    home = await initHome("permissive");
  });

  test("files: run --scope files.read:DIR prints the file; the decision entry lists the scope and the mount", async () => {
    const dir = dataDir("granted content\n");
    const result = await aegis(home, ["run", "--scope", `files.read:${dir}`, "--", "cat", `${dir}/file.txt`]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("granted content\n");
    expect(result.exitCode).toBe(0);
    const decision = await lastDecision(home);
    expect(decision?.request).toMatchObject({ requested: ["shell.exec:cat", `files.read:${dir}`], mounts: [{ source: dir, target: dir, mode: "ro" }] });
    expect(decision?.decision).toMatchObject({ kind: "allow" });
  });

  test("files: a granted symlink swapped between runs is decided afresh; swapped into the home it is refused", async () => {
    const first = dataDir("first target\n");
    const second = dataDir("second target\n");
    const link = join(realpathSync(tempDir()), "link");
    symlinkSync(first, link);
    const run = (path: string) => aegis(home, ["run", "--scope", `files.read:${link}`, "--", "cat", path]);
    expect((await run(`${link}/file.txt`)).stdout).toBe("first target\n");
    rmSync(link);
    symlinkSync(second, link);
    expect((await run(`${link}/file.txt`)).stdout).toBe("second target\n");
    expect((await lastDecision(home))?.request).toMatchObject({ mounts: [{ source: second, target: link, mode: "ro" }] });
    rmSync(link);
    symlinkSync(join(home, "audit"), link);
    const refused = await run(`${link}/signing.key`);
    expect(refused.exitCode).toBe(65);
    expect(refused.stderr).toContain(`resolves to ${realpathSync(join(home, "audit"))}`);
    expect(refused.stderr).toContain("[mount.aegisclaw-home]");
    expect(refused.stdout).toBe("");
  });

  test("files: simulate --scope files.write:DIR shows the rw mount, and under standard an approval is required", async () => {
    const standard = await initHome("standard");
    const dir = dataDir("x");
    const result = await aegis(standard, ["simulate", "--scope", `files.write:${dir}`, "--", "touch", `${dir}/new`]);
    expect(result.exitCode).toBe(77);
    expect(result.stdout).toContain(`${dir} (bind rw from ${dir})`);
    expect(result.stdout).toContain("decision:  ASK");
    expect(result.stdout).toContain("approval:  REQUIRED");
    expect(result.stdout).toContain(`files.write:${dir} is high risk`);
    const json = JSON.parse((await aegis(standard, ["simulate", "--json", "--scope", `files.read:${dir}`, "--", "ls", dir])).stdout);
    expect(json.policyInput.requested[1]).toMatchObject({ scope: `files.read:${dir}`, kind: "files.read", risk: "medium", granted: true });
    expect(json.outcome).toBe("run");
  });

  test("files: forbidden and missing paths exit 65 naming the rule, and record nothing", async () => {
    const before = jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;
    for (const [scope, rule] of [
      ["files.read:/proc", "[mount.proc]"],
      ["files.read:/sys/kernel", "[mount.sys]"],
      ["files.write:/dev/shm", "[mount.dev]"],
      ["files.read:/boot", "[mount.boot]"],
      ["files.read:/run", "[mount."],
      ["files.write:/nonexistent/out", "[mount.missing]"],
    ] as const) {
      const result = await aegis(home, ["simulate", "--scope", scope, "--", "true"]);
      expect(`${scope}: ${result.exitCode} ${result.stderr}`).toContain(rule);
      expect(result.exitCode).toBe(65);
    }
    const run = await aegis(home, ["run", "--scope", "files.read:/proc", "--", "true"]);
    expect(run.exitCode).toBe(65);
    expect(jsonLines((await aegis(home, ["logs", "--json"])).stdout).length).toBe(before);
  });
});
