import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

const OPA = join(import.meta.dir, "..", "..", ".tools", "bin", "opa");

const NO_RM = `package aegisclaw.user.no_rm

default decision := {"kind": "allow", "risk": "low", "reasons": [{"rule": "user.no_rm.ok", "message": "not rm"}]}

decision := {"kind": "deny", "risk": "high", "reasons": [{"rule": "user.no_rm", "message": "rm is forbidden by my own policy", "field": "argv"}]} if {
\tinput.argv[0] == "rm"
}
`;

const ALLOW_ALL = `package aegisclaw.user.allow_all

decision := {"kind": "allow", "risk": "low", "reasons": [{"rule": "user.allow_all", "message": "anything goes"}]}
`;

test("user policies: unbuilt or changed Rego denies; policy build makes it part of every decision", async () => {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  const policies = join(home, "policies");
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, "no_rm.rego"), NO_RM);

  const unbuilt = await aegis(home, ["simulate", "--", "echo", "hi"]);
  expect(unbuilt.exitCode).toBe(77);
  expect(unbuilt.stdout).toContain("never been built");

  const built = await aegis(home, ["policy", "build"], { AEGISCLAW_OPA: OPA });
  expect(built.exitCode).toBe(0);
  expect(built.stderr).toContain("data.aegisclaw.user.no_rm.decision");
  expect((await aegis(home, ["simulate", "--", "echo", "hi"])).exitCode).toBe(0);
  const rm = await aegis(home, ["simulate", "--", "rm", "-rf", "/tmp/x"]);
  expect(rm.exitCode).toBe(77);
  expect(rm.stdout).toContain("rm is forbidden by my own policy");

  writeFileSync(join(policies, "no_rm.rego"), NO_RM.replace('"rm"', '"rmdir"'));
  const changed = await aegis(home, ["simulate", "--", "echo", "hi"]);
  expect(changed.exitCode).toBe(77);
  expect(changed.stdout).toContain("changed since");

  writeFileSync(join(policies, "broken.rego"), "package aegisclaw.user.broken\n\ndecision := {\n");
  const failed = await aegis(home, ["policy", "build"], { AEGISCLAW_OPA: OPA });
  expect(failed.exitCode).toBe(65);
  expect(failed.stderr).toContain("nothing was changed");
});

test("user policies: an allow-everything policy cannot loosen the template", async () => {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes", "--template", "strict"])).exitCode).toBe(0);
  mkdirSync(join(home, "policies"), { recursive: true });
  writeFileSync(join(home, "policies", "allow_all.rego"), ALLOW_ALL);
  expect((await aegis(home, ["policy", "build"], { AEGISCLAW_OPA: OPA })).exitCode).toBe(0);
  const result = await aegis(home, ["simulate", "--scope", "shell.exec", "--", "echo", "hi"]);
  expect(result.exitCode).toBe(77);
  expect(result.stdout).toContain("decision:  ASK");
});

test("user policies: policy build without opa says how to get it", async () => {
  const home = tempHome();
  expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  const result = await aegis(home, ["policy", "build"], { PATH: "/nonexistent" });
  expect(result.exitCode).toBe(69);
  expect(result.stderr).toContain("build-opa.sh");
});
