import type { ApprovalChoice, ApprovalRequest } from "../../src/approvals/types.ts";
import type { AuditEntry } from "../../src/audit/index.ts";
import type { EventEnvelope } from "../../src/core/events.ts";
import type { PostureReport } from "../../src/posture/types.ts";
import type { XrayReport } from "../../src/xray/types.ts";

/** The envelope indicator: what protects the next run, always visible. */
export interface Envelope {
  runtime: string;
  seccomp: string;
  network: string;
  lockdown: { active: boolean; reason?: string };
  policyTemplate: string;
  /** OpenClaw adapter line ("not configured" until the integration exists). */
  adapter: string;
}

/** The audit verify result as the console shows it. */
export interface VerifyView {
  ok: boolean;
  entries: number;
  /** One line: "intact: 42 entries, root ab12…" or what is broken and where. */
  summary: string;
}

/**
 * Everything the console reads and does, in one port. The console holds no security logic:
 * the real backend (ui/tui/live-backend.ts) calls the same stores and control sockets as the
 * CLI and server; tests pass a scripted one.
 */
export interface ConsoleBackend {
  envelope(): Promise<Envelope>;
  /** Events from this process and every other AegisClaw process of the home (runs, approvals, lockdown, audit). Output text is already redacted. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
  pendingApprovals(): ApprovalRequest[];
  /** Resolves a pending request; the hash binds the choice to exactly what was shown. */
  resolveApproval(id: string, requestHash: string, choice: ApprovalChoice): Promise<void>;
  /** Newest last. */
  recentAudit(limit: number): Promise<AuditEntry[]>;
  /** Human explanation lines of an audit entry (seq) or run id. */
  explain(id: string): Promise<string[]>;
  verify(): Promise<VerifyView>;
  posture(): Promise<PostureReport>;
  /** Live view of a run's sandbox; undefined when it is not running. */
  xray(runId: string): Promise<XrayReport | undefined>;
  /** Panic: no confirmation; returns how many sandboxes were killed. */
  lockdown(reason: string): Promise<{ killed: number }>;
  unlock(): Promise<void>;
  close(): Promise<void>;
}
