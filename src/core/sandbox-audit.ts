import type { AuditRecord } from "../audit/index.ts";
import type { PoolRefusal } from "../sandbox/index.ts";

/** The audit entry for a pooled container refused after its claim (docs/audit-format.md, `sandbox` entries). */
export function poolRefusalRecord(refusal: PoolRefusal): AuditRecord {
  const problems = refusal.problems.length > 0 ? refusal.problems.slice(0, 50).map((problem) => problem.slice(0, 500)) : ["(no detail)"];
  return {
    type: "sandbox",
    actor: { name: "aegisclaw", source: "system" },
    sandbox: { event: "pool-refused", container: refusal.containerId, problems },
    note: `REFUSED pooled container ${refusal.containerId.slice(0, 12)}: ${problems.join("; ").slice(0, 1500)}; removed, the run started cold`,
  };
}

/**
 * Appends each refusal to the audit log. The run does not wait for it (the refusal already
 * made it safe: nothing ran in that container); a failed append is reported on stderr.
 */
export function poolRefusalAuditor(audit: () => Promise<{ append(record: AuditRecord): Promise<unknown> }>): (refusal: PoolRefusal) => void {
  return (refusal) => {
    void audit()
      .then((log) => log.append(poolRefusalRecord(refusal)))
      .catch((error: unknown) => process.stderr.write(`aegisclaw: could not record the refused pooled container ${refusal.containerId.slice(0, 12)} in the audit log: ${error instanceof Error ? error.message : String(error)}\n`));
  };
}
