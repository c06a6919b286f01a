/**
 * One sandboxed run on Docker: create -> verify hardening -> attach -> start -> wait -> remove.
 *
 * AutoRemove stays off (it races with wait and loses the exit code, see notes/stack.md §3);
 * the container is removed in `finally` on every path, including errors and aborts.
 */
import type Docker from "dockerode";
import type { Container, ContainerCreateOptions } from "dockerode";
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import type { SandboxIo, SandboxResult, SandboxSpec } from "../types.ts";
import { containerOptions, hardeningProblems } from "./container-config.ts";
import { createDemuxer, type StreamName } from "./demux.ts";
import { dockerError, missingImageError, statusCodeOf } from "./docker-errors.ts";

/** What a run needs from the runtime that owns it. */
export interface RunContext {
  docker: Docker;
  socketPath: string;
  ociRuntime: string | undefined;
}

/** Exit codes of runs we ended ourselves, following shell conventions (timeout(1), Ctrl-C, SIGKILL). */
export const EXIT_TIMEOUT = 124;
export const EXIT_ABORTED = 130;
export const EXIT_KILLED = 137;

/** After the command exits, how long to wait for output still in flight on the attach stream. */
const DRAIN_MS = 2000;

type KillReason = "timeout" | "abort" | "output";

/** Runs `spec` in a hardened container; see SandboxRuntime.run. */
export async function runContainer(ctx: RunContext, spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  validateLimits(spec.limits);
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new AegisError("bad-input", `sandbox timeout must be a positive number of milliseconds, got ${String(spec.timeoutMs)}`);
  }
  const startedAt = performance.now();
  if (io.signal?.aborted) return { ...emptyResult(startedAt, ""), aborted: true, exitCode: EXIT_ABORTED };
  const container = await createHardened(ctx, spec);
  try {
    return await execute(ctx, container, spec, io, startedAt);
  } finally {
    await removeQuietly(container).catch((error: unknown) => {
      throw dockerError(error, ctx.socketPath, "removing the sandbox");
    });
  }
}

/** Creates the container and refuses it (removing it) unless every hardening setting landed. */
async function createHardened(ctx: RunContext, spec: SandboxSpec): Promise<Container> {
  const options = containerOptions(spec, ctx.ociRuntime);
  let created: { id: string; warnings: string[] };
  try {
    created = await createWithWarnings(ctx.docker, options);
  } catch (error) {
    if (statusCodeOf(error) === 404) throw missingImageError(spec.image, error);
    throw dockerError(error, ctx.socketPath, "creating the sandbox");
  }
  const container = ctx.docker.getContainer(created.id);
  try {
    const info = await container.inspect();
    // A warning means the engine accepted a setting it cannot enforce (e.g. swap limit): refuse.
    const problems = [...created.warnings.map((warning) => `engine warning: ${warning}`), ...hardeningProblems(spec, info, ctx.ociRuntime)];
    if (problems.length > 0) {
      throw new AegisError("unavailable", `sandbox refused: the engine did not apply every hardening setting: ${problems.join("; ")}`, {
        hint: "check the kernel's cgroup/seccomp support with `aegisclaw doctor`; AegisClaw never runs a weaker sandbox",
      });
    }
    return container;
  } catch (error) {
    await removeQuietly(container).catch(() => undefined); // the original failure is the one to report
    throw dockerError(error, ctx.socketPath, "inspecting the new sandbox");
  }
}

/**
 * POST /containers/create through the modem, because dockerode's createContainer drops the
 * response's Warnings, and those are exactly the signal that a limit was not enforced.
 */
function createWithWarnings(docker: Docker, options: ContainerCreateOptions): Promise<{ id: string; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      // No "?" in the path: the modem would otherwise copy the whole body into the query string.
      { path: "/containers/create", method: "POST", options, statusCodes: { 200: true, 201: true, 400: "bad parameter", 404: "no such image", 409: "conflict", 500: "server error" } },
      (error, data) => {
        if (error) return reject(error);
        const body = (data ?? {}) as { Id?: unknown; Warnings?: unknown };
        if (typeof body.Id !== "string") return reject(new AegisError("internal", "Docker create returned no container id"));
        const warnings = Array.isArray(body.Warnings) ? body.Warnings.filter((w): w is string => typeof w === "string") : [];
        resolve({ id: body.Id, warnings });
      },
    );
  });
}

