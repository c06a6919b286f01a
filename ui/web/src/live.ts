import type { LiveEvent } from "./types.ts";

export type LiveState = "connecting" | "live" | "reconnecting" | "stopped";

/** The event types the page refreshes on. Output is read per run over SSE (it replays from the start). */
const TYPES = ["decision", "run.started", "run.finished", "lockdown.changed", "approval.requested", "approval.resolved", "audit.appended"];

/** Close code the server uses when the socket's token was revoked. */
const CLOSE_REVOKED = 4401;
const MAX_DELAY_MS = 30_000;

export interface LiveHandlers {
  event(event: LiveEvent): void;
  /** Connected (again): anything missed while disconnected must be fetched. */
  opened(): void;
  state(state: LiveState, detail: string): void;
  /** The server closed the socket because the token behind the session was revoked. */
  revoked(): void;
}

/**
 * The event WebSocket (`/api/v1/events`), authenticated by the session cookie the browser
 * sends with the upgrade (same origin). Reconnects with exponential backoff and jitter
 * (1 s, 2 s, 4 s … up to 30 s), reset by every successful connection.
 */
export class LiveFeed {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly handlers: LiveHandlers) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, "logged out");
    this.socket = undefined;
    this.handlers.state("stopped", "");
  }

  private connect(): void {
    const url = new URL("/api/v1/events", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("types", TYPES.join(","));
    this.handlers.state(this.failures === 0 ? "connecting" : "reconnecting", "");
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.handlers.state("live", "");
      this.handlers.opened();
    });
    socket.addEventListener("message", (message: MessageEvent) => {
      const event = parse(message.data);
      if (event) this.handlers.event(event);
    });
    socket.addEventListener("close", (close: CloseEvent) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      if (close.code === CLOSE_REVOKED) {
        this.handlers.revoked();
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.failures) * (0.75 + Math.random() / 4);
      this.failures++;
      this.handlers.state("reconnecting", `retry in ${Math.round(delay / 1000)} s`);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }
}

/** An event envelope, or undefined for hello/heartbeat and anything malformed. */
function parse(data: unknown): LiveEvent | undefined {
  if (typeof data !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { id, type, time } = value as { id?: unknown; type?: unknown; time?: unknown };
  if (typeof id !== "number" || typeof type !== "string" || typeof time !== "string") return undefined;
  return value as LiveEvent;
}
