import { AuditLog } from "../audit/index.ts";
import { auditLogOptions, exists, homeLayout, loadConfig } from "../core/index.ts";
import { AegisError } from "../shared/index.ts";

/** Refuses (bad-input) a home without config.yaml and an audit log: `what` could not be recorded. */
export function assertHomeAuditable(home: string, what: string): void {
  const layout = homeLayout(home);
  if (exists(layout.config) && exists(layout.audit)) return;
  throw new AegisError("bad-input", `${what} are recorded in the audit log, and ${home} has none yet`, {
    hint: "run `aegisclaw init` first (`aegisclaw init --yes` in scripts)",
  });
}

/** Runs `work` with the home's audit log open, for a one-shot command that records `what`; closes it after. */
export async function withHomeAudit<T>(home: string, what: string, work: (audit: AuditLog) => Promise<T>): Promise<T> {
  assertHomeAuditable(home, what);
  const layout = homeLayout(home);
  const audit = await AuditLog.open(layout.audit, auditLogOptions(loadConfig(layout.config)));
  try {
    return await work(audit);
  } finally {
    await audit.close();
  }
}
