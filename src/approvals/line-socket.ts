import type { Socket } from "bun";

/** Longest accepted message; a peer sending more is dropped (no unbounded buffering). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Output queued for a peer that does not read; past it the peer is dropped, never waited for. */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/**
 * Newline-delimited JSON over a Bun socket, bounded both ways: incoming lines over
 * MAX_LINE_BYTES and peers that let MAX_PENDING_BYTES of output pile up are disconnected, so
 * a slow or hostile peer can cost memory only up to those bounds and can never block the sender.
 */
export class LineSocket {
  private inbound = "";
  private readonly decoder = new TextDecoder();
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private closed = false;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly onMessage: (message: unknown) => void,
  ) {}

  /** Feeds received bytes; each complete line is parsed and delivered. Malformed input closes the socket. */
  receive(chunk: Uint8Array): void {
    this.inbound += this.decoder.decode(chunk, { stream: true });
    let newline = this.inbound.indexOf("\n");
    while (newline !== -1 && !this.closed) {
      const line = this.inbound.slice(0, newline);
      this.inbound = this.inbound.slice(newline + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        this.close();
        return;
      }
      this.onMessage(message);
      newline = this.inbound.indexOf("\n");
    }
    if (this.inbound.length > MAX_LINE_BYTES) this.close();
  }

  /** Queues one message; false when the peer is gone or was dropped for not reading. */
  send(message: unknown): boolean {
    if (this.closed) return false;
    const bytes = this.encoder.encode(`${JSON.stringify(message)}\n`);
    if (this.outbox.length > 0) return this.enqueue(bytes);
    const written = this.socket.write(bytes);
    if (written < 0) {
      this.close();
      return false;
    }
    return written === bytes.length || this.enqueue(bytes.subarray(written));
  }

  /** The socket can take more: writes what was queued. */
  drain(): void {
    while (this.outbox.length > 0 && !this.closed) {
      const head = this.outbox[0] as Uint8Array;
      const written = this.socket.write(head);
      if (written < 0) return this.close();
      this.outboxBytes -= written;
      if (written < head.length) {
        this.outbox[0] = head.subarray(written);
        return;
      }
      this.outbox.shift();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox = [];
    this.socket.end();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private enqueue(bytes: Uint8Array): boolean {
    if (this.outboxBytes + bytes.length > MAX_PENDING_BYTES) {
      this.close();
      return false;
    }
    this.outbox.push(bytes);
    this.outboxBytes += bytes.length;
    return true;
  }
}
