import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Decision } from "../../src/policy/engine.ts";
import { createOpaEngine, createOpaEngineFromWasm, type OpaInput } from "../../src/policy/opa/index.ts";
import { AegisError } from "../../src/shared/index.ts";

const repo = join(import.meta.dir, "../..");
const opa = join(repo, ".tools/bin/opa");
if (!existsSync(opa)) throw new Error(`${opa} is missing: run scripts/build-opa.sh (the OPA tests never skip)`);

const dir = mkdtempSync(join(tmpdir(), "aegis-opa-bad-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OK = `{"kind": "allow", "risk": "low", "reasons": [{"rule": "ok", "message": "fine"}]}`;

/** Compiles a one-file Rego policy `package bad` to policy.wasm with the real opa. */
function compile(name: string, body: string): Uint8Array {
  const source = join(dir, `${name}.rego`);
  const bundle = join(dir, `${name}.tar.gz`);
  writeFileSync(source, `package bad\n\n${body}\n`);
  const build = Bun.spawnSync([opa, "build", "-t", "wasm", "-e", "bad/decision", source, "-o", bundle], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`opa build ${name}: ${build.stderr.toString()}`);
  const extract = Bun.spawnSync(["tar", "-xzOPf", bundle, "/policy.wasm"], { stdout: "pipe", stderr: "pipe" });
  if (extract.exitCode !== 0) throw new Error(`tar ${name}: ${extract.stderr.toString()}`);
  return extract.stdout;
}

const input = { action: "run" } as unknown as OpaInput;

function expectPolicyError(decision: Decision, pattern: RegExp): void {
  expect(decision.kind).toBe("deny");
  expect(decision.risk).toBe("high");
  expect(decision.reasons).toHaveLength(1);
  expect(decision.reasons[0]?.rule).toBe("policy.error");
  expect(decision.reasons[0]?.message).toMatch(pattern);
}

function engineFor(name: string, body: string) {
  return createOpaEngineFromWasm(compile(name, body), "bad/decision", { name });
}

test("opa fail-closed: a well-formed user policy is evaluated as written", () => {
  expect(engineFor("good", `decision := ${OK}`).evaluate(input)).toEqual({ kind: "allow", risk: "low", reasons: [{ rule: "ok", message: "fine" }] });
});

const garbage: Array<[label: string, body: string, message: RegExp]> = [
  ["a string instead of a decision", `decision := "allow"`, /malformed at decision/],
  ["an unknown kind", `decision := {"kind": "maybe", "risk": "low", "reasons": [{"rule": "x", "message": "m"}]}`, /malformed at kind/],
  ["an unknown risk", `decision := {"kind": "allow", "risk": "none", "reasons": [{"rule": "x", "message": "m"}]}`, /malformed at risk/],
  ["no reasons", `decision := {"kind": "allow", "risk": "low", "reasons": []}`, /malformed at reasons/],
  ["a reason without a rule", `decision := {"kind": "allow", "risk": "low", "reasons": [{"message": "m"}]}`, /malformed at reasons\.0\.rule/],
  ["an undefined decision", `decision := ${OK} if input.never`, /left bad\/decision undefined/],
  ["conflicting outputs", `decision := ${OK} if input.action\n\ndecision := "deny" if input.action`, /evaluation failed: .*var assignment conflict/],
  // OPA makes a failing built-in undefined (not an error) unless strict-builtin-errors is on.
  ["a division by zero", `decision := {"kind": "allow", "risk": "low", "reasons": [{"rule": "x", "message": "m", "n": 1 / count([])}]}`, /left bad\/decision undefined/],
  ["a function with conflicting outputs", `f(x) := 1 if x\n\nf(x) := 2 if x\n\ndecision := {"kind": "allow", "risk": "low", "reasons": [{"rule": "x", "message": "m", "n": f(true)}]}`, /var assignment conflict/],
];

for (const [label, body, message] of garbage) {
  test(`opa fail-closed: a policy returning ${label} denies with policy.error`, () => {
    expectPolicyError(engineFor(label.replaceAll(" ", "-"), body).evaluate(input), message);
  });
}

test("opa fail-closed: a policy that exhausts wasm memory denies, and the engine recovers", () => {
  const engine = engineFor("memory", `decision := ${OK} if count(numbers.range(1, input.n)) > 0`);
  const big = { n: 100_000_000 } as unknown as OpaInput;
  expectPolicyError(engine.evaluate(big), /evaluation failed: opa_malloc: failed/);
  expect(engine.evaluate({ n: 10 } as unknown as OpaInput).kind).toBe("allow");
});

test("opa fail-closed: bad wasm bytes deny, and load() names the problem", () => {
  const engine = createOpaEngineFromWasm(new TextEncoder().encode("not wasm at all"), "bad/decision");
  expectPolicyError(engine.evaluate(input), /not an OPA policy\.wasm/);
  expectPolicyError(engine.evaluate(input), /not an OPA policy\.wasm/);
  expect(() => engine.load()).toThrow(AegisError);
  expect(() => engine.load()).toThrow(/not an OPA policy\.wasm.*opa build -t wasm/);
});

test("opa fail-closed: a valid wasm module that is not an OPA policy denies", () => {
  // The smallest valid module: magic number and version, no sections.
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  expectPolicyError(createOpaEngineFromWasm(empty, "bad/decision").evaluate(input), /not an OPA policy\.wasm \(missing exports opa_wasm_abi_version/);
});

test("opa fail-closed: an entrypoint the policy does not have denies, naming the ones it has", () => {
  const engine = createOpaEngineFromWasm(compile("entry", `decision := ${OK}`), "bad/other");
  expectPolicyError(engine.evaluate(input), /no entrypoint bad\/other \(it has: bad\/decision\)/);
  expect(() => engine.load()).toThrow(/-e bad\/other/);
});

test("opa fail-closed: inputs that cannot be serialised or are too large deny", () => {
  const engine = createOpaEngine("permissive");
  const cyclic: Record<string, unknown> = { action: "run" };
  cyclic.self = cyclic;
  expectPolicyError(engine.evaluate(cyclic as unknown as OpaInput), /cyclic|circular/i);
  expectPolicyError(engine.evaluate({ action: "run", big: 1n } as unknown as OpaInput), /BigInt/i);
  expectPolicyError(engine.evaluate({ action: "x".repeat(2 * 1024 * 1024) } as unknown as OpaInput), /more than the 1048576 allowed/);
  // And the engine still works afterwards.
  expect(engine.evaluate({ action: "run" } as unknown as OpaInput).reasons[0]?.rule).toBe("input.malformed");
});
