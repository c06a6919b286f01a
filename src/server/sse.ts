/** Sends one Server-Sent Event; returns false once the stream is closed (client gone or too slow). */
export type SseSend = (event: string, data: unknown) => boolean;

/** Stream limits. */
export interface SseOptions {
  /** A comment line this often keeps proxies from timing the stream out and notices dead clients. */
  heartbeatMs: number;
  /** Bytes queued for a client that does not read; past it the client is dropped, never waited for. */
  maxQueuedBytes: number;
}

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response. `start` wires the source and returns its cleanup, which
 * runs exactly once: when the client disconnects, when it falls `maxQueuedBytes` behind
 * (a slow reader is dropped so that the producer, ultimately the Gate, never waits), or
 * when the producer calls `close`.
 */
export function sseResponse(start: (send: SseSend, close: () => void) => () => void, options: SseOptions): Response {
  let cleanup: (() => void) | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    cleanup?.();
    try {
      controllerRef?.close();
    } catch {
      // already closed or errored by the client going away
    }
  };
  const write = (text: string): boolean => {
    if (closed || !controllerRef) return false;
    if ((controllerRef.desiredSize ?? 0) < 0) {
      finish();
      return false;
    }
    try {
      controllerRef.enqueue(encoder.encode(text));
      return true;
    } catch {
      finish();
      return false;
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        write(": aegisclaw event stream\n\n");
        heartbeat = setInterval(() => write(": heartbeat\n\n"), options.heartbeatMs);
        cleanup = start((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`), finish);
        if (closed) cleanup();
      },
      cancel() {
        finish();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.maxQueuedBytes }),
  );
  return new Response(body, { headers: { "Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no" } });
}
