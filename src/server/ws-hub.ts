import type { ServerWebSocket, WebSocketHandler } from "bun";
import type { AegisEventType, EventEnvelope } from "../core/index.ts";
import type { Identity } from "./auth.ts";
import { EVENT_ACCESS, roleAllows } from "./rbac.ts";

/** What each socket carries: who it is, and which events it asked for. */
export interface WsData {
  identity: Identity;
  /** Only these event types (absent: every type its role may see). */
  types?: ReadonlySet<AegisEventType>;
  /** Only events of this run. */
  runId?: string;
}

/** Hub limits. */
export interface WsHubOptions {
  /** A `{"type":"heartbeat"}` message this often; tokens are re-checked at the same time. */
  heartbeatMs: number;
  /** Bytes queued for one client before it counts as too slow and is dropped. */
  maxBufferedBytes: number;
  /** False once the client's token is revoked: its socket is then closed. */
  stillValid(identity: Identity): boolean;
}

/** Close code for a client that does not keep up (RFC 6455 1013: try again later). */
export const CLOSE_TOO_SLOW = 1013;
/** Close code for a revoked token (application range). */
export const CLOSE_REVOKED = 4401;

/**
 * Fans every bus event (already redacted by the Gate) out to the WebSocket clients allowed to
 * see it (EVENT_ACCESS per role). Sending never waits: a client whose queue passes the limit is
 * dropped, so a slow reader can never hold up the Gate that publishes.
 */
export class WsHub {
  private readonly clients = new Set<ServerWebSocket<WsData>>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly options: WsHubOptions) {
    this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs);
  }

  /** Bun's websocket handlers for `Bun.serve`. */
  readonly websocket: WebSocketHandler<WsData> = {
    open: (ws) => {
      this.clients.add(ws);
      ws.send(JSON.stringify({ type: "hello", role: ws.data.identity.role, name: ws.data.identity.name }));
    },
    close: (ws) => {
      this.clients.delete(ws);
    },
    // Clients only listen; anything they send is ignored (and capped by maxPayloadLength).
    message: () => {},
    maxPayloadLength: 4096,
    idleTimeout: 120,
    sendPings: true,
    backpressureLimit: 4 * 1024 * 1024,
    closeOnBackpressureLimit: true,
  };

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Sends `event` to every client allowed and subscribed to it. */
  publish(event: EventEnvelope): void {
    if (this.clients.size === 0) return;
    const required = EVENT_ACCESS[event.type];
    const runId = (event.data as { runId?: string; id?: string }).runId ?? (event.data as { id?: string }).id;
    let text: string | undefined;
    for (const ws of this.clients) {
      const { identity, types, runId: wanted } = ws.data;
      if (!roleAllows(identity.role, required)) continue;
      if (types && !types.has(event.type)) continue;
      if (wanted !== undefined && runId !== wanted) continue;
      text ??= JSON.stringify(event);
      this.send(ws, text);
    }
  }

  /** Closes every client (server shutdown). */
  close(): void {
    clearInterval(this.timer);
    for (const ws of this.clients) ws.close(1001, "server shutting down");
    this.clients.clear();
  }

  private heartbeat(): void {
    const text = JSON.stringify({ type: "heartbeat", time: new Date().toISOString() });
    for (const ws of this.clients) {
      if (!this.options.stillValid(ws.data.identity)) {
        this.clients.delete(ws);
        ws.close(CLOSE_REVOKED, "token revoked");
        continue;
      }
      this.send(ws, text);
    }
  }

  private send(ws: ServerWebSocket<WsData>, text: string): void {
    if (ws.getBufferedAmount() + text.length > this.options.maxBufferedBytes) return this.drop(ws);
    // 0 means Bun dropped the message (backpressure limit): the client has fallen behind.
    if (ws.send(text) === 0) this.drop(ws);
  }

  private drop(ws: ServerWebSocket<WsData>): void {
    this.clients.delete(ws);
    // terminate, not close: a close frame would queue behind the backlog we are giving up on.
    ws.terminate();
  }
}
