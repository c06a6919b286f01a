import { runDoctorChecks, type Check } from "../../doctor/index.ts";
import type { CliContext } from "../context.ts";

const LABEL: Record<Check["status"], string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };
const COLOR: Record<Check["status"], string> = { pass: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m" };

/** `doctor [--json]`: exit 0 when nothing fails (warnings are allowed). */
export async function runDoctor(ctx: CliContext): Promise<number> {
  const checks = await runDoctorChecks(ctx.home);
  const failed = checks.filter((check) => check.status === "fail").length;
  const warned = checks.filter((check) => check.status === "warn").length;
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ home: ctx.home, ok: failed === 0, checks })}\n`);
    return failed === 0 ? 0 : 1;
  }
  const color = ctx.isTty && !process.env.NO_COLOR;
  const lines = [`AegisClaw doctor (home: ${ctx.home})`];
  for (const check of checks) {
    const label = color ? `${COLOR[check.status]}${LABEL[check.status]}\x1b[0m` : LABEL[check.status];
    lines.push(`  ${label}  ${check.id.padEnd(11)} ${check.message}`);
    if (check.fix && check.status !== "pass") lines.push(`        ${"".padEnd(11)} fix: ${check.fix}`);
  }
  lines.push(`summary: ${checks.length - failed - warned} ok, ${warned} warning(s), ${failed} failing`);
  ctx.stdout(`${lines.join("\n")}\n`);
  return failed === 0 ? 0 : 1;
}
