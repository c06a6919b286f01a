import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Decision, PolicyEngine } from "../../src/policy/engine.ts";
import { createOpaEngine, OPA_TEMPLATES, type OpaInput, type OpaRequestedScope, type OpaTemplate } from "../../src/policy/opa/index.ts";

const repo = join(import.meta.dir, "../..");

const base: OpaInput = {
  action: "run",
  actor: { name: "alice", source: "cli" },
  argv: ["echo", "hi"],
  image: "aegisclaw/base:busybox",
  runtime: "docker",
  requested: [{ scope: "shell.exec:echo", kind: "shell.exec", target: "echo", risk: "medium", granted: true, grantedBy: "shell.exec" }],
  granted: [{ scope: "shell.exec", kind: "shell.exec", risk: "medium" }],
  skill: null,
  lockdown: false,
  guardrails: [],
  history: { recentDecisions: 3, recentDenies: 0 },
};

/** The example input with one granted scope of `kind` at `risk`. */
function only(kind: OpaRequestedScope["kind"], risk: OpaRequestedScope["risk"], patch: Partial<OpaInput> = {}): OpaInput {
  return { ...base, requested: [{ scope: `${kind}:x`, kind, risk, granted: true, grantedBy: kind }], granted: [{ scope: kind, kind, risk }], ...patch };
}

// Malformed inputs go through the typed API on purpose: the policy must deny them itself.
function loose(value: unknown): OpaInput {
  return value as OpaInput;
}

const engines = new Map(OPA_TEMPLATES.map((template) => [template, createOpaEngine(template)]));
function decide(template: OpaTemplate, input: OpaInput): Decision {
  const engine = engines.get(template);
  if (!engine) throw new Error(`no engine for ${template}`);
  return engine.evaluate(input);
}

/** An agent's tool call as the OpenClaw adapter sends it: action "tool.call", no image or runtime. */
function toolCall(granted: boolean, patch: Partial<OpaInput> = {}): OpaInput {
  const { image: _image, runtime: _runtime, ...rest } = base;
  const scope: OpaRequestedScope = granted
    ? { scope: "tool.call:cron", kind: "tool.call", target: "cron", risk: "high", granted: true, grantedBy: "tool.call:*" }
    : { scope: "tool.call:cron", kind: "tool.call", target: "cron", risk: "high", granted: false };
  return { ...rest, action: "tool.call", actor: { name: "openclaw", source: "openclaw" }, argv: ["cron"], requested: [scope], granted: granted ? [{ scope: "tool.call:*", kind: "tool.call", risk: "high" }] : [], ...patch };
}

type Row = [label: string, input: OpaInput, kind: Decision["kind"], rule: string, extra?: { scope?: string; field?: string; risk?: Decision["risk"] }];

const common: Row[] = [
  ["lockdown", { ...base, lockdown: true }, "deny", "lockdown", { field: "lockdown" }],
  ["ungranted scope", { ...base, requested: [{ scope: "files.read:/etc", kind: "files.read", risk: "medium", granted: false }] }, "deny", "scope.not-granted", { scope: "files.read:/etc" }],
  ["granted flag without a listed grant", { ...base, granted: [] }, "deny", "scope.not-granted", { scope: "shell.exec:echo" }],
  ["high guardrail signal", { ...base, guardrails: [{ kind: "prompt-injection", severity: "high" }] }, "deny", "guardrail.signal", { field: "guardrails" }],
  ["critical guardrail signal", { ...base, guardrails: [{ kind: "secret-leak", severity: "critical" }] }, "deny", "guardrail.signal"],
  ["no input", loose(undefined), "deny", "input.malformed", { field: "input", risk: "high" }],
  ["array input", loose([base]), "deny", "input.malformed", { field: "input" }],
  ["missing lockdown", loose({ ...base, lockdown: undefined }), "deny", "input.malformed", { field: "lockdown" }],
  ["unknown actor source", loose({ ...base, actor: { name: "a", source: "telnet" } }), "deny", "input.malformed", { field: "actor" }],
  ["unknown scope kind", loose({ ...base, requested: [{ scope: "x", kind: "shell.run", risk: "low", granted: false }] }), "deny", "input.malformed", { field: "requested[0]" }],
  ["granted without grantedBy", loose({ ...base, requested: [{ scope: "x", kind: "shell.exec", risk: "medium", granted: true }] }), "deny", "input.malformed", { field: "requested[0]" }],
  ["unsigned skill under lockdown", { ...base, lockdown: true, skill: { name: "s", signed: false } }, "deny", "lockdown"],
  ["ungranted tool call", toolCall(false), "deny", "scope.not-granted", { scope: "tool.call:cron", risk: "high" }],
  ["tool call under lockdown", toolCall(true, { lockdown: true }), "deny", "lockdown"],
  ["tool call granted by another kind", toolCall(true, { granted: [{ scope: "tool.call:*", kind: "shell.exec", risk: "medium" }] }), "deny", "scope.not-granted"],
];

