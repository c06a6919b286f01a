import type { Server } from "bun";
import type { App } from "../app.ts";
import type { OpenClawAdapter } from "../adapters/openclaw/index.ts";
import type { Gate } from "../core/index.ts";
import type { ApprovalsView } from "./approvals-view.ts";
import type { AuthDeps } from "./auth.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { RunRegistry } from "./run-registry.ts";
import type { SessionStore } from "./sessions.ts";
import type { SseOptions } from "./sse.ts";
import type { TokenStore } from "./tokens.ts";
import type { WsData, WsHub } from "./ws-hub.ts";

/** Everything route handlers may use: the app (Gate, stores) and the server's own parts. */
export interface ServerContext {
  app: App;
  /** The server process's Gate; its approver is `app.approvals`. */
  gate: Gate;
  tokens: TokenStore;
  sessions: SessionStore;
  auth: AuthDeps;
  runs: RunRegistry;
  approvals: ApprovalsView;
  metrics: ServerMetrics;
  hub: WsHub;
  /** The OpenClaw adapter: gateway connection, health, approval bridge. */
  openclaw: OpenClawAdapter;
  /** The Bun server (WebSocket upgrades, per-request timeouts). */
  server(): Server<WsData>;
  tls: boolean;
  version: string;
  /** The OpenAPI document of this server (built once from the route table). */
  openapi: Record<string, unknown>;
  sse: SseOptions;
  /** Diagnostics for the operator (stderr of `aegisclaw serve`). */
  log(line: string): void;
}
