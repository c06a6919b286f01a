import type { EventBus } from "../core/events.ts";
import { AegisError } from "../shared/index.ts";
import type { ApprovalChannel, ApprovalChoice, ApprovalRequest, ApprovalResolution } from "./types.ts";

interface Pending {
  request: ApprovalRequest;
  settle: (resolution: ApprovalResolution) => void;
}

/**
 * The requests of this process that wait for a person. Each is bound to its request hash: a
 * resolution naming any other hash is refused, so an approval can never authorise a different
 * or modified request. Unanswered requests expire at `expiresAt` and are denied.
 */
export class ApprovalQueue {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly bus: EventBus) {}

  /** Queues `request` and waits for its resolution; `signal` withdraws it (lockdown, cancelled requester). */
  request(request: ApprovalRequest, signal?: AbortSignal): Promise<ApprovalResolution> {
    if (this.pending.has(request.id)) throw new AegisError("internal", `approval ${request.id} is already pending`);
    return new Promise((resolve) => {
      const remaining = Math.max(0, Date.parse(request.expiresAt) - Date.now());
      const timer = setTimeout(() => finish(this.settlement(request, "expired", "timeout", "timeout", "once")), remaining);
      const onAbort = () => finish(this.settlement(request, "denied", String(signal?.reason ?? "withdrawn"), "system", "once"));
      const finish = (resolution: ApprovalResolution) => {
        if (this.pending.get(request.id)?.request !== request) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(request.id);
        this.bus.publish("approval.resolved", resolution);
        resolve(resolution);
      };
      this.pending.set(request.id, { request, settle: finish });
      this.bus.publish("approval.requested", request);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Requests still waiting, oldest first. */
  list(): ApprovalRequest[] {
    return [...this.pending.values()].map((entry) => entry.request);
  }

  /**
   * Answers request `id`. `requestHash` must be the hash the approver was shown; anything else
   * (a stale view, a modified request) is refused and changes nothing.
   */
  resolve(id: string, requestHash: string, choice: ApprovalChoice, by: string, via: ApprovalChannel): ApprovalResolution {
    const entry = this.pending.get(id);
    if (!entry) throw new AegisError("bad-input", `no pending approval ${id}`, { hint: "it was already resolved or expired; list pending ones with `aegisclaw approvals list`" });
    if (!/^[0-9a-f]{64}$/.test(requestHash) || requestHash !== entry.request.requestHash) {
      throw new AegisError("denied", `approval ${id} refused: the request hash does not match the pending request`, {
        hint: "the request changed since it was shown; review it again before approving",
      });
    }
    const resolution = this.settlement(entry.request, choice === "deny" ? "denied" : "approved", by, via, choice === "approve-session" ? "session" : "once");
    entry.settle(resolution);
    return resolution;
  }

  /** Withdraws every pending request (process shutting down); each is denied. */
  withdrawAll(reason: string): void {
    for (const entry of [...this.pending.values()]) entry.settle(this.settlement(entry.request, "denied", reason, "system", "once"));
  }

  private settlement(request: ApprovalRequest, outcome: ApprovalResolution["outcome"], by: string, via: ApprovalChannel, scope: ApprovalResolution["scope"]): ApprovalResolution {
    return { id: request.id, requestHash: request.requestHash, outcome, by, via, scope, at: new Date().toISOString() };
  }
}
