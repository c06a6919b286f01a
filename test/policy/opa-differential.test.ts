import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Decision } from "../../src/policy/engine.ts";
import { createOpaEngine, OPA_TEMPLATES, type OpaInput, type OpaTemplate } from "../../src/policy/opa/index.ts";

// The in-process wasm engine must decide exactly as the real OPA does on the same Rego source,
// for generated inputs (valid, borderline and malformed). One `opa eval` per template.
const CASES = 800;
const repo = join(import.meta.dir, "../..");
const opa = join(repo, ".tools/bin/opa");
if (!existsSync(opa)) throw new Error(`${opa} is missing: run scripts/build-opa.sh (the OPA tests never skip)`);

const dir = mkdtempSync(join(tmpdir(), "aegis-opa-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** mulberry32: small, seeded, good enough to spread cases. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RUN_KINDS = ["files.read", "files.write", "shell.exec", "net.outbound", "secrets.read"];
const KINDS = [...RUN_KINDS, "tool.call"];
const RISKS = ["low", "medium", "high", "critical"];
const SOURCES = ["cli", "tui", "web", "api", "ws", "mcp", "openclaw", "system"];
const ODD: unknown[] = [null, 0, 1.5, -1, "", "x", "é✓🙂", true, false, [], {}, ["a"], { a: 1 }];

function generate(seed: number, count: number): unknown[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;

  const valid = (): Record<string, unknown> => {
    // An agent's tool call (OpenClaw) is judged like a run; half of its scopes are tool.call.
    const action = chance(0.25) ? "tool.call" : "run";
    const granted: Array<Record<string, unknown>> = [];
    const requested = Array.from({ length: Math.floor(random() * 5) }, (_, index) => {
      const kind = action === "tool.call" && chance(0.5) ? "tool.call" : pick(RUN_KINDS);
      const target = chance(0.1) ? "écho ✓" : `t${index}`;
      const scope: Record<string, unknown> = { scope: `${kind}:${target}`, kind, target, risk: pick(RISKS), granted: chance(0.8) };
      if (scope.granted === true) {
        const grant = chance(0.5) ? kind : `${kind}:${target}`;
        scope.grantedBy = grant;
        // Usually listed; sometimes missing or of another kind, which the policy must catch.
        if (chance(0.9)) granted.push({ scope: grant, kind: chance(0.95) ? kind : pick(KINDS), risk: pick(RISKS) });
      }
      return scope;
    });
    const input: Record<string, unknown> = {
      action,
      actor: { name: pick(["alice", "bob", "agent-7"]), source: pick(SOURCES) },
      argv: ["echo", "hi"],
      image: "aegisclaw/base:busybox",
      runtime: pick(["docker", "gvisor", "bwrap"]),
      requested,
      granted,
      skill: chance(0.6) ? null : { name: "git-status", ...(chance(0.8) ? { signed: pick([true, false, "true", 1]) } : {}) },
      lockdown: chance(0.1),
      guardrails: chance(0.7) ? [] : Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ kind: pick(["prompt-injection", "secret-leak"]), severity: pick(RISKS) })),
      history: { recentDecisions: Math.floor(random() * 10), recentDenies: Math.floor(random() * 3) },
    };
    if (chance(0.2)) for (const field of ["argv", "image", "runtime", "skill", "guardrails", "history"]) if (chance(0.5)) delete input[field];
    if (action === "tool.call") for (const field of ["image", "runtime"]) delete input[field];
    return input;
  };

  const malformed = (): unknown => {
    if (chance(0.1)) return pick(ODD);
    const input = valid();
    const field = pick(["action", "actor", "requested", "granted", "lockdown", "skill", "guardrails", "argv", "image", "runtime", "history", "requested[]", "granted[]", "actor.source"]);
    if (field === "requested[]" || field === "granted[]") {
      const list = input[field.slice(0, -2)];
      if (Array.isArray(list)) list.push(chance(0.5) ? pick(ODD) : { scope: "x", kind: pick([...KINDS, "shell.run"]), risk: pick([...RISKS, "severe"]), granted: pick([true, false, "yes"]) });
    } else if (field === "actor.source") {
      input.actor = { name: "alice", source: pick(["telnet", 1, null]) };
    } else if (chance(0.3)) {
      delete input[field];
    } else {
      input[field] = pick(ODD);
    }
    return input;
  };

  return Array.from({ length: count }, () => (chance(0.2) ? malformed() : valid()));
}

