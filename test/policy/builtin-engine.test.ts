import { describe, expect, test } from "bun:test";
import { combineDecisions, createBuiltinEngine, createCombinedEngine, type Decision, type PolicyInput } from "../../src/policy/index.ts";

function input(requested: Array<{ scope: string; granted: boolean }>, lockdown = false): PolicyInput {
  return {
    action: "run",
    actor: { name: "t", source: "cli" },
    argv: ["echo", "hi"],
    image: "img",
    runtime: "docker",
    requested: requested.map((r) => ({ scope: r.scope, kind: "shell.exec", risk: "medium", granted: r.granted, ...(r.granted ? { grantedBy: "shell.exec" } : {}) })),
    granted: [],
    skill: null,
    lockdown,
    guardrails: [],
    history: { windowSeconds: 600, recentDecisions: 0, recentDenies: 0 },
  };
}

describe("builtin engine", () => {
  const engine = createBuiltinEngine();

  test("builtin engine: an ungranted scope denies, naming the scope and how to grant it", async () => {
    const decision = await engine.decide(input([{ scope: "shell.exec:echo", granted: false }]));
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]).toMatchObject({ rule: "builtin.scope-missing", scope: "shell.exec:echo" });
    expect(decision.reasons[0]?.message).toContain("--scope shell.exec:echo");
  });

  test("builtin engine: a file scope that symlinks took out of its grant denies with the resolution reason", async () => {
    const base = input([]);
    const reason = "/data/link resolves to /etc, outside /data (which resolves to /data)";
    const decision = await engine.decide({ ...base, requested: [{ scope: "files.read:/data/link", kind: "files.read", risk: "medium", granted: false, reason }] });
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]?.message).toContain(reason);
  });

  test("builtin engine: all scopes granted allows, with one reason per scope", async () => {
    const decision = await engine.decide(input([{ scope: "shell.exec:echo", granted: true }]));
    expect(decision).toMatchObject({ kind: "allow", risk: "medium" });
    expect(decision.reasons[0]?.rule).toBe("builtin.scope-granted");
  });

  test("builtin engine: an agent tool call is judged by its scopes like a run", async () => {
    const call = (granted: boolean): PolicyInput => ({
      ...input([]),
      action: "tool.call",
      actor: { name: "openclaw", source: "openclaw" },
      argv: ["session_status"],
      requested: [{ scope: "tool.call:session_status", kind: "tool.call", target: "session_status", risk: "high", granted, ...(granted ? { grantedBy: "tool.call:session_*" } : {}) }],
      granted: granted ? [{ scope: "tool.call:session_*", kind: "tool.call", risk: "high" }] : [],
    });
    expect(await engine.decide(call(true))).toEqual({
      kind: "allow",
      risk: "high",
      reasons: [{ rule: "builtin.scope-granted", message: "tool.call:session_status granted by tool.call:session_*", scope: "tool.call:session_status" }],
    });
    const denied = await engine.decide(call(false));
    expect(denied).toMatchObject({ kind: "deny", risk: "high" });
    expect(denied.reasons[0]).toMatchObject({ rule: "builtin.scope-missing", scope: "tool.call:session_status" });
    // A tool call's grants live in the adapter's config, not on a --scope flag.
    expect(denied.reasons[0]?.message).toContain("adding tool.call:session_status to the grants in $AEGISCLAW_HOME/adapters/openclaw.yaml");
    expect(denied.reasons[0]?.message).not.toContain("--scope");
    expect((await engine.decide({ ...call(true), lockdown: true })).reasons[0]?.rule).toBe("builtin.lockdown");
  });

  test("builtin engine: lockdown denies whatever is granted", async () => {
    const decision = await engine.decide(input([{ scope: "shell.exec:echo", granted: true }], true));
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]?.rule).toBe("builtin.lockdown");
  });
});

describe("decision combination", () => {
  const allow: Decision = { kind: "allow", risk: "low", reasons: [{ rule: "a", message: "allowed" }] };
  const ask: Decision = { kind: "ask", risk: "high", reasons: [{ rule: "q", message: "ask" }] };
  const deny: Decision = { kind: "deny", risk: "medium", reasons: [{ rule: "d", message: "denied" }] };

  test("combine: deny overrides ask overrides allow; risk is the highest; only the winning kind's reasons", () => {
    expect(combineDecisions([allow, ask]).kind).toBe("ask");
    expect(combineDecisions([ask, deny, allow])).toMatchObject({ kind: "deny", risk: "high" });
    expect(combineDecisions([allow, deny]).reasons.map((r) => r.rule)).toEqual(["d"]);
    expect(combineDecisions([allow, allow]).reasons.map((r) => r.rule)).toEqual(["a", "a"]);
    expect(combineDecisions([allow, allow]).kind).toBe("allow");
  });

  test("combine: no decision at all is a deny", () => {
    expect(combineDecisions([]).kind).toBe("deny");
  });

  test("combined engine: an engine that throws turns the result into a deny with its error", async () => {
    const broken = { name: "broken", decide: async (): Promise<Decision> => Promise.reject(new Error("trap")) };
    const decision = await createCombinedEngine([createBuiltinEngine(), broken]).decide(input([{ scope: "shell.exec:echo", granted: true }]));
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]).toMatchObject({ rule: "policy.error" });
    expect(decision.reasons[0]?.message).toContain("trap");
  });
});
