import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";
import { installSkill } from "../server/skill-install.ts";
import { removeTestImages } from "../skills/helpers.ts";
import { call, closeClientsAfterEach, connect, home, textOf } from "./helpers.ts";

useCompiledBinary();
closeClientsAfterEach();

type Listed = { skills: Array<{ name: string; version: string; description: string; scopes: string[]; signature: { status: string; publisher?: string }; commands: Array<{ name: string; description?: string; scopes: string[]; paths: string[] }> }> };

describe("mcp-server skills_list and skill_run (compiled binary, real skill, real Docker)", () => {
  let homeDir = "";
  beforeAll(async () => {
    await requireDocker();
    homeDir = await home("standard");
    await installSkill(homeDir, "code-runner", { signed: true });
  }, 180_000);
  afterAll(removeTestImages);

  test("mcp skills: skills_list shows the signed code-runner as valid, with its commands and scopes", async () => {
    const { client } = await connect(homeDir);
    const result = await call(client, "skills_list", {});
    expect(result.isError).toBeFalsy();
    const listed = result.structuredContent as Listed;
    expect(listed.skills.map((skill) => [skill.name, skill.signature.status])).toEqual([["code-runner", "valid"]]);
    const [skill] = listed.skills;
    expect(skill?.version).toStartWith("1.0.0-");
    expect(skill?.scopes).toEqual(["shell.exec:/skill/run-sh", "shell.exec:/skill/run-awk"]);
    expect(skill?.commands).toEqual([
      { name: "sh", description: expect.any(String), scopes: ["shell.exec:/skill/run-sh"], paths: [] },
      { name: "awk", description: expect.any(String), scopes: ["shell.exec:/skill/run-awk"], paths: [] },
    ]);
    expect(skill?.signature.publisher).toStartWith("test-");
    expect(textOf(result)).toContain("code-runner 1.0.0-");
    expect(textOf(result)).toContain("signature valid");
    // Listing is not a run: the audit log has no entry from it.
    expect(jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).some((entry) => JSON.stringify(entry.actor ?? {}).includes("mcp"))).toBe(false);
  });

  test("mcp skills: skill_run runs code-runner's sh command with its args through the Gate and audits it as the skill, source mcp", async () => {
    const { client } = await connect(homeDir, "skill-caller");
    const result = await call(client, "skill_run", { name: "code-runner", command: "sh", args: ["echo skill-says-$((6*7)) $1", "arg-one"] });
    expect(result.isError, textOf(result)).toBeFalsy();
    const data = result.structuredContent as Record<string, unknown>;
    expect(data).toMatchObject({ exitCode: 0, stdout: "skill-says-42 arg-one\n", truncated: false, decision: { kind: "allow" }, skill: { name: "code-runner", command: "sh", signature: "valid" } });
    expect(textOf(result)).toContain("skill code-runner sh");
    expect(textOf(result)).toContain("skill-says-42 arg-one");

    const entries = jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).filter((entry) => entry.runId === data.runId);
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "result"]);
    for (const entry of entries) expect(entry.actor).toEqual({ name: "mcp:skill-caller", source: "mcp" });
    expect(JSON.stringify(entries[0])).toContain('"name":"code-runner"');
    expect(JSON.stringify(entries[0])).toContain('"signature":"valid"');
  });

  test("mcp skills: an unknown skill or command, stray paths and bad input are error results, and the server keeps serving", async () => {
    const { client } = await connect(homeDir);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: "no-such-skill" }, "skill no-such-skill is not installed"],
      [{ name: "code-runner", command: "python" }, 'has no command "python"'],
      [{ name: "code-runner" }, "has several commands"],
      [{ name: "code-runner", command: "sh", args: ["true"], paths: { repo: "/tmp" } }, "no path parameter repo"],
      [{ name: "code-runner", command: "sh", paths: { repo: "relative/dir" } }, "absolute"],
      [{ name: "code-runner", argv: ["x"] }, "argv"],
      [{ command: "sh" }, "name"],
    ];
    for (const [args, mention] of cases) {
      const result = await call(client, "skill_run", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(result)).toContain(mention);
    }
    expect((await call(client, "skills_list", { extra: 1 })).isError).toBe(true);
    expect((await call(client, "skills_list", {})).isError).toBeFalsy();
  });

  test("mcp skills: a signed skill whose installed manifest was edited is listed invalid, and its run is denied and audited", async () => {
    const manifest = join(homeDir, "skills", "code-runner", "manifest.yaml");
    writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/^description: .+$/m, "description: tampered with"));
    const { client } = await connect(homeDir);
    const listed = (await call(client, "skills_list", {})).structuredContent as Listed;
    expect(listed.skills[0]?.signature.status).toBe("invalid");
    const denied = await call(client, "skill_run", { name: "code-runner", command: "sh", args: ["echo never"] });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain("[denied]");
    expect(textOf(denied)).toContain("signature does not verify");
    const last = jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout)
      .filter((entry) => entry.type === "decision")
      .at(-1);
    expect(last).toMatchObject({ actor: { source: "mcp" }, decision: { kind: "deny" } });
    expect(JSON.stringify(last)).toContain("builtin.skill-signature-invalid");
  });

  test("mcp skills: a skill whose image was removed from the engine is an error result saying how to fix it", async () => {
    const { client } = await connect(homeDir);
    const listed = (await call(client, "skills_list", {})).structuredContent as Listed & { skills: Array<{ imageId: string }> };
    const imageId = listed.skills[0]?.imageId ?? "";
    expect(imageId).toStartWith("sha256:");
    // This test's own image (its version carries the test's suffix): removing it harms nothing else.
    expect(Bun.spawnSync(["docker", "rmi", "-f", imageId], { stdout: "ignore", stderr: "pipe" }).exitCode).toBe(0);
    const result = await call(client, "skill_run", { name: "code-runner", command: "sh", args: ["echo never"] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("[unavailable]");
    expect(textOf(result)).toContain("is no longer in the Docker engine");
  });
});
