/**
 * A run in a claimed warm-pool container: exec -> stream -> exit code -> remove. The command
 * runs through the exec API (argv array, no shell) as uid 65534, with the environment a fresh
 * container would get; exec processes inherit the container's seccomp profile, empty
 * capability sets and no-new-privileges (test/sandbox/warm-pool.test.ts checks from inside).
 * Output goes through the same sink and limit as a cold run; timeout, abort and the output
 * limit kill the whole container. The container is removed afterwards on every path: it is
 * never reused, so nothing one run leaves behind (files in /tmp, background processes) can
 * reach the next.
 */
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import type { SandboxIo, SandboxResult, SandboxSpec } from "../types.ts";
import { containerOptions, SANDBOX_USER } from "./container-config.ts";
import { dockerError, statusCodeOf } from "./docker-errors.ts";
import { createOutputSink, EXIT_KILLED, finalResult, pump, removeQuietly, wasOomKilled, type KillReason, type RunContext } from "./run-container.ts";
import { claimPooled, type Refusal } from "./warm-pool-claim.ts";

/** How often the exec's state is read once its output has ended but it has not (yet) exited. */
const EXIT_POLL_MS = 25;
/** After we killed the container, how long to wait for the engine to report the exec gone. */
const KILL_SETTLE_MS = 5000;

/**
 * Runs `spec` in a pooled container when one matches it, else answers undefined and the
 * caller runs it cold. Never answers undefined once the command may have started: a command
 * never runs twice.
 */
export async function runWarm(ctx: RunContext, spec: SandboxSpec, io: SandboxIo, onRefused?: (refusal: Refusal) => void): Promise<SandboxResult | undefined> {
  // Cancelled already, or a spec the cold path rejects: the cold path answers (with its own error).
  if (io.signal?.aborted) return undefined;
  let env: string[];
  try {
    validateLimits(spec.limits);
    if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) return undefined;
    env = containerOptions(spec, ctx.ociRuntime).Env ?? [];
  } catch {
    return undefined;
  }
  const startedAt = performance.now();
  // A pool that cannot be read is no reason to fail the run: the cold path reports a broken engine itself.
  const claimed = await claimPooled(ctx, spec, onRefused).catch(() => undefined);
  if (!claimed) return undefined;
  const container = claimed.containerId;
  try {
    return { ...(await execute(ctx, container, spec, env, io, startedAt)), warm: true };
  } finally {
    await removeQuietly(ctx.engine, container).catch((error: unknown) => {
      throw dockerError(error, ctx.socketPath, "removing the sandbox");
    });
  }
}

async function execute(ctx: RunContext, container: string, spec: SandboxSpec, env: string[], io: SandboxIo, startedAt: number): Promise<SandboxResult> {
  let reason: KillReason | undefined;
  let started = false;
  const sendKill = () => void ctx.engine.request("POST", `/containers/${container}/kill`, { query: { signal: "SIGKILL" } }).catch(() => undefined);
  const kill = (why: KillReason) => {
    if (reason) return;
    reason = why;
    if (started) sendKill();
  };
  const output = createOutputSink(spec.limits.outputBytes, io, kill);
  const onAbort = () => kill("abort");
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) kill("abort");
  const stream = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let exitCode = EXIT_KILLED;
  try {
    const exec = reason === undefined ? await createExec(ctx, container, spec, env) : undefined;
    const response = exec !== undefined && reason === undefined ? await startExec(ctx, exec, stream.signal) : undefined;
    if (exec !== undefined && response !== undefined) {
      started = true;
      // A kill requested while start was in flight was held back: send it now.
      if (reason) sendKill();
      timer = setTimeout(() => kill("timeout"), spec.timeoutMs);
      const drained = pump(response, output.push);
      exitCode = await execExit(ctx, exec, drained, () => reason !== undefined);
    }
  } finally {
    output.close();
    clearTimeout(timer);
    io.signal?.removeEventListener("abort", onAbort);
    stream.abort();
  }
  if (output.consumerError !== undefined) throw output.consumerError;
  const oomKilled = started ? await wasOomKilled(ctx.engine, container) : false;
  return finalResult(startedAt, container, reason, exitCode, oomKilled, output);
}

/**
 * Creates the exec: our argv, our user, the env a cold run would get, no tty, no stdin, never
 * privileged. Undefined when the container is gone or stopped (lockdown's killAll): the run
 * then reports 137, as a cold run removed before its start does.
 */
async function createExec(ctx: RunContext, container: string, spec: SandboxSpec, env: string[]): Promise<string | undefined> {
  const body = {
    Cmd: spec.argv,
    Env: env,
    User: SANDBOX_USER,
    WorkingDir: "/tmp",
    Privileged: false,
    Tty: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
  };
  try {
    const created = await ctx.engine.json<{ Id?: unknown }>("POST", `/containers/${container}/exec`, { body });
    if (typeof created?.Id !== "string") throw new AegisError("internal", "Docker exec create returned no exec id");
    return created.Id;
  } catch (error) {
    const status = statusCodeOf(error);
    if (status === 404 || status === 409) return undefined;
    throw dockerError(error, ctx.socketPath, "creating the command in the pooled sandbox");
  }
}

/** Starts the exec attached; the response body is the multiplexed output until the exec's streams close. */
async function startExec(ctx: RunContext, exec: string, signal: AbortSignal): Promise<Response | undefined> {
  try {
    return await ctx.engine.request("POST", `/exec/${exec}/start`, { body: { Detach: false, Tty: false }, signal });
  } catch (error) {
    const status = statusCodeOf(error);
    if (status === 404 || status === 409) return undefined;
    throw dockerError(error, ctx.socketPath, "starting the command in the pooled sandbox");
  }
}

/**
 * The exec's exit status. Its output ending usually means it exited; a command that closed
 * its output but runs on is polled until it exits or we kill the container. Gone (the
 * container was removed, e.g. by killAll) counts as SIGKILLed.
 */
async function execExit(ctx: RunContext, exec: string, drained: Promise<void>, killed: () => boolean): Promise<number> {
  await drained;
  let killedAt: number | undefined;
  for (;;) {
    let info: { Running?: unknown; ExitCode?: unknown };
    try {
      info = await ctx.engine.json<{ Running?: unknown; ExitCode?: unknown }>("GET", `/exec/${exec}/json`);
    } catch (error) {
      if (statusCodeOf(error) === 404) return EXIT_KILLED;
      throw dockerError(error, ctx.socketPath, "reading the command's exit status");
    }
    if (info.Running === false) return typeof info.ExitCode === "number" ? info.ExitCode : EXIT_KILLED;
    if (killed()) {
      killedAt ??= performance.now();
      if (performance.now() - killedAt > KILL_SETTLE_MS) return EXIT_KILLED;
    }
    await Bun.sleep(EXIT_POLL_MS);
  }
}
