/**
 * Public entry of the bubblewrap runtime. Cheap to import: the runner loads on the first method
 * call, and nothing touches bwrap or the cgroups before then.
 */
import type { SelfTestReport } from "../self-test.ts";
import type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "../types.ts";

export { BWRAP_BASE_IMAGE } from "./rootfs.ts";

/** Options of createBwrapRuntime. */
export interface BwrapRuntimeFactoryOptions {
  /** `$AEGISCLAW_HOME/state`: the base rootfs files and the compiled seccomp filter live under `bwrap/` in it. */
  stateDir?: string;
  /** The image the self-test runs in; for bwrap it must be the base image `aegisclaw/base:busybox`. */
  selfTestImage: string;
}

/**
 * The bwrap runtime ("bwrap"), self-tested before its first run in this process. Unavailable
 * or failing its self-test, it refuses every run with an "unavailable" error: no fallback.
 */
export function createBwrapRuntime(options: BwrapRuntimeFactoryOptions): SandboxRuntime {
  let loaded: Promise<SandboxRuntime> | undefined;
  const real = (): Promise<SandboxRuntime> => {
    loaded ??= Promise.all([import("./bwrap-runtime.ts"), import("./self-tested.ts")]).then(
      ([runtime, gate]) => new gate.SelfTestedBwrapRuntime(new runtime.BwrapRuntime(options.stateDir === undefined ? {} : { stateDir: options.stateDir }), options.selfTestImage),
    );
    return loaded;
  };
  return {
    name: "bwrap",
    status: async (): Promise<RuntimeStatus> => (await real()).status(),
    hasImage: async (image: string): Promise<boolean> => (await real()).hasImage(image),
    run: async (spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> => (await real()).run(spec, io),
    killAll: async (): Promise<number> => (await real()).killAll(),
    listRunning: async (): Promise<RunningSandbox[]> => (await real()).listRunning(),
  };
}

/**
 * Runs the bwrap isolation self-test now and returns what the sandbox reported (for `doctor`);
 * throws the same "unavailable" error a run would get when isolation does not hold.
 */
export async function bwrapSelfTestReport(options: BwrapRuntimeFactoryOptions): Promise<SelfTestReport> {
  const [runtime, gate] = await Promise.all([import("./bwrap-runtime.ts"), import("./self-tested.ts")]);
  return new gate.SelfTestedBwrapRuntime(new runtime.BwrapRuntime(options.stateDir === undefined ? {} : { stateDir: options.stateDir }), options.selfTestImage).selfTest();
}
