import { AUDIT_SOURCES, type AuditRecord, type AuditSource } from "../audit/index.ts";
import type { EgressAuditor, EgressEvent } from "../sandbox/index.ts";

/**
 * The audit entry for one egress proxy decision: bound to the run by runId and requestHash,
 * with a one-line note so `aegisclaw logs` shows what happened without --json.
 */
export function egressAuditRecord(event: EgressEvent): AuditRecord {
  const source = AUDIT_SOURCES.find((known): known is AuditSource => known === event.actor.source);
  // The actor came from a validated request; anything else is a bug, and a failed record refuses the connection.
  if (source === undefined) throw new Error(`egress event with an unknown actor source ${JSON.stringify(event.actor.source)}`);
  const target = event.host === undefined ? "" : ` ${event.host.includes(":") ? `[${event.host}]` : event.host}${event.port === undefined ? "" : `:${event.port}`}`;
  return {
    type: "egress",
    actor: { name: event.actor.name, source },
    runId: event.runId,
    requestHash: event.requestHash,
    egress: {
      outcome: event.outcome,
      rule: event.rule,
      reason: event.reason,
      client: event.client,
      ...(event.method ? { method: event.method } : {}),
      ...(event.host ? { host: event.host } : {}),
      ...(event.port ? { port: event.port } : {}),
      ...(event.addresses ? { addresses: event.addresses } : {}),
      ...(event.sni ? { sni: event.sni } : {}),
      ...(event.grantedBy ? { grantedBy: event.grantedBy } : {}),
      ...(event.service ? { service: event.service } : {}),
    },
    note: `${event.outcome.toUpperCase()} ${event.method ?? "connection"}${target} [${event.rule}]${event.service ? ` (service ${event.service})` : ""}`,
  };
}

/** An EgressAuditor appending to `audit` (durably, before the proxy acts on the decision). */
export function egressAuditor(audit: () => Promise<{ append(record: AuditRecord): Promise<unknown> }>): EgressAuditor {
  return async (event) => {
    await (await audit()).append(egressAuditRecord(event));
  };
}
