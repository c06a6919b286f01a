import type { AuditLog, AuditReason, AuditRecord, AuditSource } from "../audit/index.ts";
import { createBuiltinEngine, decideSafely, type Decision, type PolicyEngine, type PolicyInput } from "../policy/index.ts";
import { describeProfile, engineRuntimeOf, type SandboxProfile, type SandboxRuntime } from "../sandbox/index.ts";
import { AegisError, isAegisError } from "../shared/index.ts";
import type { RunSecretSource } from "../secrets/index.ts";
import type { RunRequest } from "./action.ts";
import type { Config } from "./config.ts";
import type { EventBus } from "./events.ts";
import { approvalRecord, approvalRequestFor, awaitApproval, checkApproval, DEFAULT_APPROVAL_TIMEOUT_MS, type Approvable, type Approver } from "./gate-approval.ts";
import { executeRun } from "./gate-execute.ts";
import { decisionFor, localAssessor, type Assessor } from "./gate-assess.ts";
import { NO_HISTORY, prepareRun, type HistorySource } from "./gate-prepare.ts";
import { checkRunSecrets, knownValuesRedactor } from "./gate-secrets.ts";
import type { LockdownState, LockdownStore } from "./lockdown.ts";
import { prepareToolCall, ToolCallResult, type ToolCallRequest } from "./tool-call.ts";

/** The Gate's view of the audit log: append, durable before it resolves. */
export type AuditSink = Pick<AuditLog, "append">;

/** What the Gate needs; the composition root (src/app.ts) passes real implementations. */
export interface GateDeps {
  config: Config;
  /** `$AEGISCLAW_HOME`: never mountable into a sandbox (it holds the audit signing key). */
  home: string;
  audit: AuditSink;
  runtime: SandboxRuntime;
  /**
   * Runtimes a request may pick by name (`runtime` field, else `sandbox.runtime`). Without
   * it only `runtime` serves, and only requests for its own name. A function builds them on
   * demand (the app: any OCI runtime registered with Docker may be asked for).
   */
  runtimes?: Readonly<Partial<Record<string, SandboxRuntime>>> | ((name: string) => SandboxRuntime | undefined);
  lockdown: LockdownStore;
  bus: EventBus;
  policy?: PolicyEngine;
  /** The actor's recent decisions for the policy input (default: none recorded). */
  history?: HistorySource;
  /** Who answers `ask` decisions. Without one, an ask is a deny (`approval.unavailable`). */
  approver?: Approver;
  /** How long an ask waits for its answer (default 120 s). */
  approvalTimeoutMs?: number;
  /** The secret store (gate-secrets.ts). Without it a run granted secrets.read is refused. */
  secrets?: RunSecretSource;
  /**
   * Where run requests are validated and decided before they are recorded (gate-assess.ts):
   * default this thread, with the fields above; `serve` passes its decision workers.
   */
  assessor?: Assessor;
}

/** Where a run's (already redacted) output goes, plus an optional cancel signal. */
export interface RunIo {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  signal?: AbortSignal;
  /**
   * Called once the decision is durable in the audit log, before any approval wait or
   * execution: front ends that answer early (the API returns the run id) learn it here.
   */
  onDecision?(decided: { runId: string; requestHash: string; decision: Decision; auditSeq: number }): void;
}

/**
 * What `decide` answers: a verdict without execution. Deny (policy, person, timeout or
 * lockdown) is a value here, not an error, so an agent always gets the reasons.
 */
export interface Verdict {
  verdict: "allow" | "deny";
  /** The request's id (the approval id when a person was asked). */
  id: string;
  requestHash: string;
  /** The policy's decision as given, before any approval. */
  decision: Decision;
  /** Why: the policy's reasons, then the approval's when a person (or the timeout) answered. */
  reasons: AuditReason[];
  /** Set when a person was asked. */
  approval?: { outcome: "approved" | "denied" | "expired"; by: string; via: string };
  /** True when lockdown refused it. */
  lockdown: boolean;
  decisionSeq: number;
  approvalSeq?: number;
}

/** The outcome of a run that was allowed and executed. Denials and lockdown are errors. */
export interface RunOutcome {
  runId: string;
  requestHash: string;
  decision: Decision;
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** Set when something outside the command ended it: "lockdown", "timeout", "cancel", "output-limit". */
  killedBy?: string;
  decisionSeq: number;
  resultSeq: number;
}

