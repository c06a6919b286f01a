import { type FSWatcher, watch } from "node:fs";
import { ApprovalSession, HomeMonitor, type ApprovalChoice } from "../../src/approvals/index.ts";
import type { App } from "../../src/app.ts";
import { adapterLine, loadOpenClawAdapterConfig } from "../../src/adapters/openclaw/index.ts";
import { explain, recentEntries, verifyLog } from "../../src/audit/index.ts";
import { engageLockdown, parseSize, releaseLockdown, type EventEnvelope } from "../../src/core/index.ts";
import { computePosture } from "../../src/posture/index.ts";
import { describeProfile, engineRuntimeOf } from "../../src/sandbox/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { inspectSandbox } from "../../src/xray/index.ts";
import type { ConsoleBackend, Envelope, VerifyView } from "./backend.ts";

const LOCKDOWN_POLL_MS = 200;
const AUDIT_DEBOUNCE_MS = 50;

/**
 * The console's port onto the real system: the same stores, Gate modules and control
 * sockets the CLI uses. Runs and approvals of every AegisClaw process of the home arrive
 * through the HomeMonitor; the lockdown flag and the audit directory are watched on disk, so
 * changes made by one-shot commands (`aegisclaw lockdown` in another shell) show up too.
 */
export async function createLiveBackend(app: App, who: string, listening?: string): Promise<ConsoleBackend> {
  const listeners = new Set<(event: EventEnvelope) => void>();
  const emit = (event: EventEnvelope) => {
    for (const listener of listeners) listener(event);
  };
  const session = new ApprovalSession();
  // The OpenClaw adapter's latest health, from whichever process holds the gateway connection.
  let adapterHealth: { status: string; checkedAt: string } | undefined;
  const noteAdapter = (event: EventEnvelope) => {
    if (event.type === "adapter.health") adapterHealth = (event as EventEnvelope<"adapter.health">).data;
  };
  const monitor: HomeMonitor = new HomeMonitor(app.layout.run, `console:${who}`, (event) => {
    noteAdapter(event);
    emit(event);
    if (event.type === "approval.requested") autoApprove(event as EventEnvelope<"approval.requested">);
  });
  // This process's own queue (its API runs with --listen) is answered directly; everything
  // else through the owning process's control socket.
  const resolve = async (id: string, requestHash: string, choice: ApprovalChoice) => {
    if (app.approvals.list().some((request) => request.id === id)) app.approvals.resolve(id, requestHash, choice, who, "console");
    else await monitor.resolve(id, requestHash, choice, who, "console");
  };
  // "Approve for session": identical requests (same hash) are answered by this console, and
  // each such answer is still a recorded approval in the requester's audit log.
  const autoApprove = (event: EventEnvelope<"approval.requested">) => {
    if (!session.covers(event.data)) return;
    resolve(event.data.id, event.data.requestHash, "approve-session").catch(() => {});
  };
  const unsubscribeBus = app.bus.subscribe((event) => {
    noteAdapter(event);
    emit(event);
    if (event.type === "approval.requested") queueMicrotask(() => autoApprove(event as EventEnvelope<"approval.requested">));
  });
  let lockdownActive = app.lockdown.read().active;
  const lockdownTimer = setInterval(() => {
    const state = app.lockdown.read();
    if (state.active === lockdownActive) return;
    lockdownActive = state.active;
    emit(synthetic("lockdown.changed", { active: state.active, ...(state.reason ? { reason: state.reason } : {}) }));
  }, LOCKDOWN_POLL_MS);
  const auditWatcher = watchAudit(app.layout.audit, () => emit(synthetic("audit.appended", { seq: 0, type: "unknown" })));
  await monitor.start();

  return {
    async envelope(): Promise<Envelope> {
      const runtime = app.config.sandbox.runtime;
      // The profile a plain run gets with the configured limits: what protects the next run.
      const limits = app.config.sandbox.limits;
      const spec = { runId: "envelope", image: app.config.sandbox.image, argv: ["true"], timeoutMs: 60_000, limits: { pids: limits.pids, memoryBytes: parseSize(limits.memory) ?? 256 * 1024 ** 2, cpus: limits.cpus, tmpfsBytes: parseSize(limits.tmpfs) ?? 64 * 1024 ** 2, outputBytes: parseSize(limits.output) ?? 16 * 1024 ** 2 } };
      const oci = engineRuntimeOf(runtime);
      const profile = describeProfile(spec, runtime, oci);
      const lock = app.lockdown.read();
      return {
        runtime: oci ? `${runtime} (${oci})` : runtime,
        seccomp: profile.seccomp.startsWith("AegisClaw") ? "AegisClaw profile" : profile.seccomp,
        network: profile.network,
        lockdown: { active: lock.active, ...(lock.reason ? { reason: lock.reason } : {}) },
        policyTemplate: app.config.policy.template,
        adapter: `${adapterLine(openClawEnabled(app.layout.root), adapterHealth)}${listening ? ` · ${listening}` : ""}`,
      };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pendingApprovals: () => [...app.approvals.list(), ...monitor.pending()],
    async resolveApproval(id: string, requestHash: string, choice: ApprovalChoice) {
      await resolve(id, requestHash, choice);
      if (choice === "approve-session") session.remember(requestHash);
    },
    async recentAudit(limit: number) {
      return recentEntries(app.layout.audit).slice(-limit);
    },
    async explain(id: string) {
      try {
        return explain(app.layout.audit, id).summary;
      } catch (error) {
        return [isAegisError(error) ? error.message : String(error)];
      }
    },
    async verify(): Promise<VerifyView> {
      const report = await verifyLog(app.layout.audit);
      const summary = report.ok
        ? `intact: ${report.entries} entries, ${report.checkpoints} signed checkpoint(s), root ${report.rootHash.slice(0, 16)}…`
        : `BROKEN at ${report.failure?.segment ?? "?"}${report.failure?.seq ? ` entry ${report.failure.seq}` : ""}: ${report.failure?.reason ?? "unknown"}`;
      return { ok: report.ok, entries: report.entries, summary };
    },
    posture: () => computePosture(app.layout.root, { config: app.config, runtime: app.runtime }),
    async xray(runId: string) {
      try {
        return await inspectSandbox(runId, { socketPath: app.config.sandbox.dockerSocket });
      } catch (error) {
        if (isAegisError(error, "bad-input")) return undefined;
        throw error;
      }
    },
    async lockdown(reason: string) {
      const report = await engageLockdown({ store: app.lockdown, runtime: { killAll: app.killAllSandboxes }, bus: app.bus, openAudit: app.openAudit }, { name: who, source: "tui" }, reason);
      lockdownActive = true;
      return { killed: report.killed };
    },
    async unlock() {
      await releaseLockdown({ store: app.lockdown, bus: app.bus, openAudit: app.openAudit }, { name: who, source: "tui" });
      lockdownActive = false;
    },
    async close() {
      clearInterval(lockdownTimer);
      auditWatcher?.close();
      unsubscribeBus();
      monitor.close();
      await app.close();
    },
  };
}

function openClawEnabled(home: string): boolean | Error {
  try {
    return loadOpenClawAdapterConfig(home).enabled;
  } catch (error) {
    return error as Error;
  }
}

function synthetic<T extends "lockdown.changed" | "audit.appended">(type: T, data: EventEnvelope<T>["data"]): EventEnvelope {
  return { id: 0, type, time: new Date().toISOString(), data } as EventEnvelope;
}

/** Calls `onChange` (debounced) when any process appends to the audit log. */
function watchAudit(dir: string, onChange: () => void): FSWatcher | undefined {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, AUDIT_DEBOUNCE_MS);
    });
  } catch {
    return undefined;
  }
}
