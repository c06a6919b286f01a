import { createApp, keepWarmPool } from "../../app.ts";
import { AegisError } from "../../shared/index.ts";
import { serverOptionsFrom } from "../server-options.ts";
import type { CliContext } from "../context.ts";

/**
 * `serve [--host H] [--port P] [--cert F --key F] [--insecure] [--origin O]...`: the
 * authenticated API (docs/api.md) until SIGINT/SIGTERM, then a clean stop: this server's runs
 * are cancelled and record their results, pending approvals are withdrawn, the audit log is
 * closed. The URL goes to stderr (and `{url, port}` to stdout under --json).
 */
export async function runServe(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const bind = serverOptionsFrom(options);
  const decisionWorkers = decisionWorkersFrom(options["decisionWorkers"]);
  const { startServer, TokenStore, tokensFile } = await import("../../server/index.ts");
  const app = createApp(ctx.home);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(app, { ...bind, ...(decisionWorkers === undefined ? {} : { decisionWorkers }), log: (line) => ctx.stderr(`${line}\n`) });
  } catch (error) {
    await app.close();
    throw error;
  }
  const pool = await keepWarmPool(app, (line) => ctx.stderr(`aegisclaw serve: ${line}\n`)).catch(async (error: unknown) => {
    await server.stop();
    await app.close();
    throw error;
  });
  ctx.stderr(`aegisclaw serve: listening on ${server.url} (dashboard ${server.url}/, API ${server.url}/api/v1, metrics ${server.url}/metrics; ${server.decisionWorkers} decision worker(s)); Ctrl-C stops\n`);
  if (new TokenStore(tokensFile(app.layout.state)).list().every((token) => token.revokedAt)) {
    ctx.stderr("aegisclaw serve: no API token exists yet; create one with `aegisclaw token create --role admin`\n");
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  ctx.stderr("aegisclaw serve: stopping (cancelling this server's runs)\n");
  await pool?.stop().catch((error: unknown) => ctx.stderr(`aegisclaw serve: warm pool: ${error instanceof Error ? error.message : String(error)}\n`));
  await server.stop();
  await app.close();
  return 0;
}

/** `--decision-workers N`: 0 to 64 (0 decides on the HTTP thread). */
function decisionWorkersFrom(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  // cac gives `true` for a bare flag and "" for an empty value: neither is a count.
  const workers = typeof value === "number" || (typeof value === "string" && value.trim() !== "") ? Number(value) : Number.NaN;
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
    throw new AegisError("usage", `--decision-workers ${String(value)} is not a number of threads`, { hint: "use 0 (decide on the HTTP thread) to 64" });
  }
  return workers;
}
