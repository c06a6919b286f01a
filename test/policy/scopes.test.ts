import { describe, expect, test } from "bun:test";
import { createBuiltinEngine, parseEnforceableScopes, parseScope, type PolicyInput } from "../../src/policy/index.ts";
import { isAegisError } from "../../src/shared/index.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isAegisError(error) ? error.code : "not-aegis";
  }
  return undefined;
}

describe("scopes", () => {
  test("scopes: parses every kind with its risk", () => {
    expect(parseScope("shell.exec")).toMatchObject({ kind: "shell.exec", target: undefined, risk: "high" });
    expect(parseScope("shell.exec:echo")).toMatchObject({ kind: "shell.exec", target: "echo" });
    expect(parseScope("files.read:/data")).toMatchObject({ kind: "files.read", risk: "medium" });
    expect(parseScope("secrets.read:API_KEY").risk).toBe("critical");
  });

  test("scopes: unknown kinds, missing or malformed targets are bad input", () => {
    for (const bad of ["shell", "files.delete:/x", "files.read", "net.outbound", "shell.exec:", "shell.exec:a b", "shell.exec:bin/sh", "x\0"]) {
      expect(codeOf(() => parseScope(bad))).toBe("bad-input");
    }
  });

  test("scopes: kinds the sandbox cannot enforce yet are refused, not silently granted", () => {
    expect(codeOf(() => parseEnforceableScopes(["files.read:/etc"]))).toBe("bad-input");
    expect(codeOf(() => parseEnforceableScopes(["net.outbound:example.com"]))).toBe("bad-input");
    expect(parseEnforceableScopes(["shell.exec"]).length).toBe(1);
  });
});

describe("builtin engine", () => {
  const engine = createBuiltinEngine();
  const input = (granted: string[], argv0 = "echo"): PolicyInput => ({
    actor: { name: "t", source: "cli" },
    argv: [argv0, "hi"],
    image: "img",
    runtime: "docker",
    requested: [parseScope(`shell.exec:${argv0}`)],
    granted: granted.map(parseScope),
    lockdown: false,
  });

  test("builtin engine: nothing granted denies with the missing scope and how to grant it", async () => {
    const decision = await engine.decide(input([]));
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]).toMatchObject({ rule: "builtin.scope-missing", scope: "shell.exec:echo" });
    expect(decision.reasons[0]?.message).toContain("--scope");
  });

  test("builtin engine: a bare shell.exec grant covers any program; a program grant only that one", async () => {
    expect((await engine.decide(input(["shell.exec"]))).kind).toBe("allow");
    expect((await engine.decide(input(["shell.exec:echo"]))).kind).toBe("allow");
    expect((await engine.decide(input(["shell.exec:echo"], "sh"))).kind).toBe("deny");
    expect((await engine.decide(input(["shell.exec:ech"]))).kind).toBe("deny");
  });

  test("builtin engine: lockdown denies whatever is granted", async () => {
    const decision = await engine.decide({ ...input(["shell.exec"]), lockdown: true });
    expect(decision.kind).toBe("deny");
    expect(decision.reasons[0]?.rule).toBe("builtin.lockdown");
  });
});
