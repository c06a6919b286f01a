import type { ApprovalRequest, ApprovalResolution } from "../approvals/types.ts";
import type { Decision } from "../policy/index.ts";

/** Every event the bus carries, declared once as one discriminated union. Output is already redacted. */
export type AegisEvent =
  | { type: "decision"; data: { runId: string; requestHash: string; decision: Decision; auditSeq: number; evaluationMs?: number; decideOnly?: boolean } }
  | { type: "run.started"; data: { runId: string; argv: string[]; image: string; runtime: string; /** The installed skill it runs, if any. */ skill?: string } }
  | { type: "run.output"; data: { runId: string; stream: "stdout" | "stderr"; text: string } }
  | {
      type: "run.finished";
      data: {
        runId: string;
        exitCode: number;
        durationMs: number;
        timedOut: boolean;
        killedBy?: string;
        /** How many secret values the output needed redacted (a count, never the values). */
        redactions?: number;
        /** The same by kind (`secret:NAME`, `github-token`, ...): names and counts, never values. */
        redactionKinds?: Record<string, number>;
        /** From handing the run to the runtime until the sandbox first showed life (first output byte, else its exit); absent when it never started. */
        startupMs?: number;
      };
    }
  | { type: "lockdown.changed"; data: { active: boolean; reason?: string; killed?: number } }
  | { type: "approval.requested"; data: ApprovalRequest }
  | { type: "approval.resolved"; data: ApprovalResolution }
  | { type: "audit.appended"; data: { seq: number; type: string; runId?: string } }
  | { type: "adapter.health"; data: AdapterHealthData };

/** An agent adapter's health (src/adapters/openclaw/health.ts fills the details). */
export type AdapterHealthData = {
  name: string;
  state: "disabled" | "connecting" | "connected" | "degraded" | "down";
  /** One line for people. */
  status: string;
  checkedAt: string;
  [detail: string]: unknown;
};

export type AegisEventType = AegisEvent["type"];
/** The envelope every subscriber receives. */
export type EventEnvelope<T extends AegisEventType = AegisEventType> = {
  id: number;
  type: T;
  time: string;
  data: Extract<AegisEvent, { type: T }>["data"];
};

/**
 * A small synchronous typed bus for observers (console, web, metrics). Nothing a security
 * guarantee depends on goes through it: the Gate writes the audit log itself.
 * A throwing subscriber is isolated so it cannot break the Gate.
 */
export class EventBus {
  private nextId = 1;
  private readonly subscribers = new Set<(event: EventEnvelope) => void>();

  /** Subscribes to every event; returns the unsubscribe function. */
  subscribe(listener: (event: EventEnvelope) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  publish<T extends AegisEventType>(type: T, data: EventEnvelope<T>["data"]): void {
    const envelope = { id: this.nextId++, type, time: new Date().toISOString(), data } as EventEnvelope;
    for (const listener of this.subscribers) {
      try {
        listener(envelope);
      } catch {
        // Observers must never affect the action; their failure is their own.
      }
    }
  }
}
