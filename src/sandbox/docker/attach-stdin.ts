/**
 * An attach WITH stdin: `POST /containers/{id}/attach?stdin=1` makes the engine hijack the
 * HTTP connection (101 Upgrade) and then carry stdin one way and the multiplexed output the
 * other, on the same socket. fetch cannot write to a response's connection, so this is a
 * minimal HTTP/1.1 client over the unix socket (Bun.connect). Bytes must not be sent before the
 * 101 head arrives: the engine hijacks the connection without its read buffer, so anything
 * sent early may be lost.
 */
import { EngineError } from "./engine-client.ts";

/** The same API version engine-client.ts speaks (notes/stack.md §2: nothing newer than 1.41). */
const API_VERSION = "v1.41";
/** A response head longer than this is not the engine's. */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = "\r\n\r\n";

/** An open attach: stdin to write, output flowing to the callback given to attachWithStdin. */
export interface StdinAttach {
  /** Writes all of `bytes` to the container's stdin; rejects when the connection is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Ends stdin (half-close); output keeps flowing. With StdinOnce and no tty the engine then
   * closes the container's stdin, and no later attach can write to it.
   */
  closeStdin(): void;
  /** Resolves when the engine closed the stream (the container's output ended) or close() was called. */
  readonly ended: Promise<void>;
  /** Closes the connection; idempotent. */
  close(): void;
}

type Socket = Awaited<ReturnType<typeof Bun.connect>>;

/**
 * Attaches to `container` with stdin, stdout and stderr. Resolves once the engine answered 101
 * (or 200, older engines) and every output byte after the head goes to `onOutput`; rejects with
 * EngineError for an engine refusal (404 no such container, 409 not running, ...).
 */
export async function attachWithStdin(socketPath: string, container: string, onOutput: (chunk: Uint8Array) => void): Promise<StdinAttach> {
  let head: Uint8Array = new Uint8Array(0);
  let headDone = false;
  let refusal: { status: number; body: Uint8Array; length: number | undefined } | undefined;
  let pending: { bytes: Uint8Array; resolve: () => void; reject: (error: Error) => void } | undefined;
  let closed = false;
  const opened = Promise.withResolvers<void>();
  const ended = Promise.withResolvers<void>();

  const finish = (error?: Error) => {
    if (closed) return;
    closed = true;
    if (!headDone) opened.reject(error ?? refusalError(refusal) ?? new Error("the Docker engine closed the attach connection before answering"));
    pending?.reject(error ?? new Error("the attach connection closed before stdin was written"));
    pending = undefined;
    ended.resolve();
  };
  const flush = (socket: Socket) => {
    if (!pending) return;
    const written = socket.write(pending.bytes);
    if (written < 0) return finish(new Error("writing to the attach connection failed"));
    if (written < pending.bytes.length) {
      pending.bytes = pending.bytes.subarray(written);
      return; // the rest on `drain`
    }
    const done = pending.resolve;
    pending = undefined;
    done();
  };
  const onData = (socket: Socket, chunk: Uint8Array) => {
    if (headDone) return onOutput(chunk);
    if (refusal) return collectRefusal(socket, chunk);
    head = concat(head, chunk);
    const end = indexOf(head, HEAD_END);
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) socket.end();
      return;
    }
    const parsed = parseHead(new TextDecoder().decode(head.subarray(0, end)));
    const rest = head.slice(end + HEAD_END.length);
    head = new Uint8Array(0);
    if (parsed.status === 101 || parsed.status === 200) {
      headDone = true;
      opened.resolve();
      if (rest.length > 0) onOutput(rest);
      return;
    }
    refusal = { status: parsed.status, body: new Uint8Array(0), length: parsed.contentLength };
    collectRefusal(socket, rest);
  };
  const collectRefusal = (socket: Socket, chunk: Uint8Array) => {
    if (!refusal) return;
    refusal.body = concat(refusal.body, chunk);
    if (refusal.length !== undefined && refusal.body.length >= refusal.length) socket.end();
  };

  const socket = await Bun.connect({
    unix: socketPath,
    socket: {
      data: onData,
      drain: flush,
      end: () => finish(),
      close: () => finish(),
      error: (_socket, error) => finish(error),
      connectError: (_socket, error) => finish(error),
    },
  });
  const path = `/${API_VERSION}/containers/${encodeURIComponent(container)}/attach?stream=1&stdin=1&stdout=1&stderr=1`;
  socket.write(`POST ${path} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  try {
    await opened.promise;
  } catch (error) {
    socket.end();
    throw error;
  }
  return {
    write(bytes) {
      if (closed) return Promise.reject(new Error("the attach connection is closed"));
      if (pending) return Promise.reject(new Error("a write to the attach connection is already in progress"));
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      pending = { bytes, resolve, reject };
      flush(socket);
      return promise;
    },
    ended: ended.promise,
    closeStdin() {
      if (!closed) socket.shutdown();
    },
    close() {
      socket.end();
      finish();
    },
  };
}

/** The status and Content-Length of a response head (status line and headers, without the blank line). */
function parseHead(text: string): { status: number; contentLength: number | undefined } {
  const [statusLine = "", ...headers] = text.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const status = match ? Number(match[1]) : 0;
  const lengthHeader = headers.find((line) => /^content-length:/i.test(line));
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader.slice(lengthHeader.indexOf(":") + 1).trim());
  return { status, contentLength: length !== undefined && Number.isSafeInteger(length) ? length : undefined };
}

/** The engine's refusal as the EngineError fetch-based calls throw, with its own message. */
function refusalError(refusal: { status: number; body: Uint8Array } | undefined): EngineError | undefined {
  if (!refusal) return undefined;
  const text = new TextDecoder().decode(refusal.body).trim();
  let message = text || `HTTP ${refusal.status}`;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  return new EngineError(refusal.status, message);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function indexOf(haystack: Uint8Array, needle: string): number {
  const bytes = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + bytes.length <= haystack.length; i++) {
    for (let j = 0; j < bytes.length; j++) if (haystack[i + j] !== bytes[j]) continue outer;
    return i;
  }
  return -1;
}
