import type { SandboxResult } from "./types.ts";

/** A result with nothing run yet, timed from `startedAt`; every runtime fills in what happened. */
export function emptyResult(startedAt: number, containerId: string): SandboxResult {
  return {
    exitCode: 0,
    timedOut: false,
    aborted: false,
    oomKilled: false,
    outputTruncated: false,
    durationMs: Math.round(performance.now() - startedAt),
    stdoutBytes: 0,
    stderrBytes: 0,
    containerId,
  };
}
