/** Core: config and home, the Gate, events and lockdown. Front ends import only this. */
export { RunRequest, requestHash } from "./action.ts";
export { writeFileAtomic } from "../shared/index.ts";
export { Config, PolicyTemplate, auditLogOptions, defaultGrants, loadConfig, parseConfig, renderDefaultConfig, setPolicyTemplate } from "./config.ts";
export { EventBus, type AegisEvent, type AegisEventType, type EventEnvelope } from "./events.ts";
export { HISTORY_WINDOW_SECONDS, historyFrom, limitsFrom, type HistorySource } from "./gate-prepare.ts";
export { DEFAULT_APPROVAL_TIMEOUT_MS, type Approver } from "./gate-approval.ts";
export { type Assessment, type Assessor } from "./gate-assess.ts";
export { defaultDecisionWorkers, startAssessPool, type AssessPool } from "./assess-pool.ts";
export { Gate, type AuditSink, type GateDeps, type RunIo, type RunOutcome, type Simulation, type Verdict } from "./gate.ts";
export { ensureHomeDirectories, exists, homeLayout, requireInitialisedHome, resolveHome, type HomeLayout } from "./home.ts";
export { engageLockdown, releaseLockdown, type LockdownReport } from "./lockdown-control.ts";
export { LockdownState, LockdownStore } from "./lockdown.ts";
export { parseDuration, parseSize } from "./units.ts";
