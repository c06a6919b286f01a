/**
 * Reads the first bytes of a client connection (request head, TLS ClientHello) with a byte
 * ceiling and a deadline, then hands the socket back paused, with whatever it read beyond.
 * Nothing is ever buffered without a bound.
 */
import type { Socket } from "node:net";

/** Why a read ended without the wanted bytes. */
export type ReadFailure = "timeout" | "too-large" | "closed";

/** A read that failed; `failure` says how. */
export class ReadError extends Error {
  constructor(readonly failure: ReadFailure) {
    super(failure === "timeout" ? "the client sent too little in time" : failure === "too-large" ? "the client sent too much" : "the client closed the connection");
  }
}

/** Buffers one socket's incoming bytes on demand. */
export class SocketReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  /** True once the client has half-closed (sent FIN); pass it on after piping. */
  ended = false;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.pause();
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    socket.on("end", () => {
      this.ended = true;
      this.waiter?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  /**
   * Reads until `decide(bytes)` returns a value, at most `maxBytes` buffered and `timeoutMs`
   * long. The value and every byte read stay available (`take`). Throws ReadError.
   */
  async until<T>(decide: (bytes: Buffer) => T | undefined, maxBytes: number, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    this.socket.resume();
    try {
      for (;;) {
        const value = decide(this.buffered);
        if (value !== undefined) return value;
        if (this.buffered.length >= maxBytes) throw new ReadError("too-large");
        if (this.ended || this.closed) throw new ReadError("closed");
        const left = deadline - Date.now();
        if (left <= 0) throw new ReadError("timeout");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          this.waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.waiter = undefined;
      }
    } finally {
      this.socket.pause();
    }
  }

  /** Removes and returns the first `count` buffered bytes (all of them by default). */
  take(count = this.buffered.length): Buffer {
    const part = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return part;
  }

  /**
   * Stops buffering: later bytes go to whoever reads the socket next (a pipe). Returns what
   * was read but not yet taken, to be sent first.
   */
  release(): Buffer {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    return this.take();
  }
}
