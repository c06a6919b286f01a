import type { ApprovalChannel, ApprovalRequest, ApprovalResolution } from "../../approvals/index.ts";
import type { AuditRecord, AuditSource } from "../../audit/index.ts";
import type { AuditSink, LockdownStore } from "../../core/index.ts";
import { approvalHash, approvalReasons, approvalRequest, approvalSummary, parseOpenClawApproval, type OpenClawApproval, type OpenClawApprovalKind, type OpenClawDecision } from "./bridge-request.ts";

/** What the bridge needs of the approval queue (the server's `app.approvals`). */
export interface BridgeQueue {
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalResolution>;
}

/** What the bridge needs of the gateway connection. */
export interface BridgeGateway {
  request<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
}

export interface ApprovalBridgeDeps {
  queue: BridgeQueue;
  gateway: BridgeGateway;
  /** The audit log; every entry is durable before the bridge answers OpenClaw. */
  audit: () => Promise<AuditSink>;
  lockdown: Pick<LockdownStore, "read">;
  /** AegisClaw's approvals.timeout. */
  timeoutMs: number;
  log: (line: string) => void;
}

interface Entry {
  approval: OpenClawApproval;
  runId: string;
  hash: string;
  withdraw: AbortController;
  /** Set once the bridge itself is answering OpenClaw (its own resolved event is then expected). */
  answering: boolean;
}

/** Why a request left the queue without a person's answer. */
type Withdrawal = { kind: "lockdown" } | { kind: "withdrawn"; note: string };

const LOCKDOWN_POLL_MS = 200;
const OPENCLAW_ACTOR = { name: "openclaw", source: "openclaw" as const };

/**
 * OpenClaw's own exec and plugin approval requests, answered from AegisClaw's approval queue.
 * Each request is audited as an `ask` decision before it is queued, and the person's answer (or
 * the timeout, lockdown, a withdrawal) as an approval entry before OpenClaw hears it. Only an
 * approval of the exact request (bound to its hash by the queue) becomes `allow-once`; every
 * other ending is `deny` (fail closed) or, when OpenClaw itself already settled the request or
 * the gateway went away, no answer at all (OpenClaw then times it out, which denies).
 */
export class ApprovalBridge {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();
  private lockdownTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly deps: ApprovalBridgeDeps) {}

  /** Requests waiting in AegisClaw's queue. */
  pending(): number {
    return this.entries.size;
  }

  /** The gateway's event stream: approval requests and resolutions; everything else is ignored. */
  handleEvent(event: string, payload: unknown): void {
    if (this.closed) return;
    if (event === "exec.approval.requested" || event === "plugin.approval.requested") {
      const approval = parseOpenClawApproval(kindOf(event), payload);
      if (approval) this.track(this.take(approval));
      else this.deps.log(`openclaw bridge: ignored a malformed ${event} (OpenClaw times it out, which denies)`);
      return;
    }
    if (event === "exec.approval.resolved" || event === "plugin.approval.resolved") {
      const { id, decision, resolvedBy } = (payload ?? {}) as { id?: unknown; decision?: unknown; resolvedBy?: unknown };
      const entry = typeof id === "string" ? this.entries.get(id) : undefined;
      if (!entry || entry.answering) return;
      const note = `withdrawn: OpenClaw resolved it elsewhere (${String(decision ?? "?").slice(0, 40)} by ${String(resolvedBy ?? "?").slice(0, 80)})`;
      entry.withdraw.abort({ kind: "withdrawn", note } satisfies Withdrawal);
    }
  }

  /** After (re)connecting: picks up requests that were already pending in OpenClaw. */
  async replayPending(): Promise<void> {
    for (const kind of ["exec", "plugin"] as const) {
      let records: unknown;
      try {
        records = await this.deps.gateway.request(`${kind}.approval.list`, {});
      } catch (error) {
        this.deps.log(`openclaw bridge: ${kind}.approval.list failed: ${(error as Error).message}`);
        continue;
      }
      if (!Array.isArray(records)) continue;
      for (const record of records) {
        const approval = parseOpenClawApproval(kind, record);
        if (approval && approval.expiresAtMs > Date.now() && !this.closed) this.track(this.take(approval));
      }
    }
  }

  /** The gateway connection is gone: withdraw every pending request (OpenClaw times them out itself). */
  disconnected(reason: string): void {
    for (const entry of this.entries.values()) {
      if (!entry.answering) entry.withdraw.abort({ kind: "withdrawn", note: `withdrawn: the OpenClaw gateway connection was lost (${reason.slice(0, 200)})` } satisfies Withdrawal);
    }
  }

  /** Stops taking requests, withdraws the pending ones (shutdown) and waits until each is audited. */
  async close(): Promise<void> {
    this.closed = true;
    this.disconnected("AegisClaw is shutting down");
    await Promise.allSettled([...this.inFlight]);
    this.stopLockdownWatch();
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async take(approval: OpenClawApproval): Promise<void> {
    if (this.entries.has(approval.id)) return;
    const entry: Entry = { approval, runId: bridgeRunId(), hash: approvalHash(approval), withdraw: new AbortController(), answering: false };
    this.entries.set(approval.id, entry);
    try {
      await this.run(entry);
    } catch (error) {
      this.deps.log(`openclaw bridge: ${approval.kind} approval ${approval.id}: ${(error as Error).message}`);
    } finally {
      this.entries.delete(approval.id);
      if (this.entries.size === 0) this.stopLockdownWatch();
    }
  }

  private async run(entry: Entry): Promise<void> {
    const { approval } = entry;
    const lock = this.deps.lockdown.read();
    let audit: AuditSink;
    try {
      audit = await this.deps.audit();
      await audit.append({
        type: "decision",
        actor: OPENCLAW_ACTOR,
        runId: entry.runId,
        requestHash: entry.hash,
        request: approvalSummary(approval),
        decision: lock.active ? { kind: "deny", reasons: [{ rule: "lockdown", message: "lockdown is active: every OpenClaw approval is denied" }] } : { kind: "ask", reasons: approvalReasons(approval) },
      });
    } catch (error) {
      // Nothing may be allowed that the log does not record: an unwritable log denies.
      await this.answer(entry, "deny", `the audit log cannot be written (${(error as Error).message})`);
      return;
    }
    if (lock.active) return this.answer(entry, "deny", "lockdown");
    this.startLockdownWatch();
    const resolution = await this.deps.queue.request(approvalRequest(approval, entry.runId, this.deps.timeoutMs), entry.withdraw.signal);
    const withdrawal = entry.withdraw.signal.aborted ? (entry.withdraw.signal.reason as Withdrawal) : undefined;
    const approved = resolution.outcome === "approved" && resolution.requestHash === entry.hash && !withdrawal;
    try {
      await audit.append(approvalEntry(entry, resolution, withdrawal));
    } catch (error) {
      if (withdrawal?.kind === "withdrawn") return;
      await this.answer(entry, "deny", `the audit log cannot be written (${(error as Error).message})`);
      return;
    }
    if (withdrawal?.kind === "withdrawn") return;
    await this.answer(entry, approved ? "allow-once" : "deny", approved ? `approved by ${resolution.by}` : `${resolution.outcome} (${resolution.by})`);
  }

  /** Sends OpenClaw the decision, if it accepts it: allow-once only when offered, never allow-always. */
  private async answer(entry: Entry, decision: Extract<OpenClawDecision, "allow-once" | "deny">, why: string): Promise<void> {
    const { approval } = entry;
    const allowed = approval.allowedDecisions;
    const sent: OpenClawDecision | undefined = allowed.includes(decision) ? decision : allowed.includes("deny") ? "deny" : undefined;
    if (!sent) {
      this.deps.log(`openclaw bridge: ${approval.kind} approval ${approval.id}: OpenClaw offers neither ${decision} nor deny; left to its timeout (deny)`);
      return;
    }
    entry.answering = true;
    try {
      await this.deps.gateway.request(`${approval.kind}.approval.resolve`, { id: approval.id, decision: sent });
    } catch (error) {
      this.deps.log(`openclaw bridge: ${approval.kind}.approval.resolve ${approval.id} (${sent}, ${why}) failed: ${(error as Error).message}; OpenClaw times it out (deny)`);
    }
  }

  private startLockdownWatch(): void {
    this.lockdownTimer ??= setInterval(() => {
      if (!this.deps.lockdown.read().active) return;
      for (const entry of this.entries.values()) if (!entry.answering) entry.withdraw.abort({ kind: "lockdown" } satisfies Withdrawal);
    }, LOCKDOWN_POLL_MS);
  }

  private stopLockdownWatch(): void {
    clearInterval(this.lockdownTimer);
    this.lockdownTimer = undefined;
  }
}

