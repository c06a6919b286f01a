import { expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

const OPA = join(import.meta.dir, "..", "..", ".tools", "bin", "opa");

async function initHome(): Promise<string> {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  return home;
}

test("policy list/show: the three templates, the one in use marked, sources embedded in the binary", async () => {
  const home = await initHome();
  const list = await aegis(home, ["policy", "list", "--json"]);
  expect(JSON.parse(list.stdout)).toMatchObject({ active: "standard", templates: [{ name: "strict" }, { name: "standard", active: true }, { name: "permissive" }] });
  const show = await aegis(home, ["policy", "show", "permissive"]);
  expect(show.exitCode).toBe(0);
  expect(show.stdout).toContain("package aegisclaw.permissive");
  expect((await aegis(home, ["policy", "show", "lenient"])).exitCode).toBe(64);
});

test("policy use: switches the template, keeps config comments, is audited first, and changes decisions", async () => {
  const home = await initHome();
  const used = await aegis(home, ["policy", "use", "strict"]);
  expect(used.exitCode).toBe(0);
  const config = await Bun.file(join(home, "config.yaml")).text();
  expect(config).toContain("template: strict");
  expect(config).toContain("# Scopes granted to every run");
  const policyEntry = jsonLines((await aegis(home, ["logs", "--json"])).stdout).find((entry) => entry.type === "policy");
  expect(policyEntry?.note).toBe("policy template standard -> strict");
  expect((await aegis(home, ["simulate", "--", "echo", "hi"])).exitCode).toBe(77);
  expect((await aegis(home, ["policy", "use", "nonsense"])).exitCode).toBe(64);
  expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
});

test("policy eval: decides a policy input document like the Gate; --explain shows each engine; bad input is 65", async () => {
  const home = await initHome();
  const simulation = JSON.parse((await aegis(home, ["simulate", "--json", "--", "echo", "hi"])).stdout);
  const inputFile = join(home, "input.json");
  writeFileSync(inputFile, JSON.stringify(simulation.policyInput));
  const allowed = await aegis(home, ["policy", "eval", "--input", inputFile, "--json"]);
  expect(JSON.parse(allowed.stdout)).toMatchObject({ kind: "allow" });
  const explained = await aegis(home, ["policy", "eval", "--input", inputFile, "--explain"]);
  expect(explained.stdout).toContain("builtin: allow");
  expect(explained.stdout).toContain("opa:standard: allow");

  writeFileSync(inputFile, JSON.stringify({ ...simulation.policyInput, requested: [{ ...simulation.policyInput.requested[0], risk: "critical" }] }));
  expect(JSON.parse((await aegis(home, ["policy", "eval", "--input", inputFile, "--json"])).stdout).kind).toBe("ask");
  writeFileSync(inputFile, JSON.stringify({ action: "run" }));
  expect(JSON.parse((await aegis(home, ["policy", "eval", "--input", inputFile, "--json"])).stdout).kind).toBe("deny");
  writeFileSync(inputFile, "{not json");
  expect((await aegis(home, ["policy", "eval", "--input", inputFile])).exitCode).toBe(65);
});

test("policy test: runs the real opa test over the embedded templates; without opa it says how to get it", async () => {
  const home = await initHome();
  expect(existsSync(OPA), "run scripts/build-opa.sh first").toBe(true);
  const tested = await aegis(home, ["policy", "test"], { AEGISCLAW_OPA: OPA });
  expect(tested.exitCode).toBe(0);
  expect(tested.stdout).toMatch(/PASS: \d+\/\d+/);
  const missing = await aegis(home, ["policy", "test"], { PATH: "/nonexistent" });
  expect(missing.exitCode).toBe(69);
  expect(missing.stderr).toContain("build-opa.sh");
});
