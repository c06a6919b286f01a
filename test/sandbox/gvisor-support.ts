/** Shared helpers of the gVisor tests: the registration check and a collecting runner. */
import { expect } from "bun:test";
import { createSandboxRuntime, DEFAULT_LIMITS, type SandboxResult, type SandboxRuntime } from "../../src/sandbox/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";

/**
 * Fails loudly (never skips) unless runsc is registered with both required runtimeArgs: CI
 * runs scripts/setup-gvisor.sh, and a skipped gVisor suite would hide a broken runtime.
 */
export async function requireGvisor(): Promise<void> {
  await requireDocker();
  const info = Bun.spawnSync(["timeout", "10", "docker", "info", "--format", "{{json .Runtimes}}"], { stdout: "pipe", stderr: "pipe" });
  expect(info.exitCode, info.stderr.toString()).toBe(0);
  const runtimes = JSON.parse(info.stdout.toString()) as Record<string, { runtimeArgs?: string[] } | undefined>;
  const args = runtimes.runsc?.runtimeArgs ?? [];
  expect(args, "runsc is not registered with --network=none --oci-seccomp; run: bash scripts/setup-gvisor.sh").toEqual(expect.arrayContaining(["--network=none", "--oci-seccomp"]));
}

/** The gVisor runtime as the app builds it, without a disk cache (self-tested once per process). */
export const gvisor: SandboxRuntime = createSandboxRuntime("gvisor", { selfTestImage: BASE_IMAGE });

/** A run's decoded output plus its result. */
export interface Collected extends SandboxResult {
  stdout: string;
  stderr: string;
}

let counter = 0;

/** Runs `sh -c script` in the base image on `runtime` and collects its output. */
export async function gsh(script: string, options: { runtime?: SandboxRuntime; timeoutMs?: number; signal?: AbortSignal; runId?: string } = {}): Promise<Collected> {
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = { stdout: "", stderr: "" };
  const result = await (options.runtime ?? gvisor).run(
    {
      runId: options.runId ?? `gvisor-test-${process.pid}-${++counter}`,
      image: BASE_IMAGE,
      argv: ["sh", "-c", script],
      timeoutMs: options.timeoutMs ?? 20_000,
      limits: DEFAULT_LIMITS,
    },
    {
      stdout: (chunk) => void (out.stdout += decoder.stdout.decode(chunk, { stream: true })),
      stderr: (chunk) => void (out.stderr += decoder.stderr.decode(chunk, { stream: true })),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return { ...result, ...out };
}

/** The OCI runtime Docker recorded for a container, or undefined when it no longer exists. */
export function ociRuntimeOf(containerId: string): string | undefined {
  const inspect = Bun.spawnSync(["timeout", "10", "docker", "inspect", "--format", "{{.HostConfig.Runtime}}", containerId], { stdout: "pipe", stderr: "ignore" });
  return inspect.exitCode === 0 ? inspect.stdout.toString().trim() : undefined;
}
