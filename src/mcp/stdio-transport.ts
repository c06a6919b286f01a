import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** A line longer than this is refused (and skipped up to its newline) rather than buffered. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** What the transport reads from and writes to (process.stdin/stdout in the real server). */
export interface LineStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/**
 * MCP's stdio framing (one JSON-RPC message per line) with the JSON-RPC 2.0 error replies the
 * SDK's own StdioServerTransport does not send: a line that is not JSON gets a parse error
 * (-32700) and one that is JSON but not a JSON-RPC message an invalid-request error (-32600),
 * both with `id: null` unless a usable id could be read. Either way the line is dropped and the
 * server keeps reading; nothing but JSON-RPC is ever written to the output. End of input
 * closes the transport.
 */
export class LineStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** True while skipping the rest of an over-long line. */
  private discarding = false;
  private closed = false;

  constructor(
    private readonly streams: LineStreams,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.streams.input.on("data", this.onData);
    this.streams.input.on("end", this.onEnd);
    this.streams.input.on("error", this.onInputError);
    this.streams.output.on("error", this.onOutputError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    await this.write(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.streams.input.off("data", this.onData);
    this.streams.input.off("end", this.onEnd);
    this.streams.input.off("error", this.onInputError);
    this.streams.input.pause();
    this.pending = [];
    this.onclose?.();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    let data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
      const tail = data.subarray(0, newline);
      data = data.subarray(newline + 1);
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      const line = Buffer.concat([...this.pending, tail]);
      this.pending = [];
      this.pendingBytes = 0;
      this.handleLine(line.toString("utf8"));
    }
    if (data.length === 0 || this.discarding) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = true;
      this.reply(null, ErrorCode.InvalidRequest, `Invalid Request: message longer than ${this.maxLineBytes} bytes`);
    }
  };

  private readonly onEnd = (): void => {
    void this.close();
  };

  private readonly onInputError = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };

  /** The client went away (EPIPE): nothing more can be answered. */
  private readonly onOutputError = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };

  private handleLine(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // The engine's message quotes the input; neither the reply nor stderr repeats what was sent.
      this.reply(null, ErrorCode.ParseError, "Parse error: the line is not valid JSON");
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
      this.reply(idOf(value), ErrorCode.InvalidRequest, `Invalid Request: not a JSON-RPC 2.0 message${where}`);
      return;
    }
    this.onmessage?.(parsed.data);
  }

  private reply(id: string | number | null, code: number, message: string): void {
    this.onerror?.(new Error(message));
    void this.write({ jsonrpc: "2.0", id, error: { code, message } }).catch(() => undefined);
  }

  /** One message per line; resolves once the output accepted it (waits for drain under back-pressure). */
  private write(message: JSONRPCMessage | { jsonrpc: "2.0"; id: null | string | number; error: { code: number; message: string } }): Promise<void> {
    if (this.closed) return Promise.resolve();
    const line = `${JSON.stringify(message)}\n`;
    return new Promise((resolve) => {
      if (this.streams.output.write(line)) resolve();
      else this.streams.output.once("drain", () => resolve());
    });
  }
}

/** The request id of an invalid message, when it has a usable one (JSON-RPC: else null). */
function idOf(value: unknown): string | number | null {
  if (typeof value !== "object" || value === null || !("id" in value)) return null;
  const id = value.id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}
