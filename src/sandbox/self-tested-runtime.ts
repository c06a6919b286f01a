/**
 * A Docker-backed runtime that proves its isolation before the first run: status (engine up,
 * OCI runtime registered), then the self-test (self-test.ts), cached by self-test-cache.ts.
 * Any failure refuses the run with an "unavailable" error (exit 69) and a fix.
 */
import { AegisError, canonicalHash } from "../shared/index.ts";
import { DockerRuntime, runtimeVersionText } from "./docker/docker-runtime.ts";
import { SECCOMP_PROFILE } from "./docker/seccomp-profile.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { engineRuntimeOf, type SandboxRuntimeName, type SandboxRuntimeOptions } from "./runtime-select.ts";
import { SelfTestCache, type SelfTestKey } from "./self-test-cache.ts";
import { parseSelfTest, SELF_TEST_SCRIPT, selfTestProblems, type SelfTestReport } from "./self-test.ts";
import type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "./types.ts";

/** One self-test container; gVisor starts in well under a second, so 20 s means it is stuck. */
const SELF_TEST_TIMEOUT_MS = 20_000;
/**
 * Hard ceiling on the whole self-test. A failed runsc start can leave the engine's remove
 * hanging (notes/stack.md §4); the run is then refused instead of waiting forever.
 */
const SELF_TEST_DEADLINE_MS = 45_000;
const OUTPUT_BYTES = 64 * 1024;

/** Builds the named runtime with its self-test gate. */
export function selfTestedRuntime(name: SandboxRuntimeName, options: SandboxRuntimeOptions): SandboxRuntime {
  const ociRuntime = options.ociRuntimeOverride ?? engineRuntimeOf(name);
  const inner = new DockerRuntime({ name, ...(options.socketPath ? { socketPath: options.socketPath } : {}), ...(ociRuntime ? { ociRuntime } : {}), ...(options.egressAudit ? { egressAudit: options.egressAudit } : {}), ...(options.onPoolRefused ? { onPoolRefused: options.onPoolRefused } : {}) });
  return new SelfTestedRuntime(name, inner, options);
}

class SelfTestedRuntime implements SandboxRuntime {
  /** One self-test per process at a time; a failure is forgotten so the next run re-tests. */
  private ready: Promise<void> | undefined;
  private readonly cache: SelfTestCache | undefined;

  constructor(
    readonly name: SandboxRuntimeName,
    private readonly inner: DockerRuntime,
    private readonly options: SandboxRuntimeOptions,
  ) {
    this.cache = options.stateDir ? new SelfTestCache(options.stateDir) : undefined;
  }

  status(): Promise<RuntimeStatus> {
    return this.inner.status();
  }

  hasImage(image: string): Promise<boolean> {
    return this.inner.hasImage(image);
  }

  killAll(): Promise<number> {
    return this.inner.killAll();
  }

  listRunning(): Promise<RunningSandbox[]> {
    return this.inner.listRunning();
  }

  async run(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
    try {
      this.ready ??= this.prove().catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
      await this.ready;
    } catch (error) {
      // Cancelled or locked down while testing: report the run as aborted, not the runtime as broken.
      if (io.signal?.aborted) return this.inner.run(spec, io);
      throw error;
    }
    // runContainer answers an already-aborted signal without creating anything.
    return this.inner.run(spec, io);
  }

  /** Resolves when the runtime is available and its isolation is proven (now or from the cache). */
  private async prove(): Promise<void> {
    const status = await this.inner.status();
    if (!status.available) {
      throw new AegisError("unavailable", `sandbox runtime ${this.name} is not available: ${status.detail}`, status.hint ? { hint: status.hint } : {});
    }
    const key: SelfTestKey = { ...(await this.inner.engineFingerprint()), seccompProfileHash: canonicalHash(SECCOMP_PROFILE) };
    if (this.cache?.lookup(this.name, key)) return;
    const report = await withDeadline(this.selfTest(), SELF_TEST_DEADLINE_MS, `the ${this.name} self-test did not finish within ${SELF_TEST_DEADLINE_MS / 1000} s`);
    // gVisor answers from its own kernel; every other runtime (runc, kata, ...) must show
    // AegisClaw's ENOSYS profile, which proves the filter in force is ours.
    const problems = selfTestProblems(report, { userSpaceKernel: this.name === "gvisor" });
    if (problems.length > 0) {
      throw new AegisError("unavailable", `sandbox runtime ${this.name} failed its isolation self-test: ${problems.join("; ")}`, { hint: fixFor(this.name, key) });
    }
    this.cache?.record(this.name, { key, passedAt: new Date().toISOString(), image: this.options.selfTestImage, runtimeVersion: runtimeVersionText(key.registration.path), report });
  }

  /** Runs the probe script through the same hardened create/verify path as every run. */
  private async selfTest(): Promise<SelfTestReport> {
    const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    let stdout = "";
    let stderr = "";
    const result = await this.inner.run(
      {
        runId: `selftest-${this.name}-${Date.now().toString(36)}`,
        image: this.options.selfTestImage,
        argv: ["sh", "-c", SELF_TEST_SCRIPT],
        timeoutMs: SELF_TEST_TIMEOUT_MS,
        limits: { ...DEFAULT_LIMITS, outputBytes: OUTPUT_BYTES },
        labels: { "io.aegisclaw.self-test": "true" },
      },
      {
        stdout: (chunk) => void (stdout += decoder.stdout.decode(chunk, { stream: true })),
        stderr: (chunk) => void (stderr += decoder.stderr.decode(chunk, { stream: true })),
      },
    );
    if (result.exitCode !== 0) {
      const why = result.timedOut ? "timed out" : `exited ${result.exitCode}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ""}`;
      throw new AegisError("unavailable", `sandbox runtime ${this.name}: the isolation self-test ${why}`, {
        hint: `the self-test runs in ${this.options.selfTestImage} (needs busybox: sh, id, setpriv, unshare); check it with \`aegisclaw doctor\``,
      });
    }
    return parseSelfTest(stdout);
  }
}

/** The fix to suggest when isolation is not what it should be. */
function fixFor(name: SandboxRuntimeName, key: SelfTestKey): string {
  if (name === "gvisor" && !key.registration.runtimeArgs.includes("--oci-seccomp")) {
    return "runsc is registered without --oci-seccomp, so it ignores the seccomp profile: re-register it with bash scripts/setup-gvisor.sh";
  }
  return "run `aegisclaw doctor`; AegisClaw does not run commands in a sandbox whose isolation it cannot confirm";
}

async function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AegisError("unavailable", message, { hint: "check `docker ps` and the dockerd log for a stuck runsc sandbox" })), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
