import { computePosture, type PostureCheck, type PostureReport } from "../../posture/index.ts";
import type { CliContext } from "../context.ts";

const LABEL: Record<PostureCheck["status"], string> = { pass: "PASS", partial: "PART", fail: "FAIL", unknown: "UNKN" };
const COLOR: Record<PostureCheck["status"], string> = { pass: "\x1b[32m", partial: "\x1b[33m", fail: "\x1b[31m", unknown: "\x1b[36m" };

/**
 * `posture [--json]`: the home's security score (0–100), grade and per-check breakdown, each
 * lost point with its fix. Always exit 0: a low score is information, not a failure (doctor is
 * the command whose exit code says something is broken).
 */
export async function runPosture(_options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const report = await computePosture(ctx.home);
  ctx.stdout(ctx.json ? `${JSON.stringify(report)}\n` : render(report, ctx.isTty && !process.env.NO_COLOR));
  return 0;
}

function render(report: PostureReport, color: boolean): string {
  const titleWidth = Math.max(...report.checks.map((check) => check.title.length));
  const lines = [`AegisClaw posture: ${report.score}/100, grade ${report.grade}`];
  for (const check of report.checks) {
    // Weight 0 (lockdown) is context, not a verdict.
    const text = check.weight === 0 ? "INFO" : LABEL[check.status];
    const label = color && check.weight > 0 ? `${COLOR[check.status]}${text}\x1b[0m` : text;
    const points = check.weight === 0 ? "  info" : `${String(check.earned).padStart(2)}/${String(check.weight).padEnd(3)}`;
    lines.push(`  ${label}  ${points} ${check.title.padEnd(titleWidth)}  ${check.detail}`);
    if (check.fix) lines.push(`  ${"".padEnd(4 + 2 + 6 + 1 + titleWidth)}  fix: ${check.fix}`);
  }
  lines.push(`computed ${report.computedAt}; weights and checks: docs/posture.md`);
  return `${lines.join("\n")}\n`;
}
