import type { Decision } from "../policy/index.ts";
import type { EventBus, EventEnvelope, Gate, RunRequest } from "../core/index.ts";
import { isAegisError } from "../shared/index.ts";

/** Where a run started through the API is. */
export type ApiRunStatus = "awaiting-approval" | "starting" | "running" | "finished" | "cancelled" | "denied" | "lockdown" | "error";

/** What the API shows about a run (output is fetched separately: it is operator-level). */
export interface ApiRunView {
  runId: string;
  requestHash: string;
  status: ApiRunStatus;
  actor: { name: string; source: string };
  argv: string[];
  createdAt: string;
  finishedAt?: string;
  decision: { kind: Decision["kind"]; reasons: Decision["reasons"] };
  exitCode?: number;
  durationMs?: number;
  timedOut?: boolean;
  killedBy?: string;
  error?: { code: string; message: string };
  output: { bytes: number; truncated: boolean };
}

/** One chunk of (already redacted) output, or the end of the run. */
export type RunStreamItem = { type: "output"; stream: "stdout" | "stderr"; text: string } | { type: "end"; run: ApiRunView };

interface Tracked {
  view: ApiRunView;
  chunks: Array<{ stream: "stdout" | "stderr"; text: string }>;
  listeners: Set<(item: RunStreamItem) => void>;
  controller: AbortController;
}

/** Limits of the in-memory run list. */
export interface RunRegistryLimits {
  /** Runs kept (finished ones are dropped oldest first). */
  maxRuns: number;
  /** Output bytes kept per run for late readers; live subscribers get everything. */
  maxOutputBytes: number;
}

/**
 * The runs this server started through the Gate, with their (redacted) output for late
 * readers. `start` answers as soon as the decision is durable: allow -> running in the
 * background, ask -> waiting for a person, deny/lockdown/bad input -> the Gate's error.
 */
export class RunRegistry {
  private readonly runs = new Map<string, Tracked>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly gate: Gate,
    bus: EventBus,
    private readonly limits: RunRegistryLimits,
  ) {
    this.unsubscribe = bus.subscribe((event) => {
      if (event.type !== "run.started") return;
      const tracked = this.runs.get((event as EventEnvelope<"run.started">).data.runId);
      if (tracked && !tracked.view.finishedAt) tracked.view.status = "running";
    });
  }

  /** Submits a run; resolves with its view once the decision is recorded, rejects with the Gate's error on deny. */
  start(request: RunRequest): Promise<ApiRunView> {
    const controller = new AbortController();
    let tracked: Tracked | undefined;
    return new Promise((resolve, reject) => {
      const append = (stream: "stdout" | "stderr") => {
        const decoder = new TextDecoder();
        return (chunk: Uint8Array) => {
          if (tracked) this.output(tracked, stream, decoder.decode(chunk, { stream: true }));
        };
      };
      const running = this.gate.run(request, {
        stdout: append("stdout"),
        stderr: append("stderr"),
        signal: controller.signal,
        onDecision: (decided) => {
          const view: ApiRunView = {
            runId: decided.runId,
            requestHash: decided.requestHash,
            status: decided.decision.kind === "ask" ? "awaiting-approval" : decided.decision.kind === "allow" ? "starting" : "denied",
            actor: request.actor,
            argv: request.argv,
            createdAt: new Date().toISOString(),
            decision: { kind: decided.decision.kind, reasons: decided.decision.reasons },
            output: { bytes: 0, truncated: false },
          };
          tracked = { view, chunks: [], listeners: new Set(), controller };
          this.remember(tracked);
          if (decided.decision.kind !== "deny") resolve({ ...view });
        },
      });
      running.then(
        (outcome) => {
          if (!tracked) return;
          const cancelled = outcome.killedBy === "cancel";
          Object.assign(tracked.view, { status: cancelled ? "cancelled" : outcome.killedBy === "lockdown" ? "lockdown" : "finished", exitCode: outcome.exitCode, durationMs: outcome.durationMs, timedOut: outcome.timedOut, ...(outcome.killedBy ? { killedBy: outcome.killedBy } : {}) });
          this.end(tracked);
        },
        (error: unknown) => {
          if (!tracked || tracked.view.decision.kind === "deny") reject(error);
          if (!tracked) return;
          const code = isAegisError(error) ? error.code : "internal";
          const status: ApiRunStatus = controller.signal.aborted ? "cancelled" : code === "denied" ? "denied" : code === "lockdown" ? "lockdown" : "error";
          tracked.view.status = status;
          tracked.view.error = { code, message: isAegisError(error) ? error.message : "internal error" };
          this.end(tracked);
        },
      );
    });
  }

  /** Newest first. */
  list(): ApiRunView[] {
    return [...this.runs.values()].map((t) => ({ ...t.view })).reverse();
  }

  get(runId: string): ApiRunView | undefined {
    const tracked = this.runs.get(runId);
    return tracked ? { ...tracked.view } : undefined;
  }

  /** Number of runs not finished yet. */
  active(): number {
    return [...this.runs.values()].filter((t) => !t.view.finishedAt).length;
  }

  /** Cancels a run: a waiting approval is withdrawn, a running sandbox is killed. False when unknown or already over. */
  cancel(runId: string): boolean {
    const tracked = this.runs.get(runId);
    if (!tracked || tracked.view.finishedAt) return false;
    tracked.controller.abort("cancel");
    return true;
  }

  /**
   * Replays the kept output, then follows the run live; `listener` gets `end` last. Returns
   * the unsubscribe function, or undefined when the run is unknown.
   */
  follow(runId: string, listener: (item: RunStreamItem) => void): (() => void) | undefined {
    const tracked = this.runs.get(runId);
    if (!tracked) return undefined;
    for (const chunk of tracked.chunks) listener({ type: "output", ...chunk });
    if (tracked.view.finishedAt) {
      listener({ type: "end", run: { ...tracked.view } });
      return () => {};
    }
    tracked.listeners.add(listener);
    return () => tracked.listeners.delete(listener);
  }

  /** Cancels every unfinished run and waits until each has recorded its result. */
  async stopAll(): Promise<void> {
    this.unsubscribe();
    const open = [...this.runs.values()].filter((t) => !t.view.finishedAt);
    for (const tracked of open) tracked.controller.abort("cancel");
    await Promise.all(open.map((t) => new Promise<void>((resolve) => (t.view.finishedAt ? resolve() : t.listeners.add((item) => item.type === "end" && resolve())))));
  }

  private output(tracked: Tracked, stream: "stdout" | "stderr", text: string): void {
    if (text === "") return;
    const bytes = Buffer.byteLength(text);
    if (tracked.view.output.bytes + bytes <= this.limits.maxOutputBytes) tracked.chunks.push({ stream, text });
    else tracked.view.output.truncated = true;
    tracked.view.output.bytes += bytes;
    for (const listener of tracked.listeners) listener({ type: "output", stream, text });
  }

  private end(tracked: Tracked): void {
    tracked.view.finishedAt = new Date().toISOString();
    const item: RunStreamItem = { type: "end", run: { ...tracked.view } };
    for (const listener of [...tracked.listeners]) listener(item);
    tracked.listeners.clear();
  }

  private remember(tracked: Tracked): void {
    this.runs.set(tracked.view.runId, tracked);
    for (const [id, other] of this.runs) {
      if (this.runs.size <= this.limits.maxRuns) break;
      if (other.view.finishedAt) this.runs.delete(id);
    }
  }
}
