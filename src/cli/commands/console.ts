import { createApp } from "../../app.ts";
import { createLiveBackend } from "../../../ui/tui/live-backend.ts";
import { runConsole } from "../../../ui/tui/main.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";

/**
 * `aegisclaw` on a terminal: the full-screen console. It follows every AegisClaw process of
 * the home (runs, output, approvals) and acts through the same stores as the CLI.
 */
export async function runConsoleCommand(ctx: CliContext): Promise<number> {
  const app = createApp(ctx.home);
  const backend = await createLiveBackend(app, localActor().name);
  try {
    return await runConsole(backend);
  } finally {
    await backend.close();
  }
}
