/** `aegisclaw posture` through its command function with a captured context. */
import { beforeAll, describe, expect, test } from "bun:test";
import { runPosture } from "../../src/cli/commands/posture.ts";
import { POSTURE_CHECK_ORDER, type PostureReport } from "../../src/posture/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { capture, initHome } from "./helpers.ts";

beforeAll(requireDocker);

describe("posture command", () => {
  test("posture cli: --json prints one PostureReport and exits 0", async () => {
    const ctx = capture(await initHome("permissive"), true);
    expect(await runPosture({}, ctx)).toBe(0);
    const lines = ctx.out().trim().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] ?? "") as PostureReport;
    expect(Object.keys(report).sort()).toEqual(["checks", "computedAt", "grade", "score"]);
    expect(report.checks.map((check) => check.id)).toEqual([...POSTURE_CHECK_ORDER]);
    expect(report.checks.reduce((sum, check) => sum + check.weight, 0)).toBe(100);
    expect(report.score).toBe(report.checks.reduce((sum, check) => sum + check.earned, 0));
    expect(["A", "B", "C", "D", "F"]).toContain(report.grade);
    expect(Number.isNaN(Date.parse(report.computedAt))).toBe(false);
    for (const check of report.checks) {
      expect(typeof check.title).toBe("string");
      expect(["pass", "partial", "fail", "unknown"]).toContain(check.status);
      expect(check.detail.length).toBeGreaterThan(0);
      // A fix exactly where points were lost.
      expect(`${check.id}:${typeof check.fix === "string"}`).toBe(`${check.id}:${check.earned < check.weight}`);
    }
    expect(report.checks.find((check) => check.id === "policy")).toMatchObject({ earned: 5, status: "partial" });
    expect(ctx.err()).toBe("");
  });

  test("posture cli: the human table shows the score, the grade, each check and its fix", async () => {
    const ctx = capture(await initHome(), false);
    expect(await runPosture({}, ctx)).toBe(0);
    const text = ctx.out();
    expect(text).toMatch(/^AegisClaw posture: 76\/100, grade C\n/);
    expect(text).toContain("PART  12/15  Policy template");
    expect(text).toContain("fix: aegisclaw policy use strict");
    expect(text).toContain("FAIL   0/10  Secret store");
    expect(text).toContain("INFO    info Lockdown");
    // No colour codes when stdout is not a terminal.
    expect(text).not.toContain("\x1b[");
  });
});
