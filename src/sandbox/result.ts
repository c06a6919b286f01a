/**
 * What every runtime's run ends with: the exit codes of runs AegisClaw ended itself, the output
 * limit, and the result built from them, so docker, gVisor and bwrap report alike.
 */
import type { SandboxIo, SandboxResult } from "./types.ts";

/** Exit codes of runs we ended ourselves, following shell conventions (timeout(1), Ctrl-C, SIGKILL). */
export const EXIT_TIMEOUT = 124;
export const EXIT_ABORTED = 130;
export const EXIT_KILLED = 137;

/** Why we killed a run; the first reason wins. */
export type KillReason = "timeout" | "abort" | "output";

type StreamName = "stdout" | "stderr";

/** A run's output on its way to the consumers, at most `limit` bytes in total. */
export interface OutputLimit {
  /** Forwards one chunk of one stream; drops it once the run is over or past the limit. */
  write(stream: StreamName, chunk: Uint8Array): void;
  /** Drops everything that arrives from now on (the run is over). */
  close(): void;
  readonly bytes: Readonly<Record<StreamName, number>>;
  readonly truncated: boolean;
  /** What a throwing consumer threw; the run was killed as aborted and the caller rethrows it. */
  readonly consumerError: unknown;
}

/**
 * Forwards at most `limit` bytes in total and kills the run ("output") past it. A consumer that
 * throws kills the run ("abort"): a failing consumer must not leave the sandbox running unobserved.
 */
export function createOutputLimit(limit: number, io: SandboxIo, kill: (why: KillReason) => void): OutputLimit {
  const bytes: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  const state = { closed: false, truncated: false, consumerError: undefined as unknown };
  return {
    write(stream, chunk) {
      if (state.closed || state.truncated) return;
      const room = limit - bytes.stdout - bytes.stderr;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (part.length > 0) {
        bytes[stream] += part.length;
        try {
          io[stream](part);
        } catch (error) {
          state.consumerError ??= error;
          kill("abort");
        }
      }
      if (chunk.length > room) {
        state.truncated = true;
        kill("output");
      }
    },
    close: () => void (state.closed = true),
    bytes,
    get truncated() {
      return state.truncated;
    },
    get consumerError() {
      return state.consumerError;
    },
  };
}

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

/** The result of a run that got as far as its sandbox: our kill reason wins over the exit status. */
export function finalResult(startedAt: number, id: string, reason: KillReason | undefined, exitCode: number, oomKilled: boolean, output: Pick<OutputLimit, "bytes" | "truncated">): SandboxResult {
  return {
    ...emptyResult(startedAt, id),
    exitCode: reason === "abort" ? EXIT_ABORTED : reason === "timeout" ? EXIT_TIMEOUT : exitCode,
    timedOut: reason === "timeout",
    aborted: reason === "abort",
    oomKilled,
    outputTruncated: output.truncated,
    stdoutBytes: output.bytes.stdout,
    stderrBytes: output.bytes.stderr,
  };
}
