import { connect as tcpConnect, type Socket } from "node:net";

/** A WebSocket opened by the test, with everything it received. */
export interface TestSocket {
  ws: WebSocket;
  messages: Array<{ type: string; data?: unknown }>;
  opened: Promise<boolean>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket with the given headers (Bun's client may set Authorization and Origin). */
export function openSocket(url: string, headers: Record<string, string>): TestSocket {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  const messages: TestSocket["messages"] = [];
  ws.addEventListener("message", (event) => messages.push(JSON.parse(String(event.data)) as TestSocket["messages"][number]));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true), { once: true });
    ws.addEventListener("close", () => resolve(false), { once: true });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }), { once: true }));
  return { ws, messages, opened, closed };
}

/** Sends a WebSocket handshake by hand and returns the HTTP status line's code (101 = upgraded). */
export async function handshakeStatus(url: string, path: string, headers: Record<string, string>): Promise<number> {
  const { socket, status } = await rawHandshake(url, path, headers);
  socket.destroy();
  return status;
}

/**
 * A raw upgraded socket that never reads what the server sends (a slow client): the kernel
 * buffers fill, and the server has to decide what to do with it.
 */
export async function rawHandshake(url: string, path: string, headers: Record<string, string>): Promise<{ socket: Socket; status: number }> {
  const { hostname, port } = new URL(url);
  const socket = tcpConnect(Number(port), hostname);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""];
  socket.write(lines.join("\r\n"));
  const status = await new Promise<number>((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (match) {
        socket.off("data", onData);
        socket.pause();
        resolve(Number(match[1]));
      }
    };
    socket.on("data", onData);
    socket.on("error", reject);
  });
  return { socket, status };
}
