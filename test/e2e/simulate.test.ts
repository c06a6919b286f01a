import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

async function initHome(template = "standard"): Promise<string> {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes", "--template", template])).exitCode).toBe(0);
  return home;
}

test("simulate: shows the decision and the sandbox profile, runs nothing and records nothing", async () => {
  const home = await initHome();
  const before = jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;
  const result = await aegis(home, ["simulate", "--timeout", "30s", "--", "sh", "-c", "echo hi"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain("decision:  ALLOW");
  expect(result.stdout).toContain("outcome:   would run");
  expect(result.stdout).toMatch(/network\s+none/);
  expect(result.stdout).toMatch(/user\s+65534:65534/);
  expect(result.stdout).toContain("timeout 30s");
  expect(result.stdout).not.toContain("\nhi\n");
  expect(jsonLines((await aegis(home, ["logs", "--json"])).stdout).length).toBe(before);
});

test("simulate: --json carries the policy input and profile; a denial exits 77; lockdown exits 75", async () => {
  const home = await initHome();
  const configPath = join(home, "config.yaml");
  writeFileSync(configPath, (await Bun.file(configPath).text()).replace("grants: [shell.exec]", "grants: []"));
  const denied = await aegis(home, ["simulate", "--json", "--", "echo", "hi"]);
  expect(denied.exitCode).toBe(77);
  const simulation = JSON.parse(denied.stdout);
  expect(simulation).toMatchObject({ outcome: "deny", decision: { kind: "deny" }, sandbox: { network: "none", secrets: [] } });
  expect(simulation.policyInput.requested[0]).toMatchObject({ scope: "shell.exec:echo", granted: false });
  expect((await aegis(home, ["simulate", "--scope", "shell.exec:echo", "--", "echo", "hi"])).exitCode).toBe(0);
  await aegis(home, ["lockdown", "--reason", "drill"]);
  expect((await aegis(home, ["simulate", "--scope", "shell.exec", "--", "echo", "hi"])).exitCode).toBe(75);
});

test("simulate: needs no Docker engine", async () => {
  const home = await initHome();
  const configPath = join(home, "config.yaml");
  writeFileSync(configPath, (await Bun.file(configPath).text()).replace("/var/run/docker.sock", "/nonexistent/docker.sock"));
  expect((await aegis(home, ["simulate", "--", "true"])).exitCode).toBe(0);
});

test("simulate: under strict the decision is ask, and the outcome says it would wait for a person", async () => {
  const home = await initHome("strict");
  const result = await aegis(home, ["simulate", "--scope", "shell.exec", "--", "echo", "hi"]);
  expect(result.exitCode).toBe(77);
  expect(result.stdout).toContain("decision:  ASK");
  expect(result.stdout).toContain("approval:  REQUIRED");
  expect(result.stdout).toContain("would wait for a person's approval");
  expect(JSON.parse((await aegis(home, ["simulate", "--json", "--scope", "shell.exec", "--", "echo", "hi"])).stdout).outcome).toBe("ask");
});

test("simulate: the policy input carries the actor's recent history from the audit log", async () => {
  const home = await initHome();
  await aegis(home, ["run", "--", "true"]);
  await aegis(home, ["run", "--", "true"]);
  const simulation = JSON.parse((await aegis(home, ["simulate", "--json", "--", "true"])).stdout);
  expect(simulation.policyInput.history).toMatchObject({ windowSeconds: 600, recentDecisions: 2, recentDenies: 0 });
});
