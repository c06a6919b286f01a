import pkg from "../../../package.json" with { type: "json" };
import { AegisError } from "../../shared/index.ts";

/**
 * The OpenClaw gateway's WebSocket protocol 4, as a trusted local backend client: client id
 * `gateway-client`, mode `backend`, role operator and the shared gateway token (no device
 * identity; OpenClaw accepts that on loopback: docs/gateway/protocol/handshake.md). With the
 * `approvals` cap and the `operator.approvals` scope the gateway routes exec and plugin approval
 * requests to this client (notes/openclaw.md, section 2).
 */

/** What the gateway answered the connect request with (the parts the adapter reads). */
export interface HelloOk {
  protocol: number;
  server: { version?: string; connId?: string };
  auth?: { role?: string; scopes?: string[] };
  features?: { methods?: string[]; events?: string[] };
  policy?: { tickIntervalMs?: number; maxPayload?: number };
}

/** A failed request: the gateway's `{code, message}` or a local timeout / disconnect. */
export class GatewayRequestError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    message: string,
  ) {
    super(`${method}: ${code}: ${message}`);
    this.name = "GatewayRequestError";
  }
}

export type GatewayConnectionState = "connecting" | "connected" | "closed";

export interface GatewayClientOptions {
  /** The gateway's base URL (http(s) or ws(s)); the WebSocket is at its root. */
  endpoint: string;
  /** The gateway token. Held in memory only; never logged or put in errors. */
  token: string;
  /** Budget of the handshake and of each request (default 5000 ms). */
  timeoutMs?: number;
  /** Operator scopes asked for. */
  scopes?: string[];
  /** Client capabilities; `approvals` makes this client an approval route. */
  caps?: string[];
  /** Reconnect after a lost connection, with exponential backoff (default true). */
  reconnect?: boolean;
  /** First and largest reconnect delay (default 500 ms and 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** Every event after the handshake (tick, health, exec.approval.requested, ...). */
  onEvent?: (event: string, payload: unknown) => void;
  /** Connection state changes; `error` says why a connection failed or ended (never the token). */
  onState?: (state: GatewayConnectionState, error?: string) => void;
}

interface Pending {
  method: string;
  resolve: (payload: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The scopes and caps of an approval-capable AegisClaw bridge. operator.admin is needed: without
 * it OpenClaw shows an approval only to the connection or device that requested it (the agent's
 * own runtime), so the approval-capable client gets no event and the run fails with "no approval
 * route" (openclaw dist approval-record-lookup: isApprovalRecordVisibleToClient).
 */
export const BRIDGE_SCOPES = ["operator.read", "operator.write", "operator.approvals", "operator.admin"];
export const BRIDGE_CAPS = ["tool-events", "approvals"];

/** ws(s)://host:port/ from the adapter's endpoint (http -> ws, https -> wss). */
export function gatewayWebSocketUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = "/";
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** http(s)://host:port from the adapter's endpoint, for /readyz. */
export function gatewayHttpUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol === "ws:") url.protocol = "http:";
  else if (url.protocol === "wss:") url.protocol = "https:";
  return url.origin;
}

/**
 * One persistent connection to the gateway: handshake, requests matched to responses by id
 * (each with a timeout), events to `onEvent`, reconnect with backoff. `tick` events and
 * `ping()` (the `health` method) measure liveness and latency.
 */
export class GatewayClient {
  private socket: WebSocket | undefined;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private firstConnect: { resolve: (hello: HelloOk) => void; reject: (error: Error) => void } | undefined;
  /** The last hello-ok; undefined while not connected. */
  hello: HelloOk | undefined;
  /** When the last `tick` (or any event) arrived, ms since the epoch. */
  lastEventAt: number | undefined;
  /** Round trip of the last `health` request, ms. */
  lastLatencyMs: number | undefined;
  /** Milliseconds from opening the socket to hello-ok, for the last connection. */
  connectMs: number | undefined;

  constructor(private readonly options: GatewayClientOptions) {}

  get connected(): boolean {
    return this.hello !== undefined;
  }