/** What `simulate` reports: the decision as policy gave it, and the sandbox a run would get. */
export interface Simulation {
  requestHash: string;
  decision: Decision;
  /** The policy asked for a human: `run` would wait for an approval (and be denied without an approver). */
  approvalRequired: boolean;
  /** What `run` would do with this decision: run, wait for a person (ask), refuse. */
  outcome: "run" | "ask" | "deny" | "lockdown";
  policyInput: PolicyInput;
  sandbox: SandboxProfile;
}

/**
 * The one pipeline every action passes: validate -> lockdown -> policy -> audit(decision)
 * -> sandbox -> stream -> audit(result). No command runs unless its allow decision is
 * already durable in the audit log; any unexpected failure before that point denies.
 */
export class Gate {
  private readonly policy: PolicyEngine;
  private readonly assessor: Assessor;

  constructor(private readonly deps: GateDeps) {
    this.policy = deps.policy ?? createBuiltinEngine();
    this.assessor = deps.assessor ?? localAssessor({ config: deps.config, home: deps.home, lockdown: deps.lockdown, history: deps.history ?? NO_HISTORY, policy: this.policy });
  }

  /** The same stages as `run` up to the sandbox profile; executes and records nothing. */
  async simulate(input: RunRequest): Promise<Simulation> {
    const lock = this.deps.lockdown.read();
    const runtime = this.runtimeName(input);
    const prepared = prepareRun(input, this.deps.config, runtime, lock.active, this.deps.history ?? NO_HISTORY, this.deps.home);
    const decision = await this.evaluate(prepared.policyInput);
    const sandbox = describeProfile(prepared.spec, runtime, engineRuntimeOf(runtime));
    const outcome = lock.active ? "lockdown" : decision.kind === "allow" ? "run" : decision.kind === "ask" ? "ask" : "deny";
    return { requestHash: prepared.hash, decision, approvalRequired: decision.kind === "ask", outcome, policyInput: prepared.policyInput, sandbox };
  }

  /**
   * The decision-only pipeline for agents that want a verdict without execution: validate ->
   * lockdown -> policy -> audit(decision) -> approval (an ask waits for a person like `run`)
   * -> audit(approval). Nothing runs. Bad input still throws; every deny is a verdict.
   */
  async decide(input: RunRequest, signal?: AbortSignal): Promise<Verdict> {
    return this.verdictFor(await this.decideStage(input, this.runtimeName(input), true), signal);
  }

  /**
   * The same decision-only pipeline for a tool call an agent makes on its own host (an
   * adapter translated it into words and scopes): nothing runs here, the verdict says whether
   * the agent may. `recordToolResult` completes the audit trail once the host reports back.
   */
  async decideToolCall(input: ToolCallRequest, signal?: AbortSignal): Promise<Verdict> {
    const lock = this.deps.lockdown.read();
    const prepared = prepareToolCall(input, lock.active, this.deps.history ?? NO_HISTORY);
    const decided = await decisionFor(this.policy, prepared.policyInput, lock);
    return this.verdictFor(await this.recordDecision(prepared, prepared.summary, lock, decided, true), signal);
  }

