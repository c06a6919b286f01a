import { AuditLog } from "../audit/index.ts";
import { exists, homeLayout, loadConfig, parseSize } from "../core/index.ts";
import { AegisError } from "../shared/index.ts";

/** Refuses (bad-input) a home without config.yaml and an audit log: `what` could not be recorded. */
export function assertHomeAuditable(home: string, what: string): void {
  const layout = homeLayout(home);
  if (exists(layout.config) && exists(layout.audit)) return;
  throw new AegisError("bad-input", `${what} are recorded in the audit log, and ${home} has none yet`, {
    hint: "run `aegisclaw init` first (`aegisclaw init --yes` in scripts)",
  });
}

/** Opens the home's audit log for a one-shot command that records a change (close it after). */
export async function openHomeAudit(home: string, what: string): Promise<AuditLog> {
  assertHomeAuditable(home, what);
  const layout = homeLayout(home);
  const config = loadConfig(layout.config);
  return AuditLog.open(layout.audit, { checkpointEvery: config.audit.checkpointEvery, segmentMaxBytes: parseSize(config.audit.segmentMaxBytes) ?? 64 * 1024 ** 2 });
}
