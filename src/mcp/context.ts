import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { App } from "../app.ts";
import type { Gate } from "../core/index.ts";
import type { ExecInput } from "./schemas.ts";

/** What the SDK hands every tool handler: the cancel signal, progress token, notifier. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What the tools share: the app of this home, its Gate, who the client is, where diagnostics go. */
export interface ToolContext {
  app: App;
  /** The Gate with the audit log open (opened once, on first use). */
  gate(): Promise<Gate>;
  /** The audit actor of this connection: `mcp:<client name from initialize>`. */
  actor(): { name: string; source: "mcp" };
  /** The runtime a request would use (its own, else the configured one). */
  runtimeOf(input: Pick<ExecInput, "runtime">): string;
  /** One diagnostic line on stderr (never stdout, which carries only JSON-RPC). */
  log(line: string): void;
}

/**
 * The actor name for a client's self-reported name. It lands in the audit log and the approval
 * shown to a person, so it is reduced to a short run of plain characters: a client cannot forge
 * line breaks or terminal escapes there. The name is the client's claim, not an identity.
 */
export function mcpActorName(clientName: string | undefined): string {
  const cleaned = (clientName ?? "").replace(/[^A-Za-z0-9._@/+-]+/g, "_").slice(0, 100);
  return `mcp:${cleaned === "" || /^_+$/.test(cleaned) ? "unknown" : cleaned}`;
}

/** How often a waiting or running call repeats its last progress note (clients may reset their request timeout on progress). */
const HEARTBEAT_MS = 10_000;

/**
 * Progress notifications for a call whose client sent a progress token (MCP
 * `notifications/progress`); without one, nothing is sent. A lost notification never fails the call.
 */
export function progressReporter(extra: ToolExtra): { note(message: string): void; stop(): void } {
  const token = extra._meta?.progressToken;
  if (token === undefined) return { note: () => undefined, stop: () => undefined };
  let progress = 0;
  let last = "";
  const send = (message: string) => {
    last = message;
    progress++;
    extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, message } }).catch(() => undefined);
  };
  const heartbeat = setInterval(() => {
    if (last !== "") send(last);
  }, HEARTBEAT_MS);
  heartbeat.unref?.();
  return { note: send, stop: () => clearInterval(heartbeat) };
}
