import { HomeMonitor, type ApprovalQueue, type ApprovalRequest, type ApprovalResolution } from "../approvals/index.ts";
import type { EventEnvelope } from "../core/index.ts";
import { isAegisError } from "../shared/index.ts";
import { HttpError } from "./http.ts";

/** Where a pending request waits: in this server's own queue, or in another AegisClaw process. */
export type ApprovalHolder = "server" | "process";

/**
 * The approvals the API can see and answer: the server's own queue (its runs and decide
 * calls) and every other process of the home, followed through its control socket like the
 * console does. Every answer is bound to the request hash the client saw.
 */
export class ApprovalsView {
  private constructor(
    private readonly queue: ApprovalQueue,
    private readonly monitor: HomeMonitor,
  ) {}

  /** Starts following the other processes; their events go to `listener`. */
  static async start(queue: ApprovalQueue, runDir: string, listener: (event: EventEnvelope) => void): Promise<ApprovalsView> {
    const monitor = new HomeMonitor(runDir, `api:${process.pid}`, listener);
    await monitor.start();
    return new ApprovalsView(queue, monitor);
  }

  /** Every pending request, oldest first, with where it waits. */
  list(): Array<ApprovalRequest & { holder: ApprovalHolder }> {
    const own = this.queue.list().map((request) => ({ ...request, holder: "server" as const }));
    const others = this.monitor.pending().map((request) => ({ ...request, holder: "process" as const }));
    return [...own, ...others].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** How many requests wait, across processes. */
  count(): number {
    return this.queue.list().length + this.monitor.pending().length;
  }

  /**
   * Answers request `id` as `by` via "api" (or "web" for the dashboard). Unknown id -> 404; a hash that is not the pending
   * request's -> 409 (the request changed since the client saw it; nothing is answered).
   */
  async resolve(id: string, requestHash: string, choice: "approve" | "deny", by: string, via: "api" | "web" = "api"): Promise<ApprovalResolution> {
    const own = this.queue.list().find((request) => request.id === id);
    const pending = own ?? this.monitor.pending().find((request) => request.id === id);
    if (!pending) throw new HttpError(404, "not-found", `no pending approval ${id.slice(0, 200)}`, { hint: "it was already answered or expired; GET /api/v1/approvals lists pending ones" });
    // The queue holding the request checks the hash again; this early check gives a clear 409.
    if (pending.requestHash !== requestHash) throw mismatch(id);
    try {
      return own ? this.queue.resolve(id, requestHash, choice, by, via) : await this.monitor.resolve(id, requestHash, choice, by, via);
    } catch (error) {
      if (isAegisError(error, "denied")) throw mismatch(id);
      if (isAegisError(error, "bad-input")) throw new HttpError(404, "not-found", error.message);
      throw error;
    }
  }

  close(): void {
    this.monitor.close();
  }
}

function mismatch(id: string): HttpError {
  return new HttpError(409, "hash-mismatch", `approval ${id.slice(0, 200)} refused: the request hash does not match the pending request`, {
    hint: "fetch GET /api/v1/approvals again and review the request before answering",
  });
}
