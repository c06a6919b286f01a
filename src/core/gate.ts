import type { AuditLog, AuditRecord } from "../audit/index.ts";
import { createBuiltinEngine, parseEnforceableScopes, type Decision, type PolicyEngine, type Scope } from "../policy/index.ts";
import type { SandboxLimits, SandboxResult, SandboxRuntime } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";
import { requestHash, RunRequest, type NormalizedRunRequest } from "./action.ts";
import type { Config } from "./config.ts";
import type { EventBus } from "./events.ts";
import { LockdownWatch } from "./lockdown-watch.ts";
import type { LockdownStore } from "./lockdown.ts";
import { parseDuration, parseSize } from "./units.ts";

/** The Gate's view of the audit log: append, durable before it resolves. */
export type AuditSink = Pick<AuditLog, "append">;

/** What the Gate needs; the composition root (src/app.ts) passes real implementations. */
export interface GateDeps {
  config: Config;
  audit: AuditSink;
  runtime: SandboxRuntime;
  lockdown: LockdownStore;
  bus: EventBus;
  policy?: PolicyEngine;
}

/** Where a run's (already redacted) output goes, plus an optional cancel signal. */
export interface RunIo {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  signal?: AbortSignal;
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

/**
 * The one pipeline every action passes: validate -> lockdown -> policy -> audit(decision)
 * -> sandbox -> stream -> audit(result). No command runs unless its allow decision is
 * already durable in the audit log; any unexpected failure before that point denies.
 */
export class Gate {
  private readonly policy: PolicyEngine;

  constructor(private readonly deps: GateDeps) {
    this.policy = deps.policy ?? createBuiltinEngine();
  }

  /** Runs a command in the sandbox if policy allows it. Throws AegisError on deny/lockdown/bad input. */
  async run(input: RunRequest, io: RunIo): Promise<RunOutcome> {
    const { config, audit, lockdown, bus } = this.deps;
    const request = validate(input);
    const granted = parseEnforceableScopes([...config.policy.grants, ...request.grants]);
    const image = request.image ?? config.sandbox.image;
    const runtime = this.deps.runtime.name;
    const timeoutMs = request.timeoutMs ?? parseDuration(config.sandbox.timeout) ?? 300_000;
    const hash = requestHash({ ...request, image, runtime, timeoutMs });
    const runId = newRunId();
    const requested: Scope[] = [{ kind: "shell.exec", target: request.argv[0], text: `shell.exec:${request.argv[0]}`, risk: "high" }];
    const summary = { argv: request.argv, image, runtime, timeoutMs, granted: granted.map((s) => s.text), requested: requested.map((s) => s.text) };

    const lock = lockdown.read();
    const decision: Decision = lock.active
      ? { kind: "deny", risk: "high", reasons: [{ rule: "lockdown", message: `lockdown is active${lock.reason ? `: ${lock.reason}` : ""}` }] }
      : await this.decide({ actor: request.actor, argv: request.argv, image, runtime, requested, granted, lockdown: false });
    const decisionEntry = await audit.append({
      type: "decision",
      actor: request.actor,
      runId,
      requestHash: hash,
      request: summary,
      decision: { kind: decision.kind, reasons: decision.reasons },
    });
    bus.publish("decision", { runId, requestHash: hash, decision, auditSeq: decisionEntry.seq });
    if (lock.active) {
      throw new AegisError("lockdown", `run refused: ${decision.reasons[0]?.message ?? "lockdown is active"}`, { hint: "`aegisclaw unlock` lifts it" });
    }
    if (decision.kind !== "allow") throw denialError(request.argv, decision);

    const sandboxResult = await this.execute(runId, request, image, timeoutMs, io);
    const killedBy = sandboxResult.killedBy;
    const resultEntry = await audit.append({
      type: "result",
      actor: request.actor,
      runId,
      requestHash: hash,
      result: {
        exitCode: sandboxResult.exitCode,
        durationMs: sandboxResult.durationMs,
        timedOut: sandboxResult.timedOut,
        stdoutBytes: sandboxResult.stdoutBytes,
        stderrBytes: sandboxResult.stderrBytes,
        ...(killedBy ? { killedBy } : {}),
        ...(sandboxResult.error ? { error: sandboxResult.error } : {}),
      },
    } satisfies AuditRecord);
    bus.publish("run.finished", {
      runId,
      exitCode: sandboxResult.exitCode,
      durationMs: sandboxResult.durationMs,
      timedOut: sandboxResult.timedOut,
      ...(killedBy ? { killedBy } : {}),
    });
    if (sandboxResult.thrown) throw sandboxResult.thrown;
    return {
      runId,
      requestHash: hash,
      decision,
      exitCode: sandboxResult.exitCode,
      timedOut: sandboxResult.timedOut,
      durationMs: sandboxResult.durationMs,
      stdoutBytes: sandboxResult.stdoutBytes,
      stderrBytes: sandboxResult.stderrBytes,
      ...(killedBy ? { killedBy } : {}),
      decisionSeq: decisionEntry.seq,
      resultSeq: resultEntry.seq,
    };
  }

