/** Shared helpers of the sandbox tests: a runtime, a collecting runner and a leftover check. */
import { expect } from "bun:test";
import { createDockerRuntime, DEFAULT_LIMITS, type SandboxLimits, type SandboxMount, type SandboxResult, type SandboxSpec } from "../../src/sandbox/index.ts";
import { BASE_IMAGE } from "../helpers/docker.ts";

export const runtime = createDockerRuntime();

/** What a run printed, decoded, plus when the first stdout chunk arrived. */
export interface Collected extends SandboxResult {
  stdout: string;
  stderr: string;
  stdoutChunks: number;
  firstStdoutAt?: number;
}

let counter = 0;

/** Runs `sh -c script` in the base image and collects its output. */
export async function sh(script: string, options: { limits?: Partial<SandboxLimits>; timeoutMs?: number; signal?: AbortSignal; env?: Record<string, string>; mounts?: SandboxMount[]; onStdout?: (text: string) => void } = {}): Promise<Collected> {
  return collect({ argv: ["sh", "-c", script], ...options });
}

/** Runs `argv` (image defaults to the base image) and collects its output. */
export async function collect(options: Partial<Omit<SandboxSpec, "limits">> & { limits?: Partial<SandboxLimits>; signal?: AbortSignal; onStdout?: (text: string) => void }): Promise<Collected> {
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = { stdout: "", stderr: "", stdoutChunks: 0, firstStdoutAt: undefined as number | undefined };
  const started = performance.now();
  const result = await runtime.run(
    {
      runId: `test-${process.pid}-${++counter}`,
      image: options.image ?? BASE_IMAGE,
      argv: options.argv ?? ["true"],
      timeoutMs: options.timeoutMs ?? 20_000,
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      ...(options.env ? { env: options.env } : {}),
      ...(options.mounts ? { mounts: options.mounts } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
    },
    {
      stdout: (chunk) => {
        out.firstStdoutAt ??= performance.now() - started;
        out.stdoutChunks++;
        const text = decoder.stdout.decode(chunk, { stream: true });
        out.stdout += text;
        options.onStdout?.(text);
      },
      stderr: (chunk) => {
        out.stderr += decoder.stderr.decode(chunk, { stream: true });
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return { ...result, ...out };
}

/** Container ids carrying AegisClaw's pid label for `pid` (running or not). */
export function containersOf(pid: number): string[] {
  const ps = Bun.spawnSync(["docker", "ps", "-aq", "--no-trunc", "--filter", `label=io.aegisclaw.pid=${pid}`], { stdout: "pipe", stderr: "pipe" });
  expect(ps.exitCode, ps.stderr.toString()).toBe(0);
  return ps.stdout.toString().split("\n").filter(Boolean);
}

/** Asserts this process left no AegisClaw container behind. */
export function expectNoLeftovers(pid = process.pid): void {
  expect(containersOf(pid)).toEqual([]);
}

/** True when a container with this id still exists on the engine. */
export function containerExists(id: string): boolean {
  return Bun.spawnSync(["docker", "inspect", id], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}
