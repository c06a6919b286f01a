/**
 * The runtimes a run can choose (`sandbox.runtime`, `--runtime`) and how each is built.
 * - `bwrap`: bubblewrap, for hosts without Docker (bwrap/: base image only, no egress);
 * - `docker`: the hardened Docker backend on the engine's runc;
 * - `gvisor`: the same backend with runsc, adding a user-space kernel;
 * - any other name an engine has registered as an OCI runtime (kata, firecracker, ...): the same
 *   backend on that runtime, accepted only once Docker lists it and the self-test passes.
 * Every hardening setting and its post-create check apply unchanged on every OCI runtime.
 * Cheap to import: the backend loads on the first method call.
 */
import { AegisError } from "../shared/index.ts";
import type { Refusal } from "./docker/warm-pool-claim.ts";
import { BWRAP_BASE_IMAGE, createBwrapRuntime } from "./bwrap/index.ts";
import type { EgressAuditor, RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "./types.ts";

/** The runtimes this version names itself; any other valid name is a Docker OCI runtime. */
export const BUILTIN_RUNTIMES = ["docker", "gvisor", "bwrap"] as const;

/** A runtime name as configured or given on the command line (validated by isSandboxRuntimeName). */
export type SandboxRuntimeName = string;

/** The OCI runtimes behind the built-in Docker runtime names (bwrap has none; any other name is its own). */
const OCI_OF_BUILTIN: Readonly<Record<string, string>> = { docker: "runc", gvisor: "runsc" };

/**
 * Docker's own runtime names map to ours: `runc` is what `docker` runs on, and `runsc` without
 * the name `gvisor` would miss gVisor's own self-test expectations. Refused with the right name.
 */
const RESERVED_OCI_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(OCI_OF_BUILTIN).map(([name, oci]) => [oci, name]));

/** The `--runtime` name that runs on the engine's OCI runtime `oci` (runc is docker, runsc gvisor). */
export function runtimeNameForOci(oci: string): string {
  return RESERVED_OCI_NAMES[oci] ?? oci;
}

/** Names Docker accepts for a runtime in daemon.json that are also safe in paths, labels and logs. */
const OCI_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** How to reach the engine and where the self-test keeps its record. */
export interface SandboxRuntimeOptions {
  socketPath?: string;
  /** `$AEGISCLAW_HOME/state`: selftest.json lives here. Without it a pass lasts one process. */
  stateDir?: string;
  /** The image the self-test runs in; it needs busybox's sh, id, setpriv, unshare, uname. */
  selfTestImage: string;
  /**
   * Replaces the OCI runtime name. Only for tests proving that an unregistered runtime is
   * refused without touching the machine's daemon.json; never set from config.
   */
  ociRuntimeOverride?: string;
  /** Records egress proxy decisions (the composition root passes the audit log); runs with net.outbound are refused without it. */
  egressAudit?: EgressAuditor;
  /** Told about each pooled (warm) container refused after a run claimed it; the run went cold. */
  onPoolRefused?: (refusal: Refusal) => void;
}

/** True for the runtimes that run on the Docker engine (all but bwrap). */
export function isDockerRuntime(name: SandboxRuntimeName): boolean {
  return name !== "bwrap";
}

/** The OCI runtime a Docker runtime name runs on (`runc` for docker); bwrap has none, and says "bwrap". */
export function ociRuntimeOf(name: SandboxRuntimeName): string {
  return OCI_OF_BUILTIN[name] ?? name;
}

/** The `HostConfig.Runtime` a run on `name` asks the engine for; undefined is the engine's default (runc), or bwrap. */
export function engineRuntimeOf(name: SandboxRuntimeName): string | undefined {
  return name === "docker" || !isDockerRuntime(name) ? undefined : ociRuntimeOf(name);
}

/** What a runtime's sandboxes cannot have, and why; an absent entry means they can. */
export interface RuntimeShortfalls {
  /** No network at all: neither net.outbound (the egress network) nor a multi-container run's network. */
  network?: string;
  /** No containers: a multi-container (docker-compose) run is impossible. */
  containers?: string;
}

/** The one place that knows which built-in runtime lacks what (the Gate refuses such runs before deciding). */
export function runtimeShortfalls(name: SandboxRuntimeName): RuntimeShortfalls {
  if (name === "gvisor") return { network: "gVisor here runs with --network=none, so its sandboxes have no network at all" };
  if (name === "bwrap") return { network: "the egress proxy path is a Docker network, and bwrap could only share the host's network", containers: "it runs one process tree, not containers" };
  return {};
}

/** Why `name` cannot be a runtime, or undefined when it can. */
export function runtimeNameProblem(name: string): string | undefined {
  if ((BUILTIN_RUNTIMES as readonly string[]).includes(name)) return undefined;
  const instead = RESERVED_OCI_NAMES[name];
  if (instead) return `${name} is Docker's name for the OCI runtime behind \`${instead}\`; use --runtime ${instead}`;
  if (!OCI_NAME.test(name)) return `${JSON.stringify(name)} is not a runtime name (built-in: ${BUILTIN_RUNTIMES.join(", ")}; or the name of an OCI runtime registered with Docker: lower-case letters, digits, '.', '_', '-')`;
  return undefined;
}

/** True when `name` is a built-in runtime or a well-formed Docker OCI runtime name. */
export function isSandboxRuntimeName(name: string): name is SandboxRuntimeName {
  return runtimeNameProblem(name) === undefined;
}

/** Throws a usage error naming the fix when `name` cannot be a runtime. */
export function requireRuntimeName(name: string): SandboxRuntimeName {
  const problem = runtimeNameProblem(name);
  if (problem) throw new AegisError("usage", `sandbox runtime: ${problem}`, { hint: "`aegisclaw doctor` lists the runtimes this machine has" });
  return name;
}

/**
 * A runtime by name, self-tested before its first run (see self-tested-runtime.ts). A runtime
 * that is unavailable or fails the self-test refuses every run with an "unavailable" error:
 * there is no fallback to a weaker one.
 */
export function createSandboxRuntime(name: SandboxRuntimeName, options: SandboxRuntimeOptions): SandboxRuntime {
  requireRuntimeName(name);
  // bwrap has only the base image, so its self-test always runs there, whatever sandbox.image says.
  if (name === "bwrap") return createBwrapRuntime({ ...(options.stateDir ? { stateDir: options.stateDir } : {}), selfTestImage: BWRAP_BASE_IMAGE });
  let loaded: Promise<SandboxRuntime> | undefined;
  const real = (): Promise<SandboxRuntime> => {
    loaded ??= import("./self-tested-runtime.ts").then((module) => module.selfTestedRuntime(name, options));
    return loaded;
  };
  return {
    name,
    status: async (): Promise<RuntimeStatus> => (await real()).status(),
    hasImage: async (image: string): Promise<boolean> => (await real()).hasImage(image),
    run: async (spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> => (await real()).run(spec, io),
    killAll: async (): Promise<number> => (await real()).killAll(),
    listRunning: async (): Promise<RunningSandbox[]> => (await real()).listRunning(),
  };
}
