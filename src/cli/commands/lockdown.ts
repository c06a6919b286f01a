import { mkdirSync } from "node:fs";
import { assemble } from "../../app.ts";
import { Config, engageLockdown, exists, homeLayout, loadConfig, releaseLockdown } from "../../core/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";

/**
 * `lockdown [--reason R]`. Must work even when config.yaml is broken or missing: a human can
 * always stop everything (DESIGN.md invariant 5), so a config problem falls back to defaults.
 */
export async function runLockdown(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const reason = options.reason === undefined ? "manual lockdown" : String(options.reason);
  const app = appForLockdown(ctx);
  try {
    const report = await engageLockdown(
      { store: app.lockdown, runtime: { killAll: app.killAllSandboxes }, bus: app.bus, openAudit: app.openAudit },
      localActor(),
      reason,
    );
    if (ctx.json) ctx.stdout(`${JSON.stringify({ active: true, reason, ...report })}\n`);
    else ctx.stderr(`LOCKDOWN engaged: ${report.killed} sandbox(es) killed; every new run is refused until \`aegisclaw unlock\`\n`);
    if (report.killError) ctx.stderr(`aegisclaw: warning: could not kill sandboxes: ${report.killError}\n  fix: check Docker (\`aegisclaw doctor\`); runs will still stop themselves when they see the lockdown flag\n`);
    if (report.auditError) ctx.stderr(`aegisclaw: warning: lockdown is active but could not be audited: ${report.auditError}\n`);
    return report.auditError || report.killError ? 1 : 0;
  } finally {
    await app.close();
  }
}

/** `unlock`: recorded in the audit log before the flag is lifted. */
export async function runUnlock(ctx: CliContext): Promise<number> {
  const app = appForLockdown(ctx);
  try {
    const result = await releaseLockdown({ store: app.lockdown, bus: app.bus, openAudit: app.openAudit }, localActor());
    if (ctx.json) ctx.stdout(`${JSON.stringify({ active: false, ...result })}\n`);
    else ctx.stderr(result.wasActive ? "lockdown lifted; runs are allowed again\n" : "lockdown was not active\n");
    return 0;
  } finally {
    await app.close();
  }
}

function appForLockdown(ctx: CliContext) {
  const layout = homeLayout(ctx.home);
  let config: Config;
  try {
    config = loadConfig(layout.config);
  } catch (error) {
    if (exists(layout.config)) {
      ctx.stderr(`aegisclaw: warning: ${(error as AegisError).message}; using default settings for lockdown\n`);
    }
    config = Config.parse({ version: 1 });
  }
  mkdirSync(layout.state, { recursive: true, mode: 0o700 });
  return assemble(layout, config);
}
