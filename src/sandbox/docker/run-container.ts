/**
 * One sandboxed run on Docker: create -> verify hardening -> attach -> start -> wait -> remove.
 *
 * AutoRemove stays off (it races with wait and loses the exit code, see notes/stack.md §3);
 * the container is removed in `finally` on every path, including errors and aborts.
 */
import type { ContainerCreateOptions, ContainerInspectInfo } from "dockerode";
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import { createOutputLimit, emptyResult, EXIT_ABORTED, EXIT_KILLED, finalResult, type KillReason, type OutputLimit } from "../result.ts";
import { engineMounts, engineSpec } from "../mount-stage.ts";
import { verifySecretDir } from "../secret-dir.ts";
import { openEgressSession, type EgressAttachment, type EgressSession } from "../egress/session.ts";
import type { Resolver } from "../egress/vet.ts";
import type { EgressAuditor, SandboxIo, SandboxResult, SandboxSpec } from "../types.ts";
import { containerOptions, hardeningProblems } from "./container-config.ts";
import { createDemuxer } from "./demux.ts";
import { dockerError, missingImageError, statusCodeOf } from "./docker-errors.ts";
import { startedAddress } from "./egress-config.ts";
import { joinEgressNetwork } from "./egress-join.ts";
import type { EngineClient } from "./engine-client.ts";

/** What a run needs from the runtime that owns it. */
export interface RunContext {
  engine: EngineClient;
  socketPath: string;
  ociRuntime: string | undefined;
  /** Records the egress proxy's decisions; a run with egress is refused without it. */
  egressAudit?: EgressAuditor;
  /** The egress proxy's resolver (default: the system's). */
  egressResolve?: Resolver;
}

/** After the command exits, how long to wait for output still in flight on the attach stream. */
export const DRAIN_MS = 2000;

/** Runs `spec` in a hardened container; see SandboxRuntime.run. */
export async function runContainer(ctx: RunContext, spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  validateLimits(spec.limits);
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new AegisError("bad-input", `sandbox timeout must be a positive number of milliseconds, got ${String(spec.timeoutMs)}`);
  }
  const startedAt = performance.now();
  if (io.signal?.aborted) return { ...emptyResult(startedAt, ""), aborted: true, exitCode: EXIT_ABORTED };
  // As late as possible before the engine mounts them: a path changed since the decision refuses
  // the run; as root the engine then gets pinned, staged copies it cannot redirect (mount-stage.ts).
  const mounts = await engineMounts(spec.mounts ?? []);
  try {
    return await runWithMounts(ctx, engineSpec(spec, mounts), io, startedAt);
  } finally {
    // After the container is gone (removed in runWithMounts on every path).
    await mounts.release();
  }
}

/** The rest of runContainer, once the mounts are what the engine may see. */
async function runWithMounts(ctx: RunContext, spec: SandboxSpec, io: SandboxIo, startedAt: number): Promise<SandboxResult> {
  verifySecretDir(spec.secrets);
  // The proxy exists before the sandbox and ends before it is removed, so its address can
  // never be reused by another container while this run's proxy still serves it.
  const egress = spec.egress ? await openEgressSession({ ...ctx, audit: ctx.egressAudit, ...(ctx.egressResolve ? { resolve: ctx.egressResolve } : {}) }, spec.runId, spec.egress) : undefined;
  try {
    const container = await createHardened(ctx, spec, egress?.attachment);
    try {
      return await execute(ctx, container, spec, io, startedAt, egress);
    } finally {
      await egress?.close();
      await removeQuietly(ctx.engine, container).catch((error: unknown) => {
        throw dockerError(error, ctx.socketPath, "removing the sandbox");
      });
    }
  } finally {
    await egress?.close();
  }
}

/**
 * Creates the container and refuses it (removing it) unless every hardening setting landed.
 * `name` names it on the engine (the warm pool's containers); runs leave it to the engine.
 * `adjust` changes the request beyond the hardening (the pool opens stdin); runs pass none.
 */
