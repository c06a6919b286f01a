/**
 * A client of the OpenClaw gateway WebSocket (protocol 4) that starts turns the way a chat UI
 * does (`chat.send`, turn source "webchat") and waits for their final `chat` event. It connects
 * as the documented trusted local backend (`gateway-client`, mode `backend`, shared token on
 * loopback: no device pairing). With `approvals: true` it advertises the `approvals` cap, so
 * OpenClaw routes exec/plugin approval requests to it.
 */

export interface GatewayFrame {
  type: "event" | "res" | "req";
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: Record<string, unknown>;
  error?: unknown;
}

/** The end of one turn. */
export interface TurnResult {
  runId: string;
  /** The final assistant text. */
  text: string;
  /** The `chat` final event payload. */
  final: Record<string, unknown>;
  /** Every event frame seen for this turn's session while it ran. */
  events: GatewayFrame[];
}

export interface GatewayClient {
  request(method: string, params: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `message` to `sessionKey` and waits for the final answer. */
  turn(sessionKey: string, message: string, timeoutMs?: number): Promise<TurnResult>;
  /** Every event frame received so far. */
  events: GatewayFrame[];
  close(): void;
}

/** The text of a chat message object, whatever its shape. */
function messageText(message: unknown): string {
  if (typeof message === "string") return message;
  if (!message || typeof message !== "object") return "";
  const content = (message as { content?: unknown; text?: unknown }).content ?? (message as { text?: unknown }).text;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : "")).join("");
  return "";
}

/** Connects and completes the handshake. */
export async function connectGateway(url: string, token: string, options: { approvals?: boolean } = {}): Promise<GatewayClient> {
  const socket = new WebSocket(url.replace(/^http/, "ws"));
  const events: GatewayFrame[] = [];
  const pending = new Map<string, { resolve: (frame: GatewayFrame) => void }>();
  const listeners = new Set<(frame: GatewayFrame) => void>();
  let challenge: (() => void) | undefined;
  const challenged = new Promise<void>((resolve) => (challenge = resolve));
  const closed = new Promise<never>((_, reject) => {
    socket.addEventListener("close", (event) => reject(new Error(`gateway socket closed: ${event.code} ${event.reason}`)));
    socket.addEventListener("error", () => reject(new Error("gateway socket error")));
  });
  closed.catch(() => {});
  socket.addEventListener("message", (message) => {
    const frame = JSON.parse(String(message.data)) as GatewayFrame;
    if (frame.type === "event") {
      if (frame.event === "connect.challenge") challenge?.();
      events.push(frame);
      for (const listener of listeners) listener(frame);
    } else if (frame.type === "res" && frame.id) {
      pending.get(frame.id)?.resolve(frame);
      pending.delete(frame.id);
    }
  });

  const request = async (method: string, params: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const id = crypto.randomUUID();
    const answer = new Promise<GatewayFrame>((resolve) => pending.set(id, { resolve }));
    socket.send(JSON.stringify({ type: "req", id, method, params }));
    const frame = await Promise.race([answer, closed, Bun.sleep(timeoutMs).then(() => Promise.reject(new Error(`${method}: no answer in ${timeoutMs} ms`)))]);
    if (!frame.ok) throw new Error(`${method} failed: ${JSON.stringify(frame.error)}`);
    return frame.payload ?? {};
  };

  await Promise.race([challenged, closed, Bun.sleep(15_000).then(() => Promise.reject(new Error("no connect.challenge from the gateway")))]);
  await request("connect", {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "gateway-client", version: "0.0.1", platform: "linux", mode: "backend" },
    role: "operator",
    scopes: ["operator.read", "operator.write", "operator.approvals", "operator.admin"],
    caps: options.approvals ? ["tool-events", "approvals"] : ["tool-events"],
    auth: { token },
  });

  const turn = async (sessionKey: string, message: string, timeoutMs = 90_000): Promise<TurnResult> => {
    const seen: GatewayFrame[] = [];
    let runId = "";
    let finish: ((result: TurnResult) => void) | undefined;
    const done = new Promise<TurnResult>((resolve) => (finish = resolve));
    const listener = (frame: GatewayFrame) => {
      seen.push(frame);
      const payload = frame.payload ?? {};
      if (frame.event !== "chat" || payload.state !== "final") return;
      if (runId && payload.runId !== runId && payload.sessionKey !== sessionKey) return;
      finish?.({ runId, text: messageText(payload.message), final: payload, events: seen });
    };
    listeners.add(listener);
    try {
      const started = await request("chat.send", { sessionKey, message, idempotencyKey: crypto.randomUUID() });
      runId = String(started.runId ?? "");
      return await Promise.race([done, closed, Bun.sleep(timeoutMs).then(() => Promise.reject(new Error(`turn in ${sessionKey}: no final chat event in ${timeoutMs} ms; events: ${seen.map((f) => f.event).join(",")}`)))]);
    } finally {
      listeners.delete(listener);
    }
  };

  return { request, turn, events, close: () => socket.close() };
}
