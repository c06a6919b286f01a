import { createApp } from "../../app.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";

/**
 * `serve [--host H] [--port P] [--cert F --key F] [--insecure] [--origin O]...`: the
 * authenticated API (docs/api.md) until SIGINT/SIGTERM, then a clean stop: this server's runs
 * are cancelled and record their results, pending approvals are withdrawn, the audit log is
 * closed. The URL goes to stderr (and `{url, port}` to stdout under --json).
 */
export async function runServe(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const host = options.host === undefined ? "127.0.0.1" : String(options.host);
  const port = portOf(options.port);
  const cert = options.cert === undefined ? undefined : String(options.cert);
  const key = options.key === undefined ? undefined : String(options.key);
  if ((cert === undefined) !== (key === undefined)) throw new AegisError("usage", "--cert and --key go together", { hint: "give both PEM files for HTTPS, or neither" });
  const origins = options.origin === undefined ? [] : (Array.isArray(options.origin) ? options.origin : [options.origin]).map(String);
  const { startServer, TokenStore, tokensFile } = await import("../../server/index.ts");
  const app = createApp(ctx.home);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(app, {
      host,
      port,
      ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
      insecure: options.insecure === true,
      allowedOrigins: origins,
      log: (line) => ctx.stderr(`${line}\n`),
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  ctx.stderr(`aegisclaw serve: listening on ${server.url} (API ${server.url}/api/v1, metrics ${server.url}/metrics); Ctrl-C stops\n`);
  if (new TokenStore(tokensFile(app.layout.state)).list().every((token) => token.revokedAt)) {
    ctx.stderr("aegisclaw serve: no API token exists yet; create one with `aegisclaw token create --role admin`\n");
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  ctx.stderr("aegisclaw serve: stopping (cancelling this server's runs)\n");
  await server.stop();
  await app.close();
  return 0;
}

function portOf(value: unknown): number {
  if (value === undefined) return 7878;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AegisError("usage", `--port ${String(value)} is not a port number`, { hint: "use 1-65535 (0 picks a free port)" });
  return port;
}
