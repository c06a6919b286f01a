/** What the Gate and the real policy engines (built-in + OPA wasm templates) decide for skill runs. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Config, EventBus, Gate, LockdownStore, type RunRequest } from "../../src/core/index.ts";
import { prepareRun, NO_HISTORY } from "../../src/core/gate-prepare.ts";
import { createBuiltinEngine, createCombinedEngine } from "../../src/policy/index.ts";
import { createOpaEngine } from "../../src/policy/opa/index.ts";
import { createDockerRuntime } from "../../src/sandbox/index.ts";
import { tempDir } from "../helpers/temp-home.ts";

type Template = "strict" | "standard" | "permissive";
type Signature = "valid" | "unsigned" | "untrusted" | "invalid";

const IMAGE = `sha256:${"c".repeat(64)}`;

/** A Gate for simulation only: the real engines, a config of `template` with its default grants. */
function simulator(template: Template): Gate {
  const dir = tempDir();
  const config = Config.parse({ version: 1, policy: { template, grants: template === "strict" ? [] : ["shell.exec"] } });
  const audit = { append: () => Promise.reject(new Error("simulate must not write")) };
  const policy = createCombinedEngine([createBuiltinEngine(), createOpaEngine(template)]);
  return new Gate({ config, home: join(dir, "home"), audit, runtime: createDockerRuntime(), lockdown: new LockdownStore(join(dir, "lockdown.json")), bus: new EventBus(), policy });
}

/** A skill run request as `skills run` builds it. */
function skillRequest(signature: Signature, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    actor: { name: "tester", source: "cli" },
    argv: ["/skill/run-sh", "echo hi"],
    grants: ["shell.exec:/skill/run-sh"],
    image: IMAGE,
    skill: { name: "code-runner", version: "1.0.0", command: "sh", signature, imageDigest: IMAGE, ...(signature === "valid" ? { publisher: "acme", keyId: "0123456789abcdef" } : {}) },
    ...extra,
  };
}

describe("skill runs through the Gate's policy stage (real wasm templates)", () => {
  test("skill policy: an unsigned or untrusted skill under standard asks a person (standard.unsigned-skill)", async () => {
    for (const signature of ["unsigned", "untrusted"] as const) {
      const simulation = await simulator("standard").simulate(skillRequest(signature));
      expect(simulation.outcome).toBe("ask");
      expect(simulation.approvalRequired).toBe(true);
      expect(simulation.decision.reasons).toEqual([expect.objectContaining({ rule: "standard.unsigned-skill", field: "skill", message: "skill code-runner is not signed by a trusted publisher and needs approval" })]);
      expect(simulation.policyInput.skill).toMatchObject({ name: "code-runner", signed: false, signature });
    }
  });

  test("skill policy: a validly signed skill under standard runs; under permissive even an unsigned one does", async () => {
    const signed = await simulator("standard").simulate(skillRequest("valid"));
    expect(signed.outcome).toBe("run");
    expect(signed.policyInput.skill).toMatchObject({ signed: true, publisher: "acme" });
    expect((await simulator("permissive").simulate(skillRequest("unsigned"))).outcome).toBe("run");
  });

  test("skill policy: strict denies an unsigned skill and asks for a signed one", async () => {
    const unsigned = await simulator("strict").simulate(skillRequest("unsigned"));
    expect(unsigned.outcome).toBe("deny");
    expect(unsigned.decision.reasons.map((reason) => reason.rule)).toContain("strict.unsigned-skill");
    expect((await simulator("strict").simulate(skillRequest("valid"))).outcome).toBe("ask");
  });

  test("skill policy: a skill whose signature no longer verifies is denied by the built-in engine under every template", async () => {
    for (const template of ["strict", "standard", "permissive"] as const) {
      const simulation = await simulator(template).simulate(skillRequest("invalid"));
      expect(simulation.outcome).toBe("deny");
      expect(simulation.decision.reasons.map((reason) => reason.rule)).toContain("builtin.skill-signature-invalid");
    }
  });

  test("skill policy: the request hash covers the skill; the audit summary and the sandbox label name it", () => {
    const config = Config.parse({ version: 1 });
    const home = join(tempDir(), "home");
    const prepare = (request: RunRequest) => prepareRun(request, config, "docker", false, NO_HISTORY, home);
    const valid = prepare(skillRequest("valid"));
    expect(prepare(skillRequest("unsigned")).hash).not.toBe(valid.hash);
    const { skill: _skill, ...plain } = skillRequest("valid");
    expect(prepare(plain).hash).not.toBe(valid.hash);
    expect(prepare(plain).policyInput.skill).toBeNull();
    expect(valid.summary.skill).toMatchObject({ name: "code-runner", command: "sh", signature: "valid", imageDigest: IMAGE });
    expect(valid.spec.labels?.["io.aegisclaw.skill"]).toBe("code-runner");
  });

  test("skill policy: a skill's limits only lower config's; its env reaches the sandbox spec", () => {
    const config = Config.parse({ version: 1, sandbox: { limits: { pids: 64, memory: "128m", cpus: 1 } } });
    const home = join(tempDir(), "home");
    const lower = prepareRun(skillRequest("valid", { limits: { pids: 16, memoryBytes: 32 * 1024 ** 2, cpus: 0.25 }, env: { LC_ALL: "C" } }), config, "docker", false, NO_HISTORY, home);
    expect(lower.spec.limits).toMatchObject({ pids: 16, memoryBytes: 32 * 1024 ** 2, cpus: 0.25 });
    expect(lower.spec.env).toEqual({ LC_ALL: "C" });
    const higher = prepareRun(skillRequest("valid", { limits: { pids: 4096, memoryBytes: 64 * 1024 ** 3, cpus: 64 } }), config, "docker", false, NO_HISTORY, home);
    expect(higher.spec.limits).toMatchObject({ pids: 64, memoryBytes: 128 * 1024 ** 2, cpus: 1 });
    for (const name of ["A=B", "PATH", "HTTPS_PROXY"]) {
      expect(() => prepareRun(skillRequest("valid", { env: { [name]: "x" } }), config, "docker", false, NO_HISTORY, home)).toThrow("invalid run request: env");
    }
  });
});
