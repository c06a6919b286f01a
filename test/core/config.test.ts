import { describe, expect, test } from "bun:test";
import { parseConfig, renderDefaultConfig } from "../../src/core/index.ts";
import { isAegisError } from "../../src/shared/index.ts";

function errorOf(text: string): { code: string; message: string } {
  try {
    parseConfig(text, "/h/config.yaml");
  } catch (error) {
    if (isAegisError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected parseConfig to fail");
}

describe("config", () => {
  test("config: the rendered default parses to the documented defaults for every template", () => {
    for (const template of ["strict", "standard", "permissive"] as const) {
      const config = parseConfig(renderDefaultConfig(template));
      expect(config.policy.template).toBe(template);
      expect(config.policy.grants).toEqual(template === "strict" ? [] : ["shell.exec"]);
      expect(config.sandbox.image).toBe("aegisclaw/base:busybox");
      expect(config.sandbox.limits.pids).toBe(128);
    }
  });

  test("config: minimal file gets fail-closed defaults (no grants)", () => {
    const config = parseConfig("version: 1\n");
    expect(config.policy.grants).toEqual([]);
    expect(config.sandbox.timeout).toBe("5m");
  });

  test("config: YAML syntax error names the file and line", () => {
    const error = errorOf("version: 1\npolicy:\n  template: [unclosed\n");
    expect(error.code).toBe("bad-input");
    expect(error.message).toMatch(/^\/h\/config\.yaml:\d+: invalid YAML/);
  });

  test("config: wrong value names the field and its line", () => {
    const error = errorOf("version: 1\nsandbox:\n  limits:\n    pids: 2\n");
    expect(error.message).toContain("/h/config.yaml:4: sandbox.limits.pids");
  });

  test("config: unknown key (a typo) is rejected, never ignored", () => {
    const error = errorOf("version: 1\nsandbox:\n  imgae: x\n");
    expect(error.message).toContain("sandbox");
    expect(error.message).toContain("imgae");
  });

  test("config: bad duration and size are rejected with the expected form", () => {
    expect(errorOf("version: 1\nsandbox:\n  timeout: soon\n").message).toMatch(/sandbox\.timeout.*duration/);
    expect(errorOf("version: 1\nsandbox:\n  limits:\n    memory: lots\n").message).toMatch(/sandbox\.limits\.memory.*size/);
  });

  test("config: wrong version and duplicate keys are rejected", () => {
    expect(errorOf("version: 2\n").message).toContain("version");
    expect(errorOf("version: 1\nversion: 1\n").code).toBe("bad-input");
  });

  test("config: empty file is rejected (version is required)", () => {
    expect(errorOf("").message).toContain("version");
  });
});
