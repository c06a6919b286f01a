import { Redactor } from "../redact/index.ts";
import { ServiceOutput } from "./service-output.ts";
import type { SandboxResult, SandboxRuntime } from "../sandbox/index.ts";
import type { RunSecretSource } from "../secrets/index.ts";
import { AegisError } from "../shared/index.ts";
import type { EventBus } from "./events.ts";
import type { RunIo } from "./gate.ts";
import type { PreparedRun } from "./gate-prepare.ts";
import { withRunSecrets } from "./gate-secrets.ts";
import { LockdownWatch } from "./lockdown-watch.ts";
import type { LockdownStore } from "./lockdown.ts";

/** What the sandbox stage needs from the Gate. */
export interface ExecuteDeps {
  lockdown: LockdownStore;
  bus: EventBus;
  secrets?: RunSecretSource;
  /** The requested runtime; throws `unavailable` when this process does not have it. */
  runtime(): SandboxRuntime;
}

/**
 * The sandbox stage: runs the prepared command while watching the lockdown flag, so a lockdown
 * from any process stops it, and passes every byte of output through the redactor.
 */
export async function executeRun(deps: ExecuteDeps, prepared: PreparedRun, io: RunIo): Promise<Executed> {
  const { lockdown, bus } = deps;
  const { runId, spec } = prepared;
  const cancel = new AbortController();
  const watch = new LockdownWatch(lockdown, () => cancel.abort("lockdown"));
  const onUserAbort = () => cancel.abort("cancel");
  io.signal?.addEventListener("abort", onUserAbort, { once: true });
  // Every byte of output passes the redactor before any consumer (invariant 3); a stream
  // holds back only what an unfinished match still needs and is flushed when the run ends.
  const redactor = new Redactor();
  const redacting = { stdout: redactor.stream(), stderr: redactor.stream() };
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const emit = (stream: "stdout" | "stderr", safe: Uint8Array) => {
    if (safe.length === 0) return;
    io[stream](safe);
    bus.publish("run.output", { runId, stream, text: decoder[stream].decode(safe, { stream: true }) });
  };
  let firstSign: number | undefined;
  const forward = (stream: "stdout" | "stderr") => (chunk: Uint8Array) => {
    firstSign ??= performance.now();
    emit(stream, redacting[stream].push(chunk));
  };
  // Other services of a multi-container run: redacted each on its own streams (a secret split
  // across one service's writes is still caught), then shown on stderr line by line, `[name] ...`.
  const services = new ServiceOutput(redactor, (line) => emit("stderr", line));
  const flush = () => {
    emit("stdout", redacting.stdout.flush());
    emit("stderr", redacting.stderr.flush());
    services.flush();
    return redactor.counts().total;
  };
  const started = performance.now();
  try {
    if (lockdown.isActive()) throw new AegisError("lockdown", "run refused: lockdown became active before the sandbox started");
    const runtime = deps.runtime();
    watch.start();
    const skill = prepared.request.skill?.name;
    bus.publish("run.started", { runId, argv: spec.argv, image: spec.image, runtime: runtime.name, ...(skill ? { skill } : {}) });
    const handedOver = performance.now();
    const sandboxIo = { stdout: forward("stdout"), stderr: forward("stderr"), signal: cancel.signal, service: (name: string) => services.sink(name) };
    const result = await withRunSecrets(deps.secrets, spec, redactor, (ready) => runtime.run(ready, sandboxIo));
    const startupMs = (firstSign ?? performance.now()) - handedOver;
    return { ...result, killedBy: killedBy(result, cancel.signal, lockdown), redactions: flush(), redactionKinds: redactor.counts().byKind, startupMs };
  } catch (error) {
    // A sandbox (or the runtime's self-test) killed by another process's lockdown surfaces
    // as a runtime failure; with the flag up, lockdown is what ended the run.
    const byLockdown = (error instanceof AegisError && error.code === "lockdown") || lockdown.isActive();
    return {
      exitCode: byLockdown ? 75 : 1,
      timedOut: false,
      durationMs: Math.round(performance.now() - started),
      stdoutBytes: 0,
      stderrBytes: 0,
      killedBy: byLockdown ? "lockdown" : undefined,
      redactions: flush(),
      redactionKinds: redactor.counts().byKind,
      error: redactor.redactText(error instanceof Error ? error.message : String(error)).slice(0, 1000),
      thrown: byLockdown && !(error instanceof AegisError && error.code === "lockdown")
        ? new AegisError("lockdown", "run stopped: lockdown engaged while the sandbox was starting", { hint: "`aegisclaw unlock` lifts it" })
        : error,
    };
  } finally {
    watch.stop();
    io.signal?.removeEventListener("abort", onUserAbort);
  }
}

export interface Executed {
  exitCode: number;
  /** How many redactions the output needed (counted, never the values). */
  redactions: number;
  /** The same, by kind (`secret:NAME`, `github-token`, ...). */
  redactionKinds: Record<string, number>;
  timedOut: boolean;
  durationMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  killedBy: string | undefined;
  /** Ran in a claimed warm-pool container (SandboxResult.warm). */
  warm?: boolean;
  /** Time to the sandbox's first sign of life; absent when it failed to run. */
  startupMs?: number;
  error?: string;
  thrown?: unknown;
}

function killedBy(result: SandboxResult, signal: AbortSignal, lockdown: LockdownStore): string | undefined {
  if (signal.aborted) return String(signal.reason);
  if (result.timedOut) return "timeout";
  if (result.outputTruncated) return "output-limit";
  // Killed from outside (another process's lockdown kills every AegisClaw container).
  if (result.exitCode === 137 && lockdown.isActive()) return "lockdown";
  return undefined;
}
