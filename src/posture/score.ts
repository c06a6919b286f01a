/**
 * The arithmetic of the posture score: each check's weight, how earned points become a status,
 * and the grade. Weights are documented (and must stay in step with) docs/posture.md.
 */
import type { PostureCheck, PostureReport } from "./types.ts";

/**
 * Points per check; they sum to 100. Lockdown is informational (0): an active lockdown is the
 * safest state there is, but it says nothing about how well the home is set up.
 */
export const POSTURE_WEIGHTS: Readonly<Record<PostureCheck["id"], number>> = {
  runtime: 20,
  seccomp: 10,
  network: 10,
  policy: 15,
  secrets: 10,
  audit: 15,
  "server-auth": 10,
  "skill-signing": 10,
  lockdown: 0,
};

/** The order checks are reported in: isolation first, then policy, secrets, record, exposure. */
export const POSTURE_CHECK_ORDER: readonly PostureCheck["id"][] = ["runtime", "seccomp", "network", "policy", "secrets", "audit", "server-auth", "skill-signing", "lockdown"];

/** A: 90+, B: 80+, C: 70+, D: 60+, else F. */
export function gradeFor(score: number): PostureReport["grade"] {
  if (score >= 90) return "A";
  if (score >= 80) return "B";
  if (score >= 70) return "C";
  if (score >= 60) return "D";
  return "F";
}

/** pass when every point is earned, fail when none is, partial in between. */
export function statusFor(earned: number, weight: number): PostureCheck["status"] {
  if (earned >= weight) return "pass";
  return earned <= 0 ? "fail" : "partial";
}

/** What a check function returns; the weight comes from POSTURE_WEIGHTS, never from the check. */
export interface CheckResult {
  earned: number;
  /** Overrides the status derived from the points (e.g. "unknown" when nothing could be observed). */
  status?: PostureCheck["status"];
  detail: string;
  fix?: string;
}

/** Builds one PostureCheck, clamping points to [0, weight] and dropping a fix when nothing was lost. */
export function makeCheck(id: PostureCheck["id"], title: string, result: CheckResult): PostureCheck {
  const weight = POSTURE_WEIGHTS[id];
  const earned = Math.max(0, Math.min(weight, result.earned));
  const check: PostureCheck = { id, title, weight, earned, status: result.status ?? statusFor(earned, weight), detail: result.detail };
  if (earned < weight) {
    // Every lost point must come with a way to earn it back (docs/posture.md).
    if (!result.fix) throw new Error(`posture check ${id} lost points without a fix`);
    check.fix = result.fix;
  }
  return check;
}

/** Sums the checks into a report, ordered as POSTURE_CHECK_ORDER. */
export function buildReport(checks: PostureCheck[], now: Date): PostureReport {
  const ordered = [...checks].sort((a, b) => POSTURE_CHECK_ORDER.indexOf(a.id) - POSTURE_CHECK_ORDER.indexOf(b.id));
  const score = ordered.reduce((sum, check) => sum + check.earned, 0);
  return { score, grade: gradeFor(score), checks: ordered, computedAt: now.toISOString() };
}
