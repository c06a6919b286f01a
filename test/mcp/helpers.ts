import { afterEach } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { aegis, BINARY, initHomeWith } from "../helpers/cli.ts";

/** The environment a spawned server gets: its own home and nothing inherited that could matter. */
export function serverEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home };
}

/** A connected SDK client and what its server wrote on stderr so far. */
export interface Connected {
  client: Client;
  transport: StdioClientTransport;
  stderr(): string;
}

const open: Connected[] = [];

/** Closes every client a test opened (stdin EOF, then SIGTERM, as the SDK does). */
export function closeClientsAfterEach(): void {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((connected) => connected.client.close()));
  });
}

/** Spawns `aegisclaw mcp-server` (the compiled binary) for `home` and connects the SDK's own client over stdio. */
export async function connect(home: string, clientName = "mcp-test-client"): Promise<Connected> {
  const transport = new StdioClientTransport({ command: BINARY, args: ["mcp-server"], env: serverEnv(home), stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: clientName, version: "1.0.0" });
  await client.connect(transport);
  const connected = { client, transport, stderr: () => stderr };
  open.push(connected);
  return connected;
}

/** A fresh home with `template` whose approvals expire after `approvalTimeout`. */
export function home(template: "strict" | "standard" | "permissive", approvalTimeout = "60s"): Promise<string> {
  return initHomeWith(template, approvalTimeout);
}

/** Calls a tool with a timeout long enough for an approval wait plus a sandbox run. */
export async function call(client: Client, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000, ...(signal ? { signal } : {}) })) as CallToolResult;
}

/** Every text block of a result, joined. */
export function textOf(result: CallToolResult): string {
  return result.content
    .filter((block): block is { type: "text"; text: string } => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

/** A pending approval's id once the server's control socket lists it. */
export async function waitForPending(homeDir: string): Promise<{ id: string; requestHash: string; actor: { name: string; source: string }; argv: string[] }> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const listed = await aegis(homeDir, ["approvals", "list", "--json"]);
    const pending = JSON.parse(listed.stdout).pending;
    if (pending.length > 0) return pending[0];
    await Bun.sleep(100);
  }
  throw new Error("no pending approval appeared");
}
