import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { createApp, keepWarmPool } from "../../app.ts";
import { createLiveBackend } from "../../../ui/tui/live-backend.ts";
import { runConsole } from "../../../ui/tui/main.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { parseListen, serverOptionsFrom } from "../server-options.ts";

/**
 * `aegisclaw` on a terminal: the full-screen console. It follows every AegisClaw process of
 * the home (runs, output, approvals) and acts through the same stores as the CLI. With
 * `--listen [HOST:]PORT` the same process also serves the API (docs/api.md): its runs and
 * approvals then appear in the console directly.
 */
export async function runConsoleCommand(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const app = createApp(ctx.home);
  let server: { url: string; stop(): Promise<void> } | undefined;
  if (options.listen !== undefined) {
    const { startServer } = await import("../../server/index.ts");
    // The console owns the terminal: server diagnostics go to a private log file instead.
    const logFile = join(app.layout.run, "listen.log");
    const log = (line: string) => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
    try {
      server = await startServer(app, { ...serverOptionsFrom(options, parseListen(options.listen)), log });
    } catch (error) {
      await app.close();
      throw error;
    }
    ctx.stderr(`aegisclaw: API listening on ${server.url} (diagnostics in ${logFile})\n`);
  }
  // The console owns the terminal: the pool's diagnostics go to a private log file.
  const poolLog = join(app.layout.run, "warm-pool.log");
  const pool = await keepWarmPool(app, (line) => appendFileSync(poolLog, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 })).catch(async (error: unknown) => {
    await server?.stop();
    await app.close();
    throw error;
  });
  const backend = await createLiveBackend(app, localActor().name, server ? `API ${server.url.replace(/^http:\/\//, "")}` : undefined);
  try {
    return await runConsole(backend);
  } finally {
    await pool?.stop().catch(() => 0);
    await server?.stop();
    await backend.close();
    if (server) ctx.stderr(`aegisclaw: API on ${server.url} stopped\n`);
  }
}
