import type { ApprovalRequest, ApprovalResolution } from "../approvals/types.ts";
import type { AuditRecord, AuditSource } from "../audit/index.ts";
import type { Decision } from "../policy/index.ts";
import { AegisError } from "../shared/index.ts";
import type { PreparedRun } from "./gate-prepare.ts";

/** What the approval stage reads of a prepared request: a run's, or a tool call's (tool-call.ts). */
export type Approvable = Pick<PreparedRun, "runId" | "hash" | "policyInput" | "askedBy"> & {
  request: Pick<PreparedRun["request"], "actor" | "argv">;
  spec: Pick<PreparedRun["spec"], "image">;
};
import { LockdownWatch } from "./lockdown-watch.ts";
import type { LockdownStore } from "./lockdown.ts";

/**
 * The approval stage's port: queue a request for a person and wait. It resolves (never
 * rejects) with approved, denied or expired; `signal` withdraws the request.
 */
export interface Approver {
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalResolution>;
}

/** Default time a request waits for a person before it is denied. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 120_000;

/** What the approver is shown: exactly what will run, bound to the request hash. */
export function approvalRequestFor(prepared: Approvable, decision: Decision, timeoutMs: number, now = Date.now()): ApprovalRequest {
  const { request, runId, hash, spec, policyInput } = prepared;
  return {
    id: runId,
    requestHash: hash,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + timeoutMs).toISOString(),
    actor: request.actor,
    argv: request.argv,
    image: spec.image,
    runtime: policyInput.runtime,
    // A symlinked file scope is shown with where it really leads, and a multi-container run's
    // scope with the services that get it: that is what the person approves.
    scopes: policyInput.requested.map((scope) => ({ scope: `${scope.scope}${scope.resolvesTo ? ` (resolves to ${scope.resolvesTo})` : ""}${askers(prepared.askedBy, scope.scope)}`, risk: scope.risk })),
    reasons: decision.reasons,
    risk: decision.risk,
    ...(policyInput.skill ? { skill: { name: policyInput.skill.name, signature: policyInput.skill.signature ?? (policyInput.skill.signed ? "valid" : "unsigned") } } : {}),
    pid: process.pid,
  };
}

/**
 * Waits for the approver while watching lockdown (from any process) and the requester's own
 * cancel signal: either withdraws the request, which then counts as denied.
 */
export async function awaitApproval(approver: Approver, request: ApprovalRequest, lockdown: LockdownStore, cancel?: AbortSignal): Promise<ApprovalResolution> {
  const withdraw = new AbortController();
  const watch = new LockdownWatch(lockdown, () => withdraw.abort("lockdown"));
  const onCancel = () => withdraw.abort("cancelled by the requester");
  cancel?.addEventListener("abort", onCancel, { once: true });
  if (cancel?.aborted) onCancel();
  watch.start();
  try {
    return await approver.request(request, withdraw.signal);
  } finally {
    watch.stop();
    cancel?.removeEventListener("abort", onCancel);
  }
}

/** The audit entry of a resolution: who answered, how, and for which exact request. */
export function approvalRecord(resolution: ApprovalResolution, prepared: Approvable): AuditRecord {
  const approved = resolution.outcome === "approved";
  return {
    type: "approval",
    actor: { name: resolution.by, source: SOURCE_OF[resolution.via] },
    runId: prepared.runId,
    requestHash: resolution.requestHash,
    decision: {
      kind: approved ? "allow" : "deny",
      reasons: [{ rule: `approval.${resolution.outcome}`, message: describeResolution(resolution) }],
      ...(approved ? { approvedBy: resolution.by } : {}),
    },
    approval: { outcome: resolution.outcome, by: resolution.by, via: resolution.via, scope: resolution.scope },
  };
}

/** Refuses anything but an approval of this very request (id and hash). */
export function checkApproval(resolution: ApprovalResolution, prepared: Approvable, timeoutMs: number): void {
  const argv = prepared.request.argv.join(" ");
  if (resolution.outcome === "approved" && resolution.id === prepared.runId && resolution.requestHash === prepared.hash) return;
  if (resolution.outcome === "approved") {
    throw new AegisError("denied", `denied: run of \`${argv}\`: the approval does not match this request [approval.mismatch]`);
  }
  if (resolution.outcome === "expired") {
    throw new AegisError("denied", `denied: run of \`${argv}\`: nobody answered the approval request within ${Math.round(timeoutMs / 1000)} s [approval.expired]`, {
      hint: `answer it in the console (\`aegisclaw\`) or with \`aegisclaw approvals approve ${prepared.runId}\` from another shell; approvals.timeout in config.yaml sets the wait`,
    });
  }
  if (resolution.by === "lockdown") {
    throw new AegisError("lockdown", `run refused: lockdown engaged while the request waited for approval`, { hint: "`aegisclaw unlock` lifts it" });
  }
  throw new AegisError("denied", `denied: run of \`${argv}\`: ${describeResolution(resolution)} [approval.denied]`);
}

function describeResolution(resolution: ApprovalResolution): string {
  if (resolution.outcome === "expired") return "no answer before the approval expired";
  const how = resolution.scope === "session" ? " (approved for the session)" : "";
  return `${resolution.outcome} by ${resolution.by} via ${resolution.via}${how}`;
}

const SOURCE_OF: Record<ApprovalResolution["via"], AuditSource> = {
  console: "tui",
  cli: "cli",
  tty: "cli",
  api: "api",
  web: "web",
  openclaw: "openclaw",
  timeout: "system",
  system: "system",
};

/** ` (service a, b)` for a multi-container run's scope; empty otherwise. */
function askers(askedBy: Readonly<Record<string, readonly string[]>> | undefined, scope: string): string {
  const services = askedBy?.[scope] ?? [];
  return services.length === 0 ? "" : ` (service ${services.join(", ")})`;
}