async function execute(ctx: RunContext, container: Container, spec: SandboxSpec, io: SandboxIo, startedAt: number): Promise<SandboxResult> {
  let reason: KillReason | undefined;
  let started = false;
  let closed = false;
  let truncated = false;
  let consumerError: unknown;
  const bytes: Record<StreamName, number> = { stdout: 0, stderr: 0 };

  const sendKill = () => void container.kill({ signal: "SIGKILL" }).catch(() => undefined);
  // The first reason wins: a timeout that fires while an abort is being handled stays an abort.
  const kill = (why: KillReason) => {
    if (reason) return;
    reason = why;
    if (started) sendKill();
  };

  const demux = createDemuxer((stream, chunk) => {
    if (closed || truncated) return;
    const room = spec.limits.outputBytes - bytes.stdout - bytes.stderr;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) {
      bytes[stream] += part.length;
      try {
        io[stream](part);
      } catch (error) {
        // A failing consumer must not leave the sandbox running unobserved.
        consumerError ??= error;
        kill("abort");
      }
    }
    if (chunk.length > room) {
      truncated = true;
      kill("output");
    }
  });

  const stream = await container.attach({ stream: true, stdout: true, stderr: true }).catch((error: unknown) => {
    throw dockerError(error, ctx.socketPath, "attaching to the sandbox");
  });
  const drained = new Promise<void>((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", () => resolve());
  });
  stream.on("data", (chunk: Uint8Array) => demux(chunk));

  const onAbort = () => kill("abort");
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) kill("abort");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let exitCode = EXIT_KILLED;
  try {
    if (reason === undefined && (await startContainer(ctx, container))) {
      started = true;
      // A kill requested while start was in flight was held back (nothing ran yet): send it now.
      if (reason) sendKill();
      timer = setTimeout(() => kill("timeout"), spec.timeoutMs);
      exitCode = await waitExit(ctx, container);
      await settleWithin(drained, DRAIN_MS);
    }
  } finally {
    closed = true;
    clearTimeout(timer);
    io.signal?.removeEventListener("abort", onAbort);
    stream.removeAllListeners("data");
    if ("destroy" in stream && typeof stream.destroy === "function") stream.destroy();
  }
  if (consumerError !== undefined) throw consumerError;
  const oomKilled = started ? await wasOomKilled(container) : false;
  return {
    ...emptyResult(startedAt, container.id),
    exitCode: reason === "abort" ? EXIT_ABORTED : reason === "timeout" ? EXIT_TIMEOUT : exitCode,
    timedOut: reason === "timeout",
    aborted: reason === "abort",
    oomKilled,
    outputTruncated: truncated,
    stdoutBytes: bytes.stdout,
    stderrBytes: bytes.stderr,
  };
}

/** Starts the container; false when someone else (lockdown's killAll) removed it first. */
async function startContainer(ctx: RunContext, container: Container): Promise<boolean> {
  try {
    await container.start();
    return true;
  } catch (error) {
    if (statusCodeOf(error) === 404) return false;
    throw dockerError(error, ctx.socketPath, "starting the sandbox");
  }
}

/** The command's exit status; a container removed under us (killAll) counts as SIGKILLed. */
async function waitExit(ctx: RunContext, container: Container): Promise<number> {
  try {
    const result = (await container.wait({ condition: "not-running" })) as { StatusCode?: unknown };
    return typeof result.StatusCode === "number" ? result.StatusCode : EXIT_KILLED;
  } catch (error) {
    if (statusCodeOf(error) === 404) return EXIT_KILLED;
    throw dockerError(error, ctx.socketPath, "waiting for the sandbox");
  }
}

async function wasOomKilled(container: Container): Promise<boolean> {
  try {
    return (await container.inspect()).State.OOMKilled === true;
  } catch {
    return false; // already removed by someone else; nothing more to learn
  }
}

/** Force-removes (SIGKILL + delete). Gone already (404) or being removed (409) are both fine. */
export async function removeQuietly(container: Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = statusCodeOf(error);
    if (status !== 404 && status !== 409) throw error;
  }
}

/** Waits for `promise` at most `ms`, without leaving a timer that keeps a CLI process alive. */
async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function emptyResult(startedAt: number, containerId: string): SandboxResult {
  return {
    exitCode: 0,
    timedOut: false,
    aborted: false,
    oomKilled: false,
    outputTruncated: false,
    durationMs: Math.round(performance.now() - startedAt),
    stdoutBytes: 0,
    stderrBytes: 0,
    containerId,
  };
}
