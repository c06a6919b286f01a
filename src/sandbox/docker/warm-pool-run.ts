/**
 * A run in a claimed warm-pool container: attach with stdin -> send the run header -> the pool
 * script `exec`s the command as PID 1 -> stream -> exit code (wait) -> remove. From the exec on,
 * the command is exactly what a cold run's is: PID 1 of its own hardened container, uid 65534,
 * in /tmp, with the run's env plus PATH, no stdin; its exit status is the container's. Output
 * goes through the same sink and limit as a cold run; timeout, abort and the output limit kill
 * the whole container. The container is removed afterwards on every path: it is never reused,
 * so nothing one run leaves behind (files in /tmp, background processes) can reach the next.
 */
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import { EXIT_KILLED, finalResult } from "../result.ts";
import type { SandboxIo, SandboxResult, SandboxSpec } from "../types.ts";
import { attachWithStdin, type StdinAttach } from "./attach-stdin.ts";
import { containerOptions } from "./container-config.ts";
import { dockerError, statusCodeOf } from "./docker-errors.ts";
import {
  createOutputSink,
  DRAIN_MS,
  removeQuietly,
  settleWithin,
  waitExit,
  wasOomKilled,
  KillSwitch,
  type RunContext,
} from "./run-container.ts";
import { claimPooled, type Refusal } from "./warm-pool-claim.ts";
import { createRunMarkerGate, notSendable, POOL_REFUSED_EXIT, runHeader, runNonce } from "./warm-pool-script.ts";

/**
 * Runs `spec` in a pooled container when one matches it, else answers undefined and the
 * caller runs it cold. Never answers undefined once the command may have started: a command
 * never runs twice.
 */
export async function runWarm(ctx: RunContext, spec: SandboxSpec, io: SandboxIo, onRefused?: (refusal: Refusal) => void): Promise<SandboxResult | undefined> {
  // Cancelled already, or a spec the cold path rejects: the cold path answers (with its own error).
  if (io.signal?.aborted) return undefined;
  try {
    validateLimits(spec.limits);
    if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) return undefined;
    containerOptions(spec, ctx.ociRuntime); // the env rules of a cold run (names, PATH, proxy variables)
    if (notSendable(spec.argv, spec.env ?? {}) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  const startedAt = performance.now();
  // A pool that cannot be read is no reason to fail the run: the cold path reports a broken engine itself.
  const claimed = await claimPooled(ctx, spec, onRefused).catch(() => undefined);
  if (!claimed) return undefined;
  const container = claimed.containerId;
  const nonce = runNonce();
  try {
    const header = runHeader(nonce, spec.argv, spec.env ?? {});
    const result = await execute(ctx, container, spec, nonce, header, io, startedAt);
    // Undefined: the engine would not attach with stdin; nothing was sent, so the run goes cold.
    return result === undefined ? undefined : { ...result, warm: true };
  } finally {
    await removeQuietly(ctx.engine, container).catch((error: unknown) => {
      throw dockerError(error, ctx.socketPath, "removing the sandbox");
    });
  }
}

async function execute(ctx: RunContext, container: string, spec: SandboxSpec, nonce: string, header: Uint8Array, io: SandboxIo, startedAt: number): Promise<SandboxResult | undefined> {
  const switched = new KillSwitch(ctx, container);
  const kill = switched.kill;
  const output = createOutputSink(spec.limits.outputBytes, io, kill);
  // Someone else's output (a header sent before ours) never reaches the run's consumers.
  let tampered = false;
  const gate = createRunMarkerGate(nonce, output.push, () => {
    tampered = true;
    if (switched.hasStarted) switched.send();
  });
  const onAbort = () => kill("abort");
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) kill("abort");
  let attach: StdinAttach | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let exitCode = EXIT_KILLED;
  try {
    // Attached before the header is sent, so no output is lost: the script prints nothing before its exec.
    const opened = switched.reason === undefined ? await openAttach(ctx, container, gate.push) : "gone";
    if (opened === "failed") return undefined;
    attach = opened === "gone" ? undefined : opened;
    if (attach !== undefined && switched.reason === undefined && !tampered && (await send(attach, header))) {
      // A kill requested while the header was in flight was held back: it goes out now.
      switched.started();
      if (tampered) switched.send();
      timer = setTimeout(() => kill("timeout"), spec.timeoutMs);
      exitCode = await waitExit(ctx, container);
      await settleWithin(attach.ended, DRAIN_MS);
    }
  } finally {
    output.close();
    clearTimeout(timer);
    io.signal?.removeEventListener("abort", onAbort);
    attach?.close();
  }
  if (output.consumerError !== undefined) throw output.consumerError;
  // The marker never came: our header was refused, or PID 1 was running something else already.
  const unconfirmed = switched.hasStarted && switched.reason === undefined && gate.state === "waiting" && exitCode !== EXIT_KILLED;
  if (unconfirmed && exitCode === POOL_REFUSED_EXIT) {
    throw new AegisError("internal", "the pooled sandbox refused the run header; the run's command did not run", { hint: "report this as a bug; set sandbox.warmPool.size to 0 meanwhile" });
  }
  if (tampered || unconfirmed) {
    throw new AegisError("unavailable", "the pooled sandbox did not confirm this run's header: something else wrote to its stdin first, so what ran there was not this run", {
      hint: "something with access to the Docker API attached to an idle AegisClaw container; check who uses the Docker socket",
    });
  }
  const oomKilled = switched.hasStarted ? await wasOomKilled(ctx.engine, container) : false;
  return finalResult(startedAt, container, switched.reason, exitCode, oomKilled, output);
}

/**
 * The attach with stdin. "gone" when the container is gone or stopped (lockdown's killAll
 * removed it after the claim): the run then reports 137, as a cold run removed before its
 * start. "failed" for any other failure (an engine or socket proxy that will not hijack the
 * connection): nothing was sent, and the caller goes cold.
 */
async function openAttach(ctx: RunContext, container: string, onOutput: (chunk: Uint8Array) => void): Promise<StdinAttach | "gone" | "failed"> {
  try {
    return await attachWithStdin(ctx.socketPath, container, onOutput);
  } catch (error) {
    const status = statusCodeOf(error);
    return status === 404 || status === 409 ? "gone" : "failed";
  }
}

/**
 * Sends the run header. False when the connection closed first (the container was removed
 * meanwhile); the command may then not have started, and the wait below would report 137 anyway.
 */
async function send(attach: StdinAttach, header: Uint8Array): Promise<boolean> {
  try {
    await attach.write(header);
    // Nothing more to say: the container's stdin closes, so nobody can write to it after us.
    attach.closeStdin();
    return true;
  } catch {
    return false;
  }
}