const perTemplate: Record<OpaTemplate, Row[]> = {
  strict: [
    ["command", base, "ask", "strict.approval-required", { scope: "shell.exec:echo", risk: "medium" }],
    ["network", only("net.outbound", "high"), "ask", "strict.approval-required", { scope: "net.outbound:x", risk: "high" }],
    ["file write", only("files.write", "high"), "ask", "strict.approval-required"],
    ["secret", only("secrets.read", "critical"), "ask", "strict.approval-required", { risk: "critical" }],
    ["granted read", only("files.read", "medium"), "allow", "scope.granted", { scope: "files.read:x" }],
    ["no scope", { ...base, requested: [] }, "deny", "strict.no-scope", { field: "requested", risk: "low" }],
    ["unsigned skill", only("files.read", "medium", { skill: { name: "git-status", signed: false } }), "deny", "strict.unsigned-skill", { field: "skill" }],
    ["signed skill", only("files.read", "medium", { skill: { name: "git-status", signed: true } }), "allow", "scope.granted"],
    ["medium guardrail signal", only("files.read", "medium", { guardrails: [{ kind: "prompt-injection", severity: "medium" }] }), "ask", "strict.guardrail-signal"],
    ["granted tool call", toolCall(true), "ask", "strict.approval-required", { scope: "tool.call:cron", risk: "high" }],
    ["tool call sent as low risk", only("tool.call", "low"), "ask", "strict.approval-required", { risk: "high" }],
  ],
  standard: [
    ["granted command", base, "allow", "scope.granted", { scope: "shell.exec:echo", risk: "medium" }],
    ["granted read", only("files.read", "medium"), "allow", "scope.granted"],
    ["no scope", { ...base, requested: [] }, "allow", "scope.none", { risk: "low" }],
    ["file write", only("files.write", "high"), "ask", "standard.high-risk", { scope: "files.write:x", risk: "high" }],
    ["network", only("net.outbound", "high"), "ask", "standard.high-risk"],
    ["secret", only("secrets.read", "critical"), "ask", "standard.high-risk", { risk: "critical" }],
    ["secret sent as low risk", only("secrets.read", "low"), "ask", "standard.high-risk", { risk: "critical" }],
    ["unsigned skill", { ...base, skill: { name: "git-status", signed: false } }, "ask", "standard.unsigned-skill", { field: "skill" }],
    ["skill without signed", { ...base, skill: { name: "git-status" } }, "ask", "standard.unsigned-skill"],
    ["signed skill", { ...base, skill: { name: "git-status", signed: true } }, "allow", "scope.granted"],
    ["medium guardrail signal", { ...base, guardrails: [{ kind: "prompt-injection", severity: "medium" }] }, "allow", "scope.granted"],
    ["granted tool call", toolCall(true), "ask", "standard.high-risk", { scope: "tool.call:cron", risk: "high" }],
    ["tool call sent as low risk", only("tool.call", "low"), "ask", "standard.high-risk", { risk: "high" }],
  ],
  permissive: [
    ["granted command", base, "allow", "scope.granted"],
    ["file write", only("files.write", "high"), "allow", "scope.granted", { risk: "high" }],
    ["network", only("net.outbound", "high"), "allow", "scope.granted"],
    ["secret", only("secrets.read", "critical"), "ask", "permissive.critical-risk", { scope: "secrets.read:x", risk: "critical" }],
    ["unsigned skill", { ...base, skill: { name: "git-status", signed: false } }, "allow", "scope.granted"],
    ["no scope", { ...base, requested: [] }, "allow", "scope.none", { risk: "low" }],
    ["granted tool call", toolCall(true), "allow", "scope.granted", { scope: "tool.call:cron", risk: "high" }],
    ["critical tool call", toolCall(true, { requested: [{ scope: "tool.call:cron", kind: "tool.call", risk: "critical", granted: true, grantedBy: "tool.call:*" }] }), "ask", "permissive.critical-risk"],
  ],
};