  /**
   * Opens the connection and resolves at hello-ok; rejects when the first attempt fails (with
   * `reconnect`, later attempts continue in the background).
   */
  connect(): Promise<HelloOk> {
    if (this.hello) return Promise.resolve(this.hello);
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      this.open();
    });
  }

  /** Sends one request; resolves with the payload, rejects with a GatewayRequestError. */
  request<T = unknown>(method: string, params: unknown = {}, timeoutMs = this.options.timeoutMs ?? 5000): Promise<T> {
    const socket = this.socket;
    if (!socket || !this.hello) return Promise.reject(new GatewayRequestError(method, "NOT_CONNECTED", "not connected to the gateway"));
    return this.send<T>(socket, method, params, timeoutMs);
  }

  /** One `health` round trip; records and returns its latency and the payload. */
  async ping(): Promise<{ latencyMs: number; health: unknown }> {
    const started = performance.now();
    const health = await this.request("health", {});
    this.lastLatencyMs = Math.round((performance.now() - started) * 10) / 10;
    return { latencyMs: this.lastLatencyMs, health };
  }

  /** Closes for good: pending requests fail, no reconnect. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.dropConnection("client closed");
    try {
      socket?.close(1000, "closing");
    } catch {
      // already closed
    }
  }

  private open(): void {
    if (this.closed) return;
    this.options.onState?.("connecting");
    const started = performance.now();
    let socket: WebSocket;
    try {
      socket = new WebSocket(gatewayWebSocketUrl(this.options.endpoint));
    } catch (error) {
      this.failed(`cannot open the WebSocket: ${(error as Error).message}`);
      return;
    }
    this.socket = socket;
    let handshakeDone = false;
    // Gives up on this socket once: its close event then finds it no longer current.
    const abandon = (reason: string, code: number) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.failed(reason);
      try {
        socket.close(code, "aegisclaw: giving up");
      } catch {
        // already closed
      }
    };
    const handshakeTimer = setTimeout(() => {
      if (!handshakeDone) abandon("the gateway did not complete the handshake in time", 4000);
    }, this.options.timeoutMs ?? 5000);
    socket.addEventListener("message", (message) => {
      const frame = parseFrame(message.data);
      if (!frame) return;
      if (frame.type === "res") return this.settle(frame);
      if (frame.type !== "event" || typeof frame.event !== "string") return;
      this.lastEventAt = Date.now();
      if (frame.event === "connect.challenge" && !handshakeDone) {
        this.send<HelloOk>(socket, "connect", this.connectParams(), this.options.timeoutMs ?? 5000).then(
          (hello) => {
            handshakeDone = true;
            clearTimeout(handshakeTimer);
            if (this.socket !== socket) return;
            this.hello = hello;
            this.attempt = 0;
            this.connectMs = Math.round(performance.now() - started);
            this.options.onState?.("connected");
            this.firstConnect?.resolve(hello);
            this.firstConnect = undefined;
          },
          (error: Error) => {
            handshakeDone = true;
            clearTimeout(handshakeTimer);
            abandon(`the gateway refused the connection: ${error.message}`, 4001);
          },
        );
        return;
      }
      if (!this.hello) return;
      try {
        this.options.onEvent?.(frame.event, frame.payload);
      } catch {
        // A failing listener must not break the connection.
      }
    });
    socket.addEventListener("error", () => {
      // The close event follows with the details that exist; nothing to add here.
    });
    socket.addEventListener("close", (event) => {
      clearTimeout(handshakeTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      const reason = `connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`;
      this.failed(reason);
    });
  }

  private connectParams() {
    return {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: "gateway-client", version: pkg.version, platform: process.platform, mode: "backend", displayName: "AegisClaw" },
      role: "operator",
      scopes: this.options.scopes ?? BRIDGE_SCOPES,
      caps: this.options.caps ?? BRIDGE_CAPS,
      auth: { token: this.options.token },
    };
  }

  private send<T>(socket: WebSocket, method: string, params: unknown, timeoutMs: number): Promise<T> {
    const id = crypto.randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayRequestError(method, "TIMEOUT", `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (payload: unknown) => void, reject, timer });
      try {
        socket.send(JSON.stringify({ type: "req", id, method, params }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new GatewayRequestError(method, "SEND_FAILED", (error as Error).message));
      }
    });
  }

  private settle(frame: Frame): void {
    const entry = typeof frame.id === "string" ? this.pending.get(frame.id) : undefined;
    if (!entry || typeof frame.id !== "string") return;
    this.pending.delete(frame.id);
    clearTimeout(entry.timer);
    if (frame.ok === true) return entry.resolve(frame.payload);
    const error = (frame.error ?? {}) as { code?: unknown; message?: unknown };
    entry.reject(new GatewayRequestError(entry.method, String(error.code ?? "ERROR"), String(error.message ?? "request failed").slice(0, 500)));
  }

  /** A connection attempt failed or a connection ended: fail what waits, maybe retry. */
  private failed(reason: string): void {
    this.dropConnection(reason);
    if (this.firstConnect) {
      this.firstConnect.reject(new AegisError("unavailable", `OpenClaw gateway ${gatewayWebSocketUrl(this.options.endpoint)}: ${reason}`));
      this.firstConnect = undefined;
    }
    if (this.closed || this.options.reconnect === false) return;
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    // Full jitter keeps many adapters from reconnecting in lockstep after a gateway restart.
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt = Math.min(this.attempt + 1, 16);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private dropConnection(reason: string): void {
    const wasConnected = this.hello !== undefined;
    this.hello = undefined;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(new GatewayRequestError(entry.method, "DISCONNECTED", reason));
    }
    if (wasConnected || !this.closed) this.options.onState?.("closed", reason);
  }
}

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  payload?: unknown;
  error?: unknown;
  event?: unknown;
}

function parseFrame(data: unknown): Frame | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Frame) : undefined;
  } catch {
    return undefined;
  }
}
