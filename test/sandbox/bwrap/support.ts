/** Shared helpers of the bwrap tests: a runtime with its own state dir, a collecting runner, leftover checks. */
import { expect } from "bun:test";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BWRAP_BASE_IMAGE, createBwrapRuntime } from "../../../src/sandbox/bwrap/index.ts";
import { DEFAULT_LIMITS, type SandboxLimits, type SandboxResult, type SandboxSpec } from "../../../src/sandbox/index.ts";
import { tempDir } from "../../helpers/temp-home.ts";

/** The self-tested runtime, as the Gate would get it. */
export const stateDir = tempDir("aegisclaw-bwrap-state-");
export const runtime = createBwrapRuntime({ stateDir, selfTestImage: BWRAP_BASE_IMAGE });

/** What a run printed, decoded. */
export interface Collected extends SandboxResult {
  stdout: string;
  stderr: string;
}

let counter = 0;

type Options = Partial<Omit<SandboxSpec, "limits">> & { limits?: Partial<SandboxLimits>; signal?: AbortSignal; onStdout?: (text: string) => void };

/** Runs `sh -c script` in the base rootfs through the self-tested runtime and collects its output. */
export function sh(script: string, options: Options = {}): Promise<Collected> {
  return collect({ argv: ["sh", "-c", script], ...options });
}

/** Runs a spec (defaults: base image, `true`, default limits, 20 s) and collects its output. */
export async function collect(options: Options, on = runtime): Promise<Collected> {
  const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const out = { stdout: "", stderr: "" };
  const { limits, signal, onStdout, ...rest } = options;
  const result = await on.run(
    { runId: `bwraptest-${process.pid}-${++counter}`, image: BWRAP_BASE_IMAGE, argv: ["true"], timeoutMs: 20_000, ...rest, limits: { ...DEFAULT_LIMITS, ...limits } },
    {
      stdout: (chunk) => {
        const text = decoder.stdout.decode(chunk, { stream: true });
        out.stdout += text;
        onStdout?.(text);
      },
      stderr: (chunk) => void (out.stderr += decoder.stderr.decode(chunk, { stream: true })),
      ...(signal ? { signal } : {}),
    },
  );
  return { ...result, ...out };
}

/** Asserts this process left no run cgroup behind (every run removes its own). */
export function expectNoLeftovers(): void {
  const mine = (dir: string) => {
    try {
      return readdirSync(dir).filter((name) => name.split(".")[1] === String(process.pid));
    } catch {
      return [];
    }
  };
  for (const dir of ["/sys/fs/cgroup/unified/aegisclaw", "/sys/fs/cgroup/pids/aegisclaw", "/sys/fs/cgroup/memory/aegisclaw", "/sys/fs/cgroup/cpu/aegisclaw", "/sys/fs/cgroup/aegisclaw"]) {
    expect(mine(dir)).toEqual([]);
  }
}

/**
 * A directory uid 65534 can reach (the sandbox user bwrap runs as): under /var/tmp, since the
 * temp dir may be closed to other users. Removed by the caller's cleanup.
 */
export function sharedDir(owner?: number): { path: string; remove: () => void } {
  const path = mkdtempSync(join("/var/tmp", "aegisclaw-bwrap-test-"));
  chmodSync(path, 0o755);
  if (owner !== undefined) chownSync(path, owner, owner);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