  /** Policy evaluation; an engine failure is a deny, never an allow. */
  private async decide(input: Parameters<PolicyEngine["decide"]>[0]): Promise<Decision> {
    try {
      const decision = await this.policy.decide(input);
      if (decision.kind === "ask") {
        // No approver exists yet (console/approvals issue): an unanswerable ask is a deny.
        return { ...decision, kind: "deny", reasons: [...decision.reasons, { rule: "approval.unavailable", message: "approval required but no approver is available" }] };
      }
      return decision;
    } catch (error) {
      return { kind: "deny", risk: "high", reasons: [{ rule: "policy.error", message: `policy evaluation failed: ${(error as Error).message}` }] };
    }
  }

  /** Runs the sandbox while watching the lockdown flag, so a lockdown from any process stops it. */
  private async execute(runId: string, request: NormalizedRunRequest, image: string, timeoutMs: number, io: RunIo) {
    const { config, runtime, lockdown, bus } = this.deps;
    const cancel = new AbortController();
    const watch = new LockdownWatch(lockdown, () => cancel.abort("lockdown"));
    const onUserAbort = () => cancel.abort("cancel");
    io.signal?.addEventListener("abort", onUserAbort, { once: true });
    const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const forward = (stream: "stdout" | "stderr") => (chunk: Uint8Array) => {
      io[stream](chunk);
      bus.publish("run.output", { runId, stream, text: decoder[stream].decode(chunk, { stream: true }) });
    };
    const started = performance.now();
    try {
      if (lockdown.isActive()) throw new AegisError("lockdown", "run refused: lockdown became active before the sandbox started");
      watch.start();
      bus.publish("run.started", { runId, argv: request.argv, image, runtime: runtime.name });
      const result = await runtime.run(
        { runId, image, argv: request.argv, timeoutMs, limits: limitsFrom(config), labels: { "io.aegisclaw.actor": request.actor.name } },
        { stdout: forward("stdout"), stderr: forward("stderr"), signal: cancel.signal },
      );
      return { ...result, killedBy: killedBy(result, cancel.signal, lockdown), error: undefined, thrown: undefined };
    } catch (error) {
      const killedByLockdown = isLockdownError(error);
      return {
        exitCode: killedByLockdown ? 75 : 1,
        timedOut: false,
        durationMs: Math.round(performance.now() - started),
        stdoutBytes: 0,
        stderrBytes: 0,
        killedBy: killedByLockdown ? "lockdown" : undefined,
        error: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
        thrown: error,
      };
    } finally {
      watch.stop();
      io.signal?.removeEventListener("abort", onUserAbort);
    }
  }
}

function validate(input: RunRequest): NormalizedRunRequest {
  const parsed = RunRequest.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") || "request";
  throw new AegisError("bad-input", `invalid run request: ${field}: ${issue?.message ?? "invalid"}`);
}

function denialError(argv: string[], decision: Decision): AegisError {
  const why = decision.reasons.map((reason) => `${reason.message} [${reason.rule}]`).join("; ");
  return new AegisError("denied", `denied: run of \`${argv.join(" ")}\`: ${why}`);
}

function killedBy(result: SandboxResult, signal: AbortSignal, lockdown: LockdownStore): string | undefined {
  if (signal.aborted) return String(signal.reason);
  if (result.timedOut) return "timeout";
  if (result.outputTruncated) return "output-limit";
  // Killed from outside (another process's lockdown kills every AegisClaw container).
  if (result.exitCode === 137 && lockdown.isActive()) return "lockdown";
  return undefined;
}

function isLockdownError(error: unknown): boolean {
  return error instanceof AegisError && error.code === "lockdown";
}

function limitsFrom(config: Config): SandboxLimits {
  const limits = config.sandbox.limits;
  return {
    pids: limits.pids,
    memoryBytes: parseSize(limits.memory) ?? 256 * 1024 ** 2,
    cpus: limits.cpus,
    tmpfsBytes: parseSize(limits.tmpfs) ?? 64 * 1024 ** 2,
    outputBytes: parseSize(limits.output) ?? 16 * 1024 ** 2,
  };
}

/** Time-sortable run id: `r-` + base36 milliseconds + 8 random hex digits. */
function newRunId(): string {
  const random = crypto.getRandomValues(new Uint8Array(4));
  return `r-${Date.now().toString(36)}-${Buffer.from(random).toString("hex")}`;
}
