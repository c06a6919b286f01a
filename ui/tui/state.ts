import type { ApprovalRequest } from "../../src/approvals/types.ts";
import type { AuditEntry } from "../../src/audit/index.ts";
import type { EventEnvelope } from "../../src/core/events.ts";
import type { PostureReport } from "../../src/posture/types.ts";
import type { XrayReport } from "../../src/xray/types.ts";
import type { Envelope } from "./backend.ts";
import { RunOutput } from "./ring.ts";

/** Bounds on what the console keeps in memory, whatever the event rate. */
export interface ConsoleLimits {
  /** Runs kept; past this the oldest finished run (or, if none, the oldest) is dropped. */
  maxRuns: number;
  /** Output lines kept per run (a ring: the newest win). */
  maxLinesPerRun: number;
  /** Characters kept per output line; longer lines are split. */
  maxLineChars: number;
}

/** 32 runs × 1,000 lines × 1,000 characters at most; typical output is far below that. */
export const DEFAULT_LIMITS: ConsoleLimits = { maxRuns: 32, maxLinesPerRun: 1000, maxLineChars: 1000 };

/** How a run stands, as the runs pane shows it. */
export type RunStatus =
  | { kind: "running" }
  | { kind: "exited"; exitCode: number; durationMs: number; timedOut: boolean }
  | { kind: "killed"; by: string; exitCode: number; durationMs: number };

/** One run the console has seen. */
export interface RunView {
  runId: string;
  argv: string[];
  image: string;
  runtime: string;
  /** Epoch ms. */
  startedAt: number;
  status: RunStatus;
  output: RunOutput;
}

/** A backend read and how it went; `value` stays while a refresh is under way. */
export interface Loadable<T> {
  value?: T;
  error?: string;
  loading: boolean;
  /** Epoch ms of the last answer. */
  at?: number;
}

/** What an event touched, so the app knows what to refetch or redraw. */
export type StateChange = "runs" | "approvals" | "lockdown" | "audit" | "none";

/**
 * The console's model, fed by bus events and backend reads. It does no I/O and draws
 * nothing, so every rule here (bounds, ordering, status) is testable without a terminal.
 */
export class ConsoleState {
  readonly runs = new Map<string, RunView>();
  readonly approvals = new Map<string, ApprovalRequest>();
  lockdown: { active: boolean; reason?: string } = { active: false };
  /** undefined until the backend answered; `envelopeError` says why it did not. */
  envelope: Envelope | undefined;
  envelopeError: string | undefined;
  /** Newest last, as the backend returns it. */
  audit: AuditEntry[] = [];
  auditError: string | undefined;
  posture: Loadable<PostureReport> = { loading: false };
  /** The X-ray of `runId`; value undefined with `at` set means "not running". */
  xray: Loadable<XrayReport | undefined> & { runId?: string } = { loading: false };
  readonly limits: ConsoleLimits;

  constructor(
    limits: Partial<ConsoleLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Applies one bus event. */
  apply(event: EventEnvelope): StateChange {
    switch (event.type) {
      case "run.started": {
        const { data } = event as EventEnvelope<"run.started">;
        const run = this.ensureRun(data.runId, this.eventTime(event));
        run.argv = data.argv;
        run.image = data.image;
        run.runtime = data.runtime;
        return "runs";
      }
      case "run.output": {
        const { data } = event as EventEnvelope<"run.output">;
        this.ensureRun(data.runId, this.eventTime(event)).output.append(data.stream, data.text);
        return "runs";
      }
      case "run.finished": {
        const { data } = event as EventEnvelope<"run.finished">;
        const run = this.ensureRun(data.runId, this.eventTime(event) - data.durationMs);
        run.status = data.killedBy
          ? { kind: "killed", by: data.killedBy, exitCode: data.exitCode, durationMs: data.durationMs }
          : { kind: "exited", exitCode: data.exitCode, durationMs: data.durationMs, timedOut: data.timedOut };
        return "runs";
      }
      case "lockdown.changed": {
        const { data } = event as EventEnvelope<"lockdown.changed">;
        this.setLockdown(data.active, data.reason);
        return "lockdown";
      }
      case "approval.requested": {
        const { data } = event as EventEnvelope<"approval.requested">;
        this.approvals.set(data.id, data);
        return "approvals";
      }
      case "approval.resolved": {
        const { data } = event as EventEnvelope<"approval.resolved">;
        const pending = this.approvals.get(data.id);
        // A resolution of an older request with the same id must not remove a newer one.
        if (pending && pending.requestHash === data.requestHash) this.approvals.delete(data.id);
        return "approvals";
      }
      case "audit.appended":
        return "audit";
      case "decision":
        return "none";
    }
    return "none";
  }

  /** Replaces the pending approvals with the backend's list (at start). */
  setApprovals(requests: readonly ApprovalRequest[]): void {
    this.approvals.clear();
    for (const request of requests) this.approvals.set(request.id, request);
  }

  setLockdown(active: boolean, reason?: string): void {
    this.lockdown = active ? { active, ...(reason ? { reason } : {}) } : { active: false };
    if (this.envelope) this.envelope = { ...this.envelope, lockdown: this.lockdown };
  }

  setEnvelope(envelope: Envelope): void {
    this.envelope = envelope;
    this.envelopeError = undefined;
    this.lockdown = envelope.lockdown;
  }

  /** Runs newest first. */
  runList(): RunView[] {
    return [...this.runs.values()].reverse();
  }

  /** Pending approvals, the one expiring soonest first. */
  approvalList(): ApprovalRequest[] {
    return [...this.approvals.values()].sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
  }

  activeRuns(): number {
    let count = 0;
    for (const run of this.runs.values()) if (run.status.kind === "running") count++;
    return count;
  }

  private eventTime(event: EventEnvelope): number {
    const parsed = Date.parse(event.time);
    return Number.isFinite(parsed) ? parsed : this.now();
  }

  private ensureRun(runId: string, startedAt: number): RunView {
    const existing = this.runs.get(runId);
    if (existing) return existing;
    // Output can arrive for a run started before the console was: show it anyway.
    const run: RunView = {
      runId,
      argv: [],
      image: "?",
      runtime: "?",
      startedAt,
      status: { kind: "running" },
      output: new RunOutput(this.limits.maxLinesPerRun, this.limits.maxLineChars),
    };
    this.runs.set(runId, run);
    this.evictRuns();
    return run;
  }

  private evictRuns(): void {
    while (this.runs.size > this.limits.maxRuns) {
      let victim: string | undefined;
      for (const run of this.runs.values()) {
        if (run.status.kind !== "running") {
          victim = run.runId;
          break;
        }
      }
      victim ??= this.runs.keys().next().value;
      if (victim === undefined) return;
      this.runs.delete(victim);
    }
  }
}
