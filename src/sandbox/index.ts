/**
 * Public entry of the sandbox domain. Importing it is cheap: the Docker client is only loaded when a
 * runtime method is first called, so `aegisclaw --version` never pays for the Docker client.
 */
import type { DockerRuntimeOptions } from "./docker/docker-runtime.ts";
import type { WarmPoolOptions } from "./docker/warm-pool.ts";
import type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "./types.ts";

export type { DockerRuntimeOptions } from "./docker/docker-runtime.ts";
export type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxLimits, SandboxMount, SandboxResult, SandboxRuntime, SandboxSecrets, SandboxSpec } from "./types.ts";
export type { EgressAuditor, EgressDecision, EgressEvent, SandboxEgress } from "./types.ts";
export type { SandboxCompose, SandboxRunNetwork, SandboxSidecar } from "./types.ts";
export { LABEL_RUN_NETWORK, LABEL_SERVICE, LABEL_STAGED_SOURCES } from "./types.ts";
export { EGRESS_GATEWAY, EGRESS_NETWORK, EGRESS_PROXY_PORTS } from "./egress/network.ts";
export { egressReadiness } from "./egress/session.ts";
export { LABEL_MANAGED, LABEL_PID, LABEL_POOL, LABEL_RUN, MAX_WARM_POOL_SIZE, SECRETS_TARGET } from "./types.ts";
export type { WarmPoolOptions } from "./docker/warm-pool.ts";
export type { Refusal as PoolRefusal } from "./docker/warm-pool-claim.ts";
export { createSecretDir, plannedSecretDir, prepareSecretsBase, secretsBaseDir, serviceSecretId, sweepStaleSecretDirs, verifySecretDir, type SecretDir } from "./secret-dir.ts";
export { SECCOMP_DENIED_SYSCALLS, SECCOMP_DENY_ERRNO, SECCOMP_PROFILE } from "./docker/seccomp-profile.ts";
export { DEFAULT_LIMITS } from "./limits.ts";
export { describeProfile, type SandboxProfile } from "./profile.ts";
export { BUILTIN_RUNTIMES, createSandboxRuntime, engineRuntimeOf, isDockerRuntime, isSandboxRuntimeName, ociRuntimeOf, requireRuntimeName, runtimeNameForOci, runtimeNameProblem, runtimeShortfalls, type SandboxRuntimeName, type SandboxRuntimeOptions } from "./runtime-select.ts";
export { RuntimeNameSchema } from "./runtime-name-schema.ts";
export { SELF_TEST_TTL_MS, type SelfTestEntry, type SelfTestKey } from "./self-test-cache.ts";
export { compileMounts, forbiddenMountReason, verifyMountSources, type MountGuard, type MountRequest } from "./mounts.ts";

/**
 * The hardened Docker (runc) runtime. Methods load the Docker client on first use; the
 * returned object is safe to create even when Docker is down (status() reports it).
 */
export function createDockerRuntime(options: DockerRuntimeOptions = {}): SandboxRuntime {
  let loaded: Promise<SandboxRuntime> | undefined;
  const real = (): Promise<SandboxRuntime> => {
    loaded ??= import("./docker/docker-runtime.ts").then((module) => new module.DockerRuntime(options));
    return loaded;
  };
  return {
    name: "docker",
    status: async (): Promise<RuntimeStatus> => (await real()).status(),
    hasImage: async (image: string): Promise<boolean> => (await real()).hasImage(image),
    run: async (spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> => (await real()).run(spec, io),
    killAll: async (): Promise<number> => (await real()).killAll(),
    listRunning: async (): Promise<RunningSandbox[]> => (await real()).listRunning(),
  };
}

/** A running warm-pool filler (docker/warm-pool.ts): `fill` tops up now, `stop` ends refilling and drains. */
export interface WarmPoolHandle {
  fill(): Promise<number>;
  stop(): Promise<number>;
}

/**
 * Starts keeping idle hardened containers warm for matching runs (docs/sandbox.md, "Warm
 * pool"). For long-running processes; call `stop()` before exiting. Throws bad-input for
 * invalid options. Loads the Docker client only when called.
 */
export async function startWarmPool(options: WarmPoolOptions): Promise<WarmPoolHandle> {
  const { WarmPool } = await import("./docker/warm-pool.ts");
  const pool = new WarmPool(options);
  pool.start();
  return pool;
}
