import type { App } from "../app.ts";
import type { RunOutcome, RunRequest } from "../core/index.ts";
import { promptForApprovals } from "./approval-prompt.ts";
import type { CliContext } from "./context.ts";

/**
 * Drives one Gate run from the command line (`run`, `skills run`): opens this process's control
 * socket so consoles and `aegisclaw approvals` see it, asks inline on a terminal, turns
 * SIGINT/SIGTERM into a cancel, streams output (JSON lines under --json), and closes the app.
 * Returns the command's own exit code unless AegisClaw ended it.
 */
export async function runThroughGate(app: App, request: RunRequest, ctx: CliContext, timeoutHint: string): Promise<number> {
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  app.startControl();
  const stopPrompt = promptForApprovals(app, ctx, request.actor.name, Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ctx.json);
  try {
    const gate = await app.gate();
    const write = (stream: "stdout" | "stderr") => (chunk: Uint8Array) => {
      if (ctx.json) ctx.stdout(`${JSON.stringify({ type: "output", stream, text: new TextDecoder().decode(chunk) })}\n`);
      else (stream === "stdout" ? process.stdout : process.stderr).write(chunk);
    };
    const outcome = await gate.run(request, { stdout: write("stdout"), stderr: write("stderr"), signal: cancel.signal });
    return finish(outcome, ctx, timeoutHint);
  } finally {
    stopPrompt();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await app.close();
  }
}

/** The command's own exit code, except when AegisClaw ended it (DESIGN.md exit codes). */
function finish(outcome: RunOutcome, ctx: CliContext, timeoutHint: string): number {
  const exitCode = outcome.killedBy === "lockdown" ? 75 : outcome.exitCode;
  if (ctx.json) ctx.stdout(`${JSON.stringify({ type: "result", ...outcome, exitCode })}\n`);
  const notes: Record<string, string> = {
    lockdown: "run killed: lockdown engaged (`aegisclaw unlock` lifts it)",
    timeout: `run timed out and was killed (exit 124); ${timeoutHint}`,
    cancel: "run cancelled; sandbox killed",
    "output-limit": "output limit reached; sandbox killed (raise sandbox.limits.output in config.yaml)",
  };
  const note = outcome.killedBy ? notes[outcome.killedBy] : undefined;
  if (note) ctx.stderr(`aegisclaw: ${note} [run ${outcome.runId}]\n`);
  return exitCode;
}
