/**
 * Helper process for the crash test: starts one long bwrap run and prints "up" once the sandbox
 * speaks, then waits to be killed with SIGKILL (as a crashed AegisClaw would be).
 */
import { BwrapRuntime } from "../../../src/sandbox/bwrap/bwrap-runtime.ts";
import { BWRAP_BASE_IMAGE } from "../../../src/sandbox/bwrap/index.ts";
import { DEFAULT_LIMITS } from "../../../src/sandbox/index.ts";

const stateDir = process.argv[2];
if (!stateDir) throw new Error("usage: run-child.ts STATE_DIR");
await new BwrapRuntime({ stateDir }).run(
  { runId: `crash-${process.pid}`, image: BWRAP_BASE_IMAGE, argv: ["sh", "-c", "echo up; sleep 60"], timeoutMs: 120_000, limits: DEFAULT_LIMITS },
  { stdout: () => console.log("up"), stderr: () => undefined },
);
