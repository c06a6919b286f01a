/**
 * A multi-container run (a `platform: docker-compose` skill): network -> sidecars (create,
 * verify, start, dependencies first) -> the main service through runContainer -> remove every
 * container and the network, on every path. Each container gets the same hardened create
 * request and post-create check as a single-container run, its own mounts and secrets only,
 * and the run's private network (compose-network.ts). A service granted net.outbound also
 * joins the egress network, with a proxy of its own that admits only its container and only
 * its hosts (egress-join.ts); the others have no way out. Each sidecar's output goes to
 * io.service(name) (compose-output.ts), attached before it starts; logging stays off.
 */
import { AegisError } from "../../shared/index.ts";
import { validateLimits } from "../limits.ts";
import { emptyResult, EXIT_ABORTED } from "../result.ts";
import { engineMounts, engineSpec, type EngineMounts } from "../mount-stage.ts";
import { verifySecretDir } from "../secret-dir.ts";
import { openEgressSession, type EgressSession } from "../egress/session.ts";
import { LABEL_SERVICE, type SandboxIo, type SandboxResult, type SandboxSidecar, type SandboxSpec } from "../types.ts";
import { createRunNetwork, removeRunNetwork, removeRunNetworks, type RunNetwork } from "./compose-network.ts";
import { followSidecarOutput, type FollowedOutput } from "./compose-output.ts";
import { dockerError, statusCodeOf } from "./docker-errors.ts";
import { admitSandbox, createHardened, removeQuietly, runContainer, type RunContext } from "./run-container.ts";

