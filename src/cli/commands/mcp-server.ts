import { createApp } from "../../app.ts";
import { Redactor } from "../../redact/index.ts";
import type { CliContext } from "../context.ts";

/**
 * `mcp-server`: AegisClaw as an MCP server on stdio (docs/mcp.md). stdout carries nothing but
 * JSON-RPC; diagnostics go to stderr. The process opens its control socket so the console and
 * `aegisclaw approvals` see its runs and answer its approvals. End of stdin or SIGTERM/SIGINT
 * closes the connection, which cancels calls still running (their sandboxes are killed, their
 * approvals withdrawn, both recorded), then the audit log is closed and the exit code is 0.
 */
export async function runMcpServer(ctx: CliContext): Promise<number> {
  const { createMcpServer, LineStdioTransport, mcpActorName } = await import("../../mcp/index.ts");
  const app = createApp(ctx.home);
  // Whatever a dependency might print must not corrupt the JSON-RPC stream on stdout.
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  const log = (line: string) => ctx.stderr(`aegisclaw mcp-server: ${line}\n`);
  const { server, settle } = createMcpServer(app, log);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  const redactor = new Redactor();
  server.server.onerror = (error) => log(redactor.redactText(error.message));
  // The client's name is its own claim: logged in the same cleaned form as its audit actor.
  server.server.oninitialized = () => log(`client connected; its calls are recorded as ${mcpActorName(server.server.getClientVersion()?.name)}`);
  const stop = () => void server.close();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    app.startControl();
    await server.connect(new LineStdioTransport({ input: process.stdin, output: process.stdout }));
    log(`serving ${ctx.home} on stdio (tools: sandbox_exec, policy_simulate, audit_verify); end of input or SIGTERM stops it`);
    await closed;
    await settle();
    log("stopped");
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await app.close();
  }
  return 0;
}