for (const template of OPA_TEMPLATES) {
  describe(`opa ${template}`, () => {
    for (const [label, input, kind, rule, extra] of [...common, ...perTemplate[template]]) {
      test(`opa ${template}: ${label} -> ${kind} (${rule})`, () => {
        const decision = decide(template, input);
        expect(decision.kind).toBe(kind);
        expect(decision.reasons.length).toBeGreaterThan(0);
        const reason = decision.reasons.find((candidate) => candidate.rule === rule);
        expect(reason).toBeDefined();
        if (extra?.scope) expect(reason?.scope).toBe(extra.scope);
        if (extra?.field) expect(reason?.field).toBe(extra.field);
        if (extra?.risk) expect(decision.risk).toBe(extra.risk);
        for (const other of decision.reasons) expect(other.message.length).toBeGreaterThan(0);
      });
    }
  });
}

test("opa engine: reasons name the scope and how it was granted", () => {
  expect(decide("standard", base)).toEqual({
    kind: "allow",
    risk: "medium",
    reasons: [{ rule: "scope.granted", message: "scope shell.exec:echo granted by shell.exec", scope: "shell.exec:echo" }],
  });
});

test("opa engine: a deny carries only deny reasons, not the asks it overrode", () => {
  const decision = decide("standard", { ...only("secrets.read", "critical"), lockdown: true, skill: { name: "s", signed: false } });
  expect(decision.reasons.map((reason) => reason.rule)).toEqual(["lockdown"]);
  expect(decision.risk).toBe("critical");
});

test("opa engine: decide() is evaluate() behind the async PolicyEngine port", async () => {
  // Type-level check too: the engine plugs into the port as it is.
  const engine: PolicyEngine & ReturnType<typeof createOpaEngine> = createOpaEngine("standard");
  expect(engine.name).toBe("opa:standard");
  expect(engine.entrypoint).toBe("aegisclaw/standard/decision");
  expect(await engine.decide(base)).toEqual(engine.evaluate(base));
});

test("opa engine: importing the module loads neither opa-wasm nor zod until the first decision", () => {
  const script = `
    const loaded = () => Object.keys(require.cache).filter((key) => /opa-wasm|[\\\\/]zod[\\\\/]/.test(key)).length;
    const { createOpaEngine } = await import(${JSON.stringify(join(repo, "src/policy/opa/index.ts"))});
    const engine = createOpaEngine("standard");
    const before = loaded();
    engine.evaluate({});
    console.log(JSON.stringify({ before, after: loaded() }));
  `;
  const proc = Bun.spawnSync([process.execPath, "-e", script], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  expect(proc.stderr.toString()).toBe("");
  const counts = JSON.parse(proc.stdout.toString()) as { before: number; after: number };
  expect(counts.before).toBe(0);
  expect(counts.after).toBeGreaterThan(0);
});
