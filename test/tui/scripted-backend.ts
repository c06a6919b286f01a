import type { ApprovalChoice, ApprovalRequest } from "../../src/approvals/types.ts";
import type { AuditEntry } from "../../src/audit/index.ts";
import type { AegisEventType, EventEnvelope } from "../../src/core/events.ts";
import type { PostureReport } from "../../src/posture/types.ts";
import type { XrayReport } from "../../src/xray/types.ts";
import type { ConsoleBackend, Envelope, VerifyView } from "../../ui/tui/backend.ts";

/** 2026-01-01T12:00:00Z: the fixed clock of the console tests. */
export const T0 = Date.parse("2026-01-01T12:00:00.000Z");

/**
 * An in-memory ConsoleBackend: answers from fields the test sets, records every call that
 * acts (resolve, lockdown, unlock), and publishes events on demand.
 */
export class ScriptedBackend implements ConsoleBackend {
  envelopeValue: Envelope = {
    runtime: "gvisor",
    seccomp: "default",
    network: "none",
    lockdown: { active: false },
    policyTemplate: "strict",
    adapter: "not configured",
  };
  approvals: ApprovalRequest[] = [];
  audit: AuditEntry[] = [];
  explanations = new Map<string, string[]>();
  verifyResult: VerifyView = { ok: true, entries: 3, summary: "intact: 3 entries, root ab12cd34…" };
  postureReport: PostureReport = postureFixture();
  xrayReports = new Map<string, XrayReport>();
  failLockdown: Error | undefined;
  readonly calls = {
    resolve: [] as Array<{ id: string; requestHash: string; choice: ApprovalChoice }>,
    lockdown: [] as string[],
    unlock: 0,
    recentAudit: 0,
    posture: 0,
    xray: [] as string[],
    explain: [] as string[],
  };
  private readonly listeners = new Set<(event: EventEnvelope) => void>();
  private nextId = 1;

  emit<T extends AegisEventType>(type: T, data: EventEnvelope<T>["data"], time = new Date(T0).toISOString()): void {
    const event = { id: this.nextId++, type, time, data } as EventEnvelope;
    for (const listener of this.listeners) listener(event);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  async envelope(): Promise<Envelope> {
    return structuredClone(this.envelopeValue);
  }
  subscribe(listener: (event: EventEnvelope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  pendingApprovals(): ApprovalRequest[] {
    return [...this.approvals];
  }
  async resolveApproval(id: string, requestHash: string, choice: ApprovalChoice): Promise<void> {
    this.calls.resolve.push({ id, requestHash, choice });
  }
  async recentAudit(limit: number): Promise<AuditEntry[]> {
    this.calls.recentAudit++;
    return this.audit.slice(-limit);
  }
  async explain(id: string): Promise<string[]> {
    this.calls.explain.push(id);
    return this.explanations.get(id) ?? [`no explanation for ${id}`];
  }
  async verify(): Promise<VerifyView> {
    return this.verifyResult;
  }
  async posture(): Promise<PostureReport> {
    this.calls.posture++;
    return this.postureReport;
  }
  async xray(runId: string): Promise<XrayReport | undefined> {
    this.calls.xray.push(runId);
    return this.xrayReports.get(runId);
  }
  async lockdown(reason: string): Promise<{ killed: number }> {
    this.calls.lockdown.push(reason);
    if (this.failLockdown) throw this.failLockdown;
    this.envelopeValue.lockdown = { active: true, reason };
    return { killed: 2 };
  }
  async unlock(): Promise<void> {
    this.calls.unlock++;
    this.envelopeValue.lockdown = { active: false };
  }
  async close(): Promise<void> {}
}

/** A pending request with every field filled; `overrides` change any of them. */
export function approvalFixture(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: "run-approve-1",
    requestHash: "a".repeat(64),
    createdAt: new Date(T0).toISOString(),
    expiresAt: new Date(T0 + 5 * 60_000).toISOString(),
    actor: { name: "agent-7", source: "api" },
    argv: ["curl", "-s", "https://api.example.com/data"],
    image: "alpine:3.20",
    runtime: "gvisor",
    scopes: [
      { scope: "net:api.example.com:443", risk: "medium" },
      { scope: "fs:rw:/workspace", risk: "high" },
    ],
    reasons: [{ rule: "ask-network", message: "network access needs a human", scope: "net:api.example.com:443" }],
    risk: "high",
    skill: { name: "fetch-data", signature: "unsigned" },
    pid: 4242,
    ...overrides,
  };
}

/** An audit entry; `seq` also seeds its hashes. */
export function auditFixture(seq: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq,
    time: new Date(T0 + seq * 1000).toISOString(),
    prev: String(seq - 1).padStart(64, "0"),
    hash: String(seq).padStart(64, "0"),
    type: "decision",
    actor: { name: "alice", source: "cli" },
    runId: `run-${seq}`,
    decision: { kind: "allow", reasons: [{ rule: "builtin-scope", message: `granted ${seq}` }] },
    ...overrides,
  };
}

export function postureFixture(): PostureReport {
  return {
    score: 78,
    grade: "B",
    computedAt: new Date(T0).toISOString(),
    checks: [
      { id: "runtime", title: "Sandbox runtime", weight: 20, earned: 20, status: "pass", detail: "gVisor (runsc) is the default runtime" },
      { id: "network", title: "Default network", weight: 15, earned: 15, status: "pass", detail: "no network unless granted" },
      { id: "server-auth", title: "Server authentication", weight: 10, earned: 0, status: "fail", detail: "server listens without tokens", fix: "aegisclaw token create --role admin" },
      { id: "skill-signing", title: "Skill signatures", weight: 10, earned: 5, status: "partial", detail: "unsigned skills are allowed", fix: "set skills.requireSignature: true" },
    ],
  };
}

export function xrayFixture(runId: string): XrayReport {
  return {
    runId,
    containerId: "0123456789abcdef0123",
    image: "alpine:3.20",
    runtime: "runsc",
    state: "running",
    startedAt: new Date(T0).toISOString(),
    argv: ["sleep", "60"],
    processes: [
      { pid: "1", user: "65534", command: "sleep 60" },
      { pid: "7", user: "65534", command: "sh -c worker" },
    ],
    cpuPercent: 1.5,
    memoryBytes: 12 * 1024 * 1024,
    memoryLimitBytes: 256 * 1024 * 1024,
    pids: 2,
    network: null,
    mounts: [{ source: "/home/me/project", target: "/workspace", readOnly: true }],
    security: {
      user: "65534",
      readOnlyRootfs: true,
      capDrop: ["ALL"],
      capAdd: [],
      seccomp: "default",
      noNewPrivileges: true,
      networkMode: "none",
      pidsLimit: 64,
      memoryLimitBytes: 256 * 1024 * 1024,
    },
    sampledAt: new Date(T0).toISOString(),
  };
}