export async function createHardened(
  ctx: RunContext,
  spec: SandboxSpec,
  egress: EgressAttachment | undefined,
  name?: string,
  adjust?: (options: ContainerCreateOptions) => ContainerCreateOptions,
): Promise<string> {
  const hardened = containerOptions(spec, ctx.ociRuntime, egress);
  const options = adjust ? adjust(hardened) : hardened;
  let created: { id: string; warnings: string[] };
  try {
    created = await createWithWarnings(ctx.engine, options, name);
  } catch (error) {
    if (statusCodeOf(error) === 404) throw missingImageError(spec.image, error);
    throw dockerError(error, ctx.socketPath, "creating the sandbox");
  }
  const container = created.id;
  try {
    await joinEgressNetwork(ctx.engine, container, spec, egress);
    const info = await ctx.engine.json<ContainerInspectInfo>("GET", `/containers/${container}/json`);
    // A warning means the engine accepted a setting it cannot enforce (e.g. swap limit): refuse.
    const problems = [...created.warnings.map((warning) => `engine warning: ${warning}`), ...hardeningProblems(spec, info, ctx.ociRuntime, egress)];
    if (problems.length > 0) {
      throw new AegisError("unavailable", `sandbox refused: the engine did not apply every hardening setting: ${problems.join("; ")}`, {
        hint: "check the kernel's cgroup/seccomp support with `aegisclaw doctor`; AegisClaw never runs a weaker sandbox",
      });
    }
    return container;
  } catch (error) {
    await removeQuietly(ctx.engine, container).catch(() => undefined); // the original failure is the one to report
    throw dockerError(error, ctx.socketPath, "inspecting the new sandbox");
  }
}

/** POST /containers/create, keeping the Warnings: they are the signal that a limit was not enforced. */
async function createWithWarnings(engine: EngineClient, options: ContainerCreateOptions, name: string | undefined): Promise<{ id: string; warnings: string[] }> {
  const body = await engine.json<{ Id?: unknown; Warnings?: unknown }>("POST", "/containers/create", { body: options, ...(name ? { query: { name } } : {}) });
  if (typeof body?.Id !== "string") throw new AegisError("internal", "Docker create returned no container id");
  const warnings = Array.isArray(body.Warnings) ? body.Warnings.filter((w): w is string => typeof w === "string") : [];
  return { id: body.Id, warnings };
}

/**
 * Our reason to SIGKILL a run's container. The first reason wins: a timeout that fires while an
 * abort is being handled stays an abort. Until the command may have started the kill is only
 * remembered (nothing runs yet), and `started()` sends one requested meanwhile.
 */
export class KillSwitch {
  reason: KillReason | undefined;
  private running = false;

  constructor(
    private readonly ctx: RunContext,
    private readonly container: string,
  ) {}

  get hasStarted(): boolean {
    return this.running;
  }

  readonly kill = (why: KillReason): void => {
    if (this.reason) return;
    this.reason = why;
    if (this.running) this.send();
  };

  /** The command may run from now on; a kill requested while it was starting goes out now. */
  started(): void {
    this.running = true;
    if (this.reason) this.send();
  }

  /** Kills the container now, whatever the reason (also one of the caller's own). */
  send(): void {
    void this.ctx.engine.request("POST", `/containers/${this.container}/kill`, { query: { signal: "SIGKILL" } }).catch(() => undefined);
  }
}

async function execute(ctx: RunContext, container: string, spec: SandboxSpec, io: SandboxIo, startedAt: number, egress: EgressSession | undefined): Promise<SandboxResult> {
  const switched = new KillSwitch(ctx, container);
  const kill = switched.kill;
  const output = createOutputSink(spec.limits.outputBytes, io, kill);

  // Attach before start so no early output is lost; the engine streams the multiplexed
  // frames on this response until the container exits.
  const attach = new AbortController();
  const response = await ctx.engine
    .request("POST", `/containers/${container}/attach`, { query: { stream: 1, stdout: 1, stderr: 1 }, signal: attach.signal })
    .catch((error: unknown) => {
      throw dockerError(error, ctx.socketPath, "attaching to the sandbox");
    });
  const drained = pump(response, output.push);

  const onAbort = () => kill("abort");
  io.signal?.addEventListener("abort", onAbort, { once: true });
  if (io.signal?.aborted) kill("abort");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let exitCode = EXIT_KILLED;
  try {
    if (switched.reason === undefined && (await startContainer(ctx, container))) {
      switched.started();
      if (egress) await admitSandbox(ctx, container, egress, spec.runNetwork?.name);
      timer = setTimeout(() => kill("timeout"), spec.timeoutMs);
      exitCode = await waitExit(ctx, container);
      await settleWithin(drained, DRAIN_MS);
    }
  } finally {
    output.close();
    clearTimeout(timer);
    io.signal?.removeEventListener("abort", onAbort);
    attach.abort();
  }
  if (output.consumerError !== undefined) throw output.consumerError;
  const oomKilled = switched.hasStarted ? await wasOomKilled(ctx.engine, container) : false;
  return finalResult(startedAt, container, switched.reason, exitCode, oomKilled, output);
}

