import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { recentEntries } from "../audit/index.ts";
import type { EventEnvelope } from "../core/index.ts";

/** What the gauges read at scrape time. */
export interface MetricsSources {
  /** `$AEGISCLAW_HOME/audit`: the entry count is the log's last seq, so appends by every process count. */
  auditDir: string;
  lockdownActive(): boolean;
  pendingApprovals(): number;
}

/** Runs without a skill (plain commands) are counted under this label. */
export const NO_SKILL = "none";

/**
 * The server's Prometheus metrics, in a registry of their own (never prom-client's global
 * one, so two servers in one process stay apart). Counters and histograms follow the event
 * bus; gauges read their source at scrape time. Label values are fixed words, never
 * request data, so nothing secret can reach a label (DESIGN.md invariant 3).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly executions: Counter<"skill" | "status">;
  private readonly decisions: Counter<"decision">;
  private readonly startup: Histogram;
  private readonly evaluation: Histogram;
  private readonly redactions: Counter<"kind">;
  /** Runs in flight -> their skill (installed skill names only: a bounded, validated label set). */
  private readonly started = new Map<string, string>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const started = this.started;
    this.executions = new Counter({ name: "aegisclaw_skill_executions_total", help: "Sandboxed executions that finished, by skill (\"none\" for plain commands) and status (ok, failed, timeout, killed).", labelNames: ["skill", "status"], registers });
    this.decisions = new Counter({ name: "aegisclaw_policy_decisions_total", help: "Gate decisions by kind (allow, deny, ask).", labelNames: ["decision"], registers });
    this.startup = new Histogram({ name: "aegisclaw_sandbox_startup_seconds", help: "From handing a run to the sandbox runtime until the sandbox first showed life (its first output byte, else its exit).", buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers });
    this.evaluation = new Histogram({ name: "aegisclaw_policy_evaluation_seconds", help: "Time the policy engines took to decide one request.", buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers });
    this.redactions = new Counter({ name: "aegisclaw_redactions_total", help: "Values redacted from run output, by kind: secret (a stored secret's value or encoding) or the detector that matched (github-token, jwt, ...).", labelNames: ["kind"], registers });
    new Gauge({
      name: "aegisclaw_active_executions",
      help: "Sandboxes of this process (and of followed processes) running now.",
      registers,
      collect() {
        this.set(started.size);
      },
    });
    let seen = 0;
    new Counter({
      name: "aegisclaw_audit_entries_total",
      help: "Entries in the audit log (its last sequence number), whichever process appended them.",
      registers,
      collect() {
        const last = recentEntries(sources.auditDir).at(-1)?.seq ?? seen;
        // The log only grows; a smaller number means a segment could not be read this time.
        if (last > seen) this.inc(last - seen);
        seen = Math.max(seen, last);
      },
    });
    new Gauge({
      name: "aegisclaw_approvals_pending",
      help: "Requests waiting for a person, in this process and every followed process.",
      registers,
      collect() {
        this.set(sources.pendingApprovals());
      },
    });
    new Gauge({
      name: "aegisclaw_lockdown_active",
      help: "1 while lockdown is engaged, else 0.",
      registers,
      collect() {
        this.set(sources.lockdownActive() ? 1 : 0);
      },
    });
  }

  /** Feeds one bus event (this process's or a followed process's). */
  observe(event: EventEnvelope): void {
    switch (event.type) {
      case "decision": {
        const data = (event as EventEnvelope<"decision">).data;
        this.decisions.inc({ decision: data.decision.kind });
        if (data.evaluationMs !== undefined) this.evaluation.observe(data.evaluationMs / 1000);
        return;
      }
      case "run.started":
        this.started.set((event as EventEnvelope<"run.started">).data.runId, (event as EventEnvelope<"run.started">).data.skill ?? NO_SKILL);
        return;
      case "run.finished": {
        const data = (event as EventEnvelope<"run.finished">).data;
        const skill = this.started.get(data.runId) ?? NO_SKILL;
        this.started.delete(data.runId);
        this.executions.inc({ skill, status: statusOf(data) });
        let labelled = 0;
        for (const [kind, count] of Object.entries(data.redactionKinds ?? {})) {
          this.redactions.inc({ kind: redactionLabel(kind) }, count);
          labelled += count;
        }
        // An event without kinds (an older process followed over its control socket) still counts.
        if ((data.redactions ?? 0) > labelled) this.redactions.inc({ kind: "other" }, (data.redactions ?? 0) - labelled);
        if (data.startupMs !== undefined) this.startup.observe(data.startupMs / 1000);
        return;
      }
      default:
        return;
    }
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function statusOf(data: EventEnvelope<"run.finished">["data"]): "ok" | "failed" | "timeout" | "killed" {
  if (data.timedOut || data.killedBy === "timeout") return "timeout";
  if (data.killedBy) return "killed";
  return data.exitCode === 0 ? "ok" : "failed";
}

/**
 * A bounded label for a redaction kind: secret names collapse to `secret` (one series, not one
 * per secret), detector kinds are fixed words in src/redact/detectors.ts, anything else `other`.
 */
export function redactionLabel(kind: string): string {
  if (kind === "secret" || kind.startsWith("secret:")) return "secret";
  return /^[a-z][a-z0-9-]{0,39}$/.test(kind) ? kind : "other";
}
