import { createApp } from "../../app.ts";
import type { RunOutcome } from "../../core/index.ts";
import { localActor } from "../actor.ts";
import { promptForApprovals } from "../approval-prompt.ts";
import { hiddenPrompt } from "../passphrase-prompt.ts";
import type { CliContext } from "../context.ts";
import { commandFromArgs, runRequestOptions } from "./run-options.ts";

/** `run [--scope S]... [--runtime R] [--image I] [--timeout D] -- CMD...`: one command through the Gate. */
export async function runRun(positional: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const argv = commandFromArgs(positional, options, "run");
  const requestOptions = runRequestOptions(options);
  // A sealed secret store is unlocked only when the run is granted a secret, after its approval.
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ctx.json;
  const app = createApp(ctx.home, interactive ? { secretPassphrasePrompt: () => hiddenPrompt("passphrase for the secret store: ", ctx) } : {});
  const actor = localActor();
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Consoles and `aegisclaw approvals` in other shells see this run and answer its approvals.
  app.startControl();
  const stopPrompt = promptForApprovals(app, ctx, actor.name, Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ctx.json);
  try {
    const gate = await app.gate();
    const write = (stream: "stdout" | "stderr") => (chunk: Uint8Array) => {
      if (ctx.json) ctx.stdout(`${JSON.stringify({ type: "output", stream, text: new TextDecoder().decode(chunk) })}\n`);
      else (stream === "stdout" ? process.stdout : process.stderr).write(chunk);
    };
    const outcome = await gate.run(
      {
        actor,
        argv,
        ...requestOptions,
      },
      { stdout: write("stdout"), stderr: write("stderr"), signal: cancel.signal },
    );
    return finish(outcome, ctx);
  } finally {
    stopPrompt();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await app.close();
  }
}

/** The command's own exit code, except when AegisClaw ended it (DESIGN.md exit codes). */
function finish(outcome: RunOutcome, ctx: CliContext): number {
  const exitCode = outcome.killedBy === "lockdown" ? 75 : outcome.exitCode;
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ type: "result", ...outcome, exitCode })}\n`);
  }
  const notes: Record<string, string> = {
    lockdown: "aegisclaw: run killed: lockdown engaged (`aegisclaw unlock` lifts it)",
    timeout: `aegisclaw: run timed out and was killed (exit 124); raise it with --timeout`,
    cancel: "aegisclaw: run cancelled; sandbox killed",
    "output-limit": "aegisclaw: output limit reached; sandbox killed (raise sandbox.limits.output in config.yaml)",
  };
  const note = outcome.killedBy ? notes[outcome.killedBy] : undefined;
  if (note) ctx.stderr(`${note} [run ${outcome.runId}]\n`);
  return exitCode;
}