  /**
   * Appends the result entry of an allowed tool call as its host reported it. The caller
   * checks that `id` is a call it was allowed (the audit log cannot tell who may report).
   */
  async recordToolResult(input: { actor: { name: string; source: AuditSource }; id: string; requestHash: string; result: ToolCallResult }): Promise<{ seq: number }> {
    const parsed = ToolCallResult.safeParse(input.result);
    if (!parsed.success) throw new AegisError("bad-input", `invalid tool result: ${parsed.error.issues[0]?.path.join(".") || "result"}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const result = parsed.data;
    // -1: the host reported no exit code (a tool that is not a process, or one blocked later).
    const exitCode = result.exitCode ?? (result.status === "completed" ? 0 : -1);
    // The host's error text is free text: the store's values are redacted from it, not only known token formats.
    const redactor = result.error ? await knownValuesRedactor(this.deps.secrets) : undefined;
    const entry = await this.deps.audit.append({
      type: "result",
      actor: input.actor,
      runId: input.id,
      requestHash: input.requestHash,
      result: { exitCode, durationMs: result.durationMs ?? 0, timedOut: false, stdoutBytes: 0, stderrBytes: 0, ...(result.error && redactor ? { error: redactor.redactText(result.error) } : {}) },
      note: `tool call ${result.status} on the agent's host (reported by ${input.actor.name})`,
    });
    return { seq: entry.seq };
  }

  /** decide's tail, shared by runs and tool calls: a verdict (after a person when asked), deny as a value. */
  private async verdictFor(stage: { prepared: Approvable; lock: LockdownState; decision: Decision; decisionEntry: { seq: number } }, signal: AbortSignal | undefined): Promise<Verdict> {
    const { prepared, lock, decision, decisionEntry } = stage;
    const base = { id: prepared.runId, requestHash: prepared.hash, decision, decisionSeq: decisionEntry.seq, lockdown: lock.active };
    if (lock.active || decision.kind === "deny") return { ...base, verdict: "deny", reasons: decision.reasons };
    if (decision.kind === "allow") return { ...base, verdict: "allow", reasons: decision.reasons };
    const { resolution, timeoutMs, seq } = await this.askPerson(prepared, decision, signal);
    const approval = { outcome: resolution.outcome, by: resolution.by, via: resolution.via };
    const answered = { ...base, approval, approvalSeq: seq };
    try {
      checkApproval(resolution, prepared, timeoutMs);
      return { ...answered, verdict: "allow", reasons: [...decision.reasons, ...(approvalRecord(resolution, prepared).decision?.reasons ?? [])] };
    } catch (error) {
      if (!isAegisError(error, "denied") && !isAegisError(error, "lockdown")) throw error;
      const rule = error.code === "lockdown" ? "lockdown" : resolution.outcome === "approved" ? "approval.mismatch" : `approval.${resolution.outcome}`;
      return { ...answered, verdict: "deny", lockdown: error.code === "lockdown", reasons: [...decision.reasons, { rule, message: error.message }] };
    }
  }

  /** Runs a command in the sandbox if policy allows it. Throws AegisError on deny/lockdown/bad input. */
  async run(input: RunRequest, io: RunIo): Promise<RunOutcome> {
    const { bus } = this.deps;
    const runtimeName = this.runtimeName(input);
    const { prepared, lock, decision, decisionEntry } = await this.decideStage(input, runtimeName, false);
    const { request, runId, hash } = prepared;
    io.onDecision?.({ runId, requestHash: hash, decision, auditSeq: decisionEntry.seq });
    if (lock.active) {
      throw new AegisError("lockdown", `run refused: ${decision.reasons[0]?.message ?? "lockdown is active"}`, { hint: "`aegisclaw unlock` lifts it" });
    }
    if (decision.kind === "deny") throw denialError(request.argv, decision);
    if (decision.kind === "ask") await this.approve(prepared, decision, io.signal);

    const executed = await executeRun({ lockdown: this.deps.lockdown, bus, secrets: this.deps.secrets, runtime: () => this.runtimeFor(runtimeName) }, prepared, io);
    const { killedBy } = executed;
    const resultEntry = await this.deps.audit.append({
      type: "result",
      actor: request.actor,
      runId,
      requestHash: hash,
      result: {
        exitCode: executed.exitCode,
        durationMs: executed.durationMs,
        timedOut: executed.timedOut,
        stdoutBytes: executed.stdoutBytes,
        stderrBytes: executed.stderrBytes,
        ...(killedBy ? { killedBy } : {}),
        ...(executed.error ? { error: executed.error } : {}),
        ...(executed.warm ? { warm: true as const } : {}),
      },
      ...(executed.redactions > 0 ? { redactions: executed.redactions, redactionKinds: executed.redactionKinds } : {}),
    } satisfies AuditRecord);
    bus.publish("run.finished", {
      runId,
      exitCode: executed.exitCode,
      durationMs: executed.durationMs,
      timedOut: executed.timedOut,
      ...(killedBy ? { killedBy } : {}),
      redactions: executed.redactions,
      ...(executed.redactions > 0 ? { redactionKinds: executed.redactionKinds } : {}),
      ...(executed.startupMs !== undefined ? { startupMs: executed.startupMs } : {}),
    });
    if (executed.thrown) throw executed.thrown;
    return {
      runId,
      requestHash: hash,
      decision,
      exitCode: executed.exitCode,
      timedOut: executed.timedOut,
      durationMs: executed.durationMs,
      stdoutBytes: executed.stdoutBytes,
      stderrBytes: executed.stderrBytes,
      ...(killedBy ? { killedBy } : {}),
      decisionSeq: decisionEntry.seq,
      resultSeq: resultEntry.seq,
    };
  }

  /**
   * The approval stage: the ask is already durable; the person's answer is recorded before
   * anything runs, and only an approval of this exact request (id and hash) lets it through.
   */
  private async approve(prepared: Approvable, decision: Decision, cancel: AbortSignal | undefined): Promise<void> {
    const { resolution, timeoutMs } = await this.askPerson(prepared, decision, cancel);
    checkApproval(resolution, prepared, timeoutMs);
  }

  /** Queues the ask for a person and records the answer (or the timeout) before returning it. */
  private async askPerson(prepared: Approvable, decision: Decision, cancel: AbortSignal | undefined) {
    const { approver, lockdown } = this.deps;
    if (!approver) throw new AegisError("internal", "ask without an approver");
    const timeoutMs = this.deps.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    const resolution = await awaitApproval(approver, approvalRequestFor(prepared, decision, timeoutMs), lockdown, cancel);
    const entry = await this.deps.audit.append(approvalRecord(resolution, prepared));
    return { resolution, timeoutMs, seq: entry.seq };
  }

  /**
   * validate -> lockdown -> policy -> audit(decision), shared by `run` and `decide`: the
   * decision is durable and published before the caller acts on it.
   */
  private async decideStage(input: RunRequest, runtimeName: string, decideOnly: boolean) {
    const { prepared, lock, ...decided } = await this.assessor.assess(input, runtimeName);
    // Here, not in the assessor: the store's known values live in this process's resolver.
    await checkRunSecrets(this.deps.secrets, prepared);
    // A decide-only entry says so, since no result entry will ever follow it.
    const summary = decideOnly ? { ...prepared.summary, execution: "none (decision only)" } : prepared.summary;
    return this.recordDecision(prepared, summary, lock, decided, decideOnly);
  }

  /** audit(decision) -> publish, for a prepared run or tool call whose decision is made. */
  private async recordDecision<P extends Approvable>(prepared: P, summary: Record<string, unknown>, lock: LockdownState, decided: { decision: Decision; evaluationMs?: number }, decideOnly: boolean) {
    const { request, runId, hash } = prepared;
    const decision = this.deps.approver ? decided.decision : withoutApprover(decided.decision);
    const { evaluationMs } = decided;
    const decisionEntry = await this.deps.audit.append({
      type: "decision",
      actor: request.actor,
      runId,
      requestHash: hash,
      request: summary,
      decision: { kind: decision.kind, reasons: decision.reasons },
    });
    this.deps.bus.publish("decision", { runId, requestHash: hash, decision, auditSeq: decisionEntry.seq, ...(evaluationMs === undefined ? {} : { evaluationMs }), ...(decideOnly ? { decideOnly } : {}) });
    return { prepared, lock, decision, decisionEntry };
  }

  /** Policy evaluation; an engine failure is a deny, never an allow. */
  private evaluate(input: PolicyInput): Promise<Decision> {
    return decideSafely(this.policy, input);
  }

  /** The runtime a request asks for; it is part of the request hash and the audit summary. */
  private runtimeName(input: RunRequest): string {
    return input.runtime ?? this.deps.config.sandbox.runtime;
  }

  /** The requested runtime, never a substitute: a missing one refuses the run (exit 69). */
  private runtimeFor(name: string): SandboxRuntime {
    const { runtimes } = this.deps;
    const named = typeof runtimes === "function" ? runtimes(name) : runtimes?.[name];
    const runtime = named ?? (this.deps.runtime.name === name ? this.deps.runtime : undefined);
    if (!runtime) throw new AegisError("unavailable", `sandbox runtime ${name} is not available in this AegisClaw process`, { hint: "use --runtime docker, or configure the runtime (aegisclaw doctor)" });
    return runtime;
  }

}

/** No approver exists yet (console/approvals issue): an ask nobody can answer is a deny. */
function withoutApprover(decision: Decision): Decision {
  if (decision.kind !== "ask") return decision;
  return { ...decision, kind: "deny", reasons: [...decision.reasons, { rule: "approval.unavailable", message: "approval required but no approver is available" }] };
}

function denialError(argv: string[], decision: Decision): AegisError {
  const why = decision.reasons.map((reason) => `${reason.message} [${reason.rule}]`).join("; ");
  return new AegisError("denied", `denied: run of \`${argv.join(" ")}\`: ${why}`);
}