/** The real OPA's decisions for all cases in one process: an object keyed by case index. */
function opaDecisions(template: OpaTemplate, cases: unknown[]): Decision[] {
  const data = join(dir, `${template}-cases.json`);
  writeFileSync(data, JSON.stringify({ cases }));
  const query = `{i: d | some i; c := data.cases[i]; d := data.aegisclaw.${template}.decision with input as c}`;
  const proc = Bun.spawnSync([opa, "eval", "-f", "json", "-d", join(repo, `policies/${template}.rego`), "-d", data, query], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`opa eval ${template} failed: ${proc.stderr.toString()}`);
  const output = JSON.parse(proc.stdout.toString()) as { result: Array<{ expressions: Array<{ value: Record<string, Decision> }> }> };
  const byIndex = output.result[0]?.expressions[0]?.value ?? {};
  return cases.map((_, index) => {
    const decision = byIndex[String(index)];
    if (!decision) throw new Error(`opa eval ${template}: no decision for case ${index}`);
    return decision;
  });
}

const seed = 0x41e915;
const cases = generate(seed, CASES);
const wasmCache = new Map<OpaTemplate, Decision[]>();
function wasmDecisions(template: OpaTemplate): Decision[] {
  let decisions = wasmCache.get(template);
  if (!decisions) {
    const engine = createOpaEngine(template);
    decisions = cases.map((input) => engine.evaluate(input as OpaInput));
    wasmCache.set(template, decisions);
  }
  return decisions;
}

for (const template of OPA_TEMPLATES) {
  test(`opa differential: ${template} wasm decides like opa eval on ${CASES} generated inputs (seed ${seed})`, () => {
    const wasm = wasmDecisions(template);
    const expected = opaDecisions(template, cases);
    const mismatches = cases.flatMap((input, index) => (Bun.deepEquals(wasm[index], expected[index], true) ? [] : [{ index, input, wasm: wasm[index], opa: expected[index] }]));
    expect(mismatches.slice(0, 3)).toEqual([]);
    // The generator must reach every kind of decision and plenty of malformed input, or the
    // comparison proves little.
    expect([...new Set(wasm.map((decision) => decision.kind))].sort()).toEqual(["allow", "ask", "deny"]);
    expect(wasm.filter((decision) => decision.reasons.some((reason) => reason.rule === "input.malformed")).length).toBeGreaterThan(CASES / 10);
    const toolCalls = cases.filter((input) => (input as { action?: unknown; requested?: unknown } | null)?.action === "tool.call" && JSON.stringify(input).includes('"kind":"tool.call"'));
    expect(toolCalls.length).toBeGreaterThan(CASES / 20);
  });
}

test("opa differential: strict is at least as cautious as standard, and standard as permissive", () => {
  const order = { allow: 0, ask: 1, deny: 2 } as const;
  const [strict, standard, permissive] = [wasmDecisions("strict"), wasmDecisions("standard"), wasmDecisions("permissive")];
  const violations = cases.flatMap((input, index) => {
    const [a, b, c] = [strict[index], standard[index], permissive[index]];
    if (!a || !b || !c) return [{ index, input, problem: "missing decision" }];
    const ordered = order[a.kind] >= order[b.kind] && order[b.kind] >= order[c.kind];
    // The risk comes from the shared block, so it never depends on the template.
    const sameRisk = a.risk === b.risk && b.risk === c.risk;
    return ordered && sameRisk ? [] : [{ index, input, problem: `${a.kind}/${b.kind}/${c.kind} ${a.risk}/${b.risk}/${c.risk}` }];
  });
  expect(violations.slice(0, 3)).toEqual([]);
});
