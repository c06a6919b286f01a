/**
 * The MCP server (stdio, over the official @modelcontextprotocol/sdk): tools that send an
 * agent's commands through the Gate into the hardened sandbox instead of running them on the
 * host. Front end only: every decision is the Gate's. Documented in docs/mcp.md.
 */
export { createMcpServer, type AegisMcpServer } from "./server.ts";
export { LineStdioTransport, MAX_LINE_BYTES, type LineStreams } from "./stdio-transport.ts";
export { mcpActorName } from "./context.ts";
export { OUTPUT_CAP_BYTES } from "./results.ts";