/** The approval entry: the person's answer (by/via as for any approval), the timeout, lockdown or a withdrawal. */
function approvalEntry(entry: Entry, resolution: ApprovalResolution, withdrawal: Withdrawal | undefined): AuditRecord {
  const approved = resolution.outcome === "approved" && !withdrawal;
  const system = withdrawal !== undefined;
  const by = withdrawal?.kind === "lockdown" ? "lockdown" : system ? "openclaw" : resolution.by;
  const via: ApprovalChannel = system ? "system" : resolution.via;
  const message = withdrawal?.kind === "withdrawn" ? withdrawal.note : withdrawal?.kind === "lockdown" ? "denied: lockdown engaged while the request waited" : resolution.outcome === "expired" ? "no answer before the approval expired" : `${resolution.outcome} by ${resolution.by} via ${resolution.via}`;
  return {
    type: "approval",
    actor: system ? OPENCLAW_ACTOR : { name: resolution.by.slice(0, 200), source: SOURCE_OF[via] },
    runId: entry.runId,
    requestHash: entry.hash,
    decision: { kind: approved ? "allow" : "deny", reasons: [{ rule: `approval.${withdrawal ? "withdrawn" : resolution.outcome}`, message }], ...(approved ? { approvedBy: resolution.by.slice(0, 200) } : {}) },
    approval: { outcome: approved ? "approved" : resolution.outcome === "expired" && !withdrawal ? "expired" : "denied", by: by.slice(0, 200), via, scope: resolution.scope },
    note: `OpenClaw ${entry.approval.kind} approval ${entry.approval.id}: ${approved ? "allow-once sent" : withdrawal?.kind === "withdrawn" ? "no answer sent (settled by OpenClaw)" : "deny sent"}`,
  };
}

const SOURCE_OF: Record<ApprovalChannel, AuditSource> = { console: "tui", cli: "cli", tty: "cli", api: "api", web: "web", openclaw: "openclaw", timeout: "system", system: "system" };

function kindOf(event: string): OpenClawApprovalKind {
  return event.startsWith("plugin.") ? "plugin" : "exec";
}

/** Run ids of bridged requests: like the Gate's, marked as OpenClaw's. */
function bridgeRunId(): string {
  return `oc-${Date.now().toString(36)}-${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex")}`;
}
