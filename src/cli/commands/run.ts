import { createApp } from "../../app.ts";
import { localActor } from "../actor.ts";
import { hiddenPrompt } from "../passphrase-prompt.ts";
import type { CliContext } from "../context.ts";
import { runThroughGate } from "../gate-run.ts";
import { commandFromArgs, runRequestOptions } from "./run-options.ts";

/** `run [--scope S]... [--runtime R] [--image I] [--timeout D] -- CMD...`: one command through the Gate. */
export async function runRun(positional: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const argv = commandFromArgs(positional, options, "run");
  const requestOptions = runRequestOptions(options);
  // A sealed secret store is unlocked only when the run is granted a secret, after its approval.
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !ctx.json;
  const app = createApp(ctx.home, interactive ? { secretPassphrasePrompt: () => hiddenPrompt("passphrase for the secret store: ", ctx) } : {});
  return runThroughGate(app, { actor: localActor(), argv, ...requestOptions }, ctx, "raise it with --timeout");
}
