/** Score arithmetic: weights, grades, statuses, and the rule that every lost point has a fix. */
import { describe, expect, test } from "bun:test";
import { gradeFor, POSTURE_CHECK_ORDER, POSTURE_WEIGHTS } from "../../src/posture/index.ts";
import { buildReport, makeCheck, statusFor } from "../../src/posture/score.ts";

describe("posture score", () => {
  test("posture: weights sum to 100 and every check id has one, in report order", () => {
    expect(Object.values(POSTURE_WEIGHTS).reduce((sum, weight) => sum + weight, 0)).toBe(100);
    expect([...POSTURE_CHECK_ORDER].sort() as string[]).toEqual(Object.keys(POSTURE_WEIGHTS).sort());
    // Lockdown is informational: it can neither add nor cost points.
    expect(POSTURE_WEIGHTS.lockdown).toBe(0);
  });

  test("posture: grade boundaries are A>=90, B>=80, C>=70, D>=60, else F", () => {
    const cases: Array<[number, string]> = [
      [100, "A"],
      [90, "A"],
      [89, "B"],
      [80, "B"],
      [79, "C"],
      [70, "C"],
      [69, "D"],
      [60, "D"],
      [59, "F"],
      [0, "F"],
    ];
    for (const [score, grade] of cases) expect(`${score}:${gradeFor(score)}`).toBe(`${score}:${grade}`);
  });

  test("posture: status follows the points (all = pass, none = fail, some = partial)", () => {
    expect(statusFor(10, 10)).toBe("pass");
    expect(statusFor(0, 10)).toBe("fail");
    expect(statusFor(4, 10)).toBe("partial");
    expect(statusFor(0, 0)).toBe("pass");
  });

  test("posture: a check clamps its points to its weight and keeps an explicit status", () => {
    expect(makeCheck("audit", "Audit", { earned: 99, detail: "x" }).earned).toBe(15);
    const unknown = makeCheck("skill-signing", "Skills", { earned: 10, status: "unknown", detail: "nothing to check" });
    expect(unknown).toMatchObject({ weight: 10, earned: 10, status: "unknown" });
    expect(unknown.fix).toBeUndefined();
  });

  test("posture: losing points without a fix is a programming error, and a full check carries no fix", () => {
    expect(() => makeCheck("policy", "Policy", { earned: 5, detail: "permissive" })).toThrow(/without a fix/);
    expect(makeCheck("policy", "Policy", { earned: 15, detail: "strict", fix: "not needed" }).fix).toBeUndefined();
  });

  test("posture: the report sums earned points, orders checks and grades the sum", () => {
    const checks = [
      makeCheck("lockdown", "Lockdown", { earned: 0, detail: "not active" }),
      makeCheck("runtime", "Runtime", { earned: 14, detail: "runc", fix: "gvisor" }),
      makeCheck("audit", "Audit", { earned: 15, detail: "ok" }),
      makeCheck("policy", "Policy", { earned: 12, detail: "standard", fix: "strict" }),
    ];
    const report = buildReport(checks, new Date("2026-01-02T03:04:05Z"));
    expect(report.score).toBe(41);
    expect(report.grade).toBe("F");
    expect(report.checks.map((check) => check.id)).toEqual(["runtime", "policy", "audit", "lockdown"]);
    expect(report.computedAt).toBe("2026-01-02T03:04:05.000Z");
  });
});
