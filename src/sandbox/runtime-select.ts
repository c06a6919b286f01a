/**
 * The runtimes a run can choose (`sandbox.runtime`, `--runtime`) and how each is built. Both
 * are the hardened Docker backend; gVisor only swaps the OCI runtime for runsc, so every
 * hardening setting and its post-create check apply unchanged, plus a user-space kernel.
 * Cheap to import: the backend loads on the first method call.
 */
import type { EgressAuditor, RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "./types.ts";

/** Runtime names accepted in config and on the command line. */
export const SANDBOX_RUNTIMES = ["docker", "gvisor"] as const;
/** One of SANDBOX_RUNTIMES. */
export type SandboxRuntimeName = (typeof SANDBOX_RUNTIMES)[number];

/** The OCI runtime each name runs on; undefined is the engine's runc. */
export const OCI_RUNTIMES: Readonly<Record<SandboxRuntimeName, string | undefined>> = { docker: undefined, gvisor: "runsc" };

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
}

/**
 * A runtime by name, self-tested before its first run (see self-tested-runtime.ts). A runtime
 * that is unavailable or fails the self-test refuses every run with an "unavailable" error:
 * there is no fallback to a weaker one.
 */
export function createSandboxRuntime(name: SandboxRuntimeName, options: SandboxRuntimeOptions): SandboxRuntime {
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

/** True when `name` is a runtime this version can build. */
export function isSandboxRuntimeName(name: string): name is SandboxRuntimeName {
  return (SANDBOX_RUNTIMES as readonly string[]).includes(name);
}
