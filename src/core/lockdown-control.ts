import type { AuditLog, AuditSource } from "../audit/index.ts";
import type { SandboxRuntime } from "../sandbox/index.ts";
import type { EventBus } from "./events.ts";
import type { LockdownStore } from "./lockdown.ts";

/** Result of engaging lockdown: the state is persisted even when later steps fail. */
export interface LockdownReport {
  killed: number;
  killError?: string;
  auditError?: string;
  auditSeq?: number;
}

interface LockdownDeps {
  store: LockdownStore;
  /** Kills every sandbox (the app's killAllSandboxes: Docker's and bwrap's). */
  runtime: Pick<SandboxRuntime, "killAll">;
  bus: EventBus;
  /** Opening the audit log may fail; lockdown must still take effect, so it is opened late. */
  openAudit: () => Promise<AuditLog>;
}

/**
 * Panic: persist the flag first (so every new run is refused from this instant, in every
 * process), then kill every AegisClaw container on the engine, then record it. A failure to
 * kill or to audit is reported but never undoes the lockdown.
 */
export async function engageLockdown(deps: LockdownDeps, actor: { name: string; source: AuditSource }, reason: string): Promise<LockdownReport> {
  deps.store.write({ active: true, reason, since: new Date().toISOString(), actor: actor.name });
  const report: LockdownReport = { killed: 0 };
  try {
    report.killed = await deps.runtime.killAll();
  } catch (error) {
    report.killError = (error as Error).message;
  }
  try {
    const audit = await deps.openAudit();
    const entry = await audit.append({
      type: "lockdown",
      actor,
      note: reason,
      ...(report.killError ? { result: { exitCode: 1, durationMs: 0, timedOut: false, stdoutBytes: 0, stderrBytes: 0, error: `kill failed: ${report.killError}` } } : {}),
    });
    report.auditSeq = entry.seq;
  } catch (error) {
    report.auditError = (error as Error).message;
  }
  deps.bus.publish("lockdown.changed", { active: true, reason, killed: report.killed });
  return report;
}

/** Lifts lockdown. Recorded first: if the record cannot be written, the lockdown stays. */
export async function releaseLockdown(deps: Omit<LockdownDeps, "runtime">, actor: { name: string; source: AuditSource }): Promise<{ auditSeq: number; wasActive: boolean }> {
  const previous = deps.store.read();
  const audit = await deps.openAudit();
  const entry = await audit.append({ type: "unlock", actor, note: previous.reason ? `lifted lockdown: ${previous.reason}` : "lifted lockdown" });
  deps.store.write({ active: false, since: new Date().toISOString(), actor: actor.name });
  deps.bus.publish("lockdown.changed", { active: false });
  return { auditSeq: entry.seq, wasActive: previous.active };
}