/** Where the multiplexed output of a run goes; shared by the cold and the warm (pooled container) path. */
export interface OutputSink extends OutputLimit {
  /** Feeds raw attach stream bytes (8-byte frame headers included). */
  push(chunk: Uint8Array): void;
}

/** Demuxes the attach stream into the run's output limit (createOutputLimit). */
export function createOutputSink(limit: number, io: SandboxIo, kill: (why: KillReason) => void): OutputSink {
  const output = createOutputLimit(limit, io, kill);
  return Object.assign(output, { push: createDemuxer(output.write) });
}

/**
 * Tells the proxy the started sandbox's address: until then its connections wait; if the
 * address cannot be confirmed, the proxy serves nobody and the run fails (the container is
 * removed by the caller). `runNetwork`: the one other network a service of a multi-container
 * run is on.
 */
export async function admitSandbox(ctx: RunContext, container: string, egress: EgressSession, runNetwork?: string): Promise<void> {
  let info: ContainerInspectInfo;
  try {
    info = await ctx.engine.json<ContainerInspectInfo>("GET", `/containers/${container}/json`);
  } catch (error) {
    egress.refuseAll();
    throw dockerError(error, ctx.socketPath, "reading the sandbox's egress address");
  }
  try {
    egress.admit(startedAddress(info, egress.attachment, runNetwork));
  } catch (error) {
    egress.refuseAll();
    // A command that already finished has given its address back: there is nobody to admit.
    if (info.State?.Running !== false) throw error;
  }
}

/** Starts the container; false when someone else (lockdown's killAll) removed it first. */
async function startContainer(ctx: RunContext, container: string): Promise<boolean> {
  try {
    await ctx.engine.request("POST", `/containers/${container}/start`);
    return true;
  } catch (error) {
    if (statusCodeOf(error) === 404) return false;
    throw dockerError(error, ctx.socketPath, "starting the sandbox");
  }
}

/** The command's exit status; a container removed under us (killAll) counts as SIGKILLed. */
export async function waitExit(ctx: RunContext, container: string): Promise<number> {
  try {
    const result = await ctx.engine.json<{ StatusCode?: unknown }>("POST", `/containers/${container}/wait`, { query: { condition: "not-running" } });
    return typeof result.StatusCode === "number" ? result.StatusCode : EXIT_KILLED;
  } catch (error) {
    if (statusCodeOf(error) === 404) return EXIT_KILLED;
    throw dockerError(error, ctx.socketPath, "waiting for the sandbox");
  }
}

/** Whether the engine saw the container's cgroup hit its memory limit (false once it is gone). */
export async function wasOomKilled(engine: EngineClient, container: string): Promise<boolean> {
  try {
    return (await engine.json<ContainerInspectInfo>("GET", `/containers/${container}/json`)).State.OOMKilled === true;
  } catch {
    return false; // already removed by someone else; nothing more to learn
  }
}

/** Force-removes (SIGKILL + delete). Gone already (404) or being removed (409) are both fine. */
export async function removeQuietly(engine: EngineClient, container: string): Promise<void> {
  try {
    await engine.request("DELETE", `/containers/${container}`, { query: { force: 1, v: 1 } });
  } catch (error) {
    const status = statusCodeOf(error);
    if (status !== 404 && status !== 409) throw error;
  }
}

/** Feeds the attach response body to the demuxer until the engine closes it (or we abort). */
export async function pump(response: Response, demux: (chunk: Uint8Array) => void): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      demux(value);
    }
  } catch {
    // Aborted by us after the run, or the connection dropped: either way the stream is over.
  }
}

/** Waits for `promise` at most `ms`, without leaving a timer that keeps a CLI process alive. */
export async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
