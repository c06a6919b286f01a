/**
 * The bwrap runtime behind its isolation self-test: before the first run in a process, the
 * self-test script (../self-test.ts) runs through the very same runner and must report uid
 * 65534, no capabilities, seccomp mode 2, no_new_privs, only lo, a read-only root and `unshare`
 * refused with ENOSYS by the AegisClaw filter. Anything else refuses every run ("unavailable",
 * exit 69). A bwrap run takes milliseconds, so the pass is kept in memory only, per process.
 */
import { AegisError } from "../../shared/index.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import { parseSelfTest, SELF_TEST_SCRIPT, selfTestProblems, type SelfTestReport } from "../self-test.ts";
import type { RunningSandbox, RuntimeStatus, SandboxIo, SandboxResult, SandboxRuntime, SandboxSpec } from "../types.ts";
import type { BwrapRuntime } from "./bwrap-runtime.ts";

const SELF_TEST_TIMEOUT_MS = 20_000;
const OUTPUT_BYTES = 64 * 1024;

/** Wraps `inner` so no run starts before the self-test passed in this process. */
export class SelfTestedBwrapRuntime implements SandboxRuntime {
  readonly name = "bwrap";
  /** One self-test at a time; a failure is forgotten so the next run re-tests (and is refused again if still broken). */
  private ready: Promise<void> | undefined;

  constructor(
    private readonly inner: BwrapRuntime,
    private readonly selfTestImage: string,
  ) {}

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
    // An already-cancelled run is answered by the runner without starting anything.
    if (io.signal?.aborted) return this.inner.run(spec, io);
    this.ready ??= this.prove().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    return this.inner.run(spec, io);
  }

  /** The self-test's report, for doctor output; throws like run() when isolation does not hold. */
  async selfTest(): Promise<SelfTestReport> {
    const status = await this.inner.status();
    if (!status.available) {
      throw new AegisError("unavailable", `sandbox runtime bwrap is not available: ${status.detail}`, status.hint ? { hint: status.hint } : {});
    }
    let stdout = "";
    let stderr = "";
    const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const result = await this.inner
      .run(
      { runId: `selftest-bwrap-${Date.now().toString(36)}`, image: this.selfTestImage, argv: ["sh", "-c", SELF_TEST_SCRIPT], timeoutMs: SELF_TEST_TIMEOUT_MS, limits: { ...DEFAULT_LIMITS, outputBytes: OUTPUT_BYTES } },
      {
        stdout: (chunk) => void (stdout += decoder.stdout.decode(chunk, { stream: true })),
        stderr: (chunk) => void (stderr += decoder.stderr.decode(chunk, { stream: true })),
      },
    )
      .catch((error: unknown) => {
        const hint = error instanceof AegisError ? error.hint : undefined;
        throw new AegisError("unavailable", `sandbox runtime bwrap: the isolation self-test could not run: ${(error as Error).message}`, hint ? { hint, cause: error } : { cause: error });
      });
    if (result.exitCode !== 0) {
      const why = result.timedOut ? "timed out" : `exited ${result.exitCode}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ""}`;
      throw new AegisError("unavailable", `sandbox runtime bwrap: the isolation self-test ${why}`, { hint: "run `aegisclaw doctor`; AegisClaw does not run commands in a sandbox whose isolation it cannot confirm" });
    }
    const report = parseSelfTest(stdout);
    const problems = selfTestProblems(report, { userSpaceKernel: false });
    if (problems.length > 0) {
      throw new AegisError("unavailable", `sandbox runtime bwrap failed its isolation self-test: ${problems.join("; ")}`, {
        hint: "run `aegisclaw doctor`; AegisClaw does not run commands in a sandbox whose isolation it cannot confirm",
      });
    }
    return report;
  }

  private async prove(): Promise<void> {
    await this.selfTest();
  }
}