/** Runs `spec` (with `spec.compose`) and its sidecars; see SandboxRuntime.run. */
export async function runCompose(ctx: RunContext, spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  const compose = spec.compose;
  if (compose === undefined) throw new AegisError("internal", "runCompose without compose services");
  if (ctx.ociRuntime === "runsc") {
    throw new AegisError("unavailable", "multi-container skills cannot run under gVisor: runsc here runs with --network=none, so its services could not reach each other", {
      hint: "use --runtime docker for docker-compose skills",
    });
  }
  validateLimits(spec.limits);
  if (!Number.isFinite(spec.timeoutMs) || spec.timeoutMs <= 0) {
    throw new AegisError("bad-input", `sandbox timeout must be a positive number of milliseconds, got ${String(spec.timeoutMs)}`);
  }
  checkNames(compose.service, compose.sidecars);
  const startedAt = performance.now();
  if (io.signal?.aborted) return { ...emptyResult(startedAt, ""), aborted: true, exitCode: EXIT_ABORTED };
  // What a killed AegisClaw process left behind; never another live process's networks.
  await removeRunNetworks(ctx.engine, false).catch(() => 0);
  const network = await createRunNetwork(ctx.engine, ctx.socketPath, spec.runId);
  const containers: string[] = [];
  const proxies: EgressSession[] = [];
  const followed: FollowedOutput[] = [];
  const staged: EngineMounts[] = [];
  let result: SandboxResult | undefined;
  let failure: unknown;
  try {
    for (const sidecar of compose.sidecars) {
      // Lockdown or cancel while the services start: the main run below reports it as aborted.
      if (io.signal?.aborted) break;
      const planned = specOf(spec, sidecar, network);
      // Re-checked, pinned and staged as a single container's are (runContainer); released once its container is gone.
      const mounts = await engineMounts(planned.mounts ?? []);
      staged.push(mounts);
      const sidecarSpec = engineSpec(planned, mounts);
      verifySecretDir(sidecarSpec.secrets);
      // Its own proxy, up before its container exists and closed before it is removed (as runContainer does).
      const egress = sidecarSpec.egress ? await openEgressSession({ ...ctx, audit: ctx.egressAudit, ...(ctx.egressResolve ? { resolve: ctx.egressResolve } : {}) }, spec.runId, sidecarSpec.egress) : undefined;
      if (egress) proxies.push(egress);
      const container = await createHardened(ctx, sidecarSpec, egress?.attachment);
      containers.push(container);
      // Attached before it starts, so none of its output is lost; each service its own stream.
      followed.push(await followSidecarOutput(ctx, container, sidecar.name, spec.limits.outputBytes, io));
      await startSidecar(ctx, container, sidecar.name);
      if (egress) await admitSandbox(ctx, container, egress, network.name);
    }
    const main: SandboxSpec = {
      ...withoutCompose(spec),
      labels: { ...spec.labels, [LABEL_SERVICE]: compose.service },
      runNetwork: { ...network, alias: compose.service },
    };
    result = await runContainer(ctx, main, io);
  } catch (error) {
    failure = error;
  }
  // Every path ends here: success, failure, timeout, abort, lockdown.
  await Promise.all(followed.map((output) => output.stop()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  const leftover = await removeAll(ctx, containers, network);
  const unstaged = await Promise.allSettled(staged.map((mounts) => mounts.release()));
  if (failure !== undefined) throw failure;
  if (leftover !== undefined) throw dockerError(leftover, ctx.socketPath, "removing the run's services and network");
  const stuck = unstaged.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (stuck) throw stuck.reason;
  if (result === undefined) throw new AegisError("internal", "the multi-container run ended without a result");
  return result;
}

/** Removes the sidecars, then the network; answers the first failure (a run whose containers survive must not look clean). */
async function removeAll(ctx: RunContext, containers: readonly string[], network: RunNetwork): Promise<unknown> {
  const removals = await Promise.allSettled(containers.map((container) => removeQuietly(ctx.engine, container)));
  const failed = removals.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failed) return failed.reason;
  return removeRunNetwork(ctx.engine, network.id).then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A sidecar's own spec: the main's image, limits, timeout and labels; its own argv, env, mounts, secrets and egress. */
function specOf(spec: SandboxSpec, sidecar: SandboxSidecar, network: RunNetwork): SandboxSpec {
  return {
    runId: spec.runId,
    image: spec.image,
    argv: sidecar.argv,
    ...(sidecar.env ? { env: sidecar.env } : {}),
    timeoutMs: spec.timeoutMs,
    limits: spec.limits,
    mounts: sidecar.mounts ?? [],
    ...(sidecar.secrets ? { secrets: sidecar.secrets } : {}),
    ...(sidecar.egress ? { egress: sidecar.egress } : {}),
    labels: { ...spec.labels, [LABEL_SERVICE]: sidecar.name },
    runNetwork: { ...network, alias: sidecar.name },
  };
}

function withoutCompose(spec: SandboxSpec): SandboxSpec {
  const { compose: _compose, runNetwork: _network, ...rest } = spec;
  return rest;
}

/** Service names become DNS aliases: the same grammar as the manifest's, unique, never empty. */
function checkNames(service: string, sidecars: readonly SandboxSidecar[]): void {
  const names = [service, ...sidecars.map((sidecar) => sidecar.name)];
  for (const name of names) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new AegisError("bad-input", `service name "${name}" is not allowed`);
  }
  if (new Set(names).size !== names.length) throw new AegisError("bad-input", `service names must be unique: ${names.join(", ")}`);
  for (const sidecar of sidecars) {
    if (sidecar.argv.length === 0) throw new AegisError("bad-input", `service ${sidecar.name} has no command`);
  }
}

/** Starts a verified sidecar; one removed under us (lockdown's killAll) ends the run. */
async function startSidecar(ctx: RunContext, container: string, name: string): Promise<void> {
  try {
    await ctx.engine.request("POST", `/containers/${container}/start`);
  } catch (error) {
    if (statusCodeOf(error) === 404) throw new AegisError("unavailable", `service ${name} was removed before it started (lockdown?)`);
    throw dockerError(error, ctx.socketPath, `starting service ${name}`);
  }
}
