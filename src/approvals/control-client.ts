import type { Socket } from "bun";
import type { EventEnvelope } from "../core/events.ts";
import { AegisError, exitCodeFor, type ErrorCode } from "../shared/index.ts";
import { LineSocket } from "./line-socket.ts";
import type { ApprovalChannel, ApprovalChoice, ApprovalRequest, ApprovalResolution } from "./types.ts";

const HELLO_TIMEOUT_MS = 2000;
const RESOLVE_TIMEOUT_MS = 5000;
/** Events kept between connect and subscribe(); a caller that never subscribes cannot grow it further. */
const MAX_EARLY_EVENTS = 10_000;

interface Welcome {
  pid: number;
  pending: ApprovalRequest[];
  runs: EventEnvelope[];
}

type Waiter = { resolve: (resolution: ApprovalResolution) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> };

/** One connection to another AegisClaw process's control socket (src/approvals/control-server.ts). */
export class ControlClient {
  private line!: LineSocket;
  private nextRef = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly closeListeners = new Set<() => void>();
  private eventListener: ((event: EventEnvelope) => void) | undefined;
  /** Events that arrived before subscribe() named a listener. */
  private early: EventEnvelope[] = [];
  private welcomed: ((welcome: Welcome) => void) | undefined;
  /** The serving process, what it had pending when we connected, and its runs still going (their run.started events). */
  pid = 0;
  private streaming = false;
  pending: ApprovalRequest[] = [];
  runs: EventEnvelope[] = [];

  private constructor() {}

  /**
   * Connects and authenticates; rejects when nobody listens or the key is refused. With
   * `stream`, events flow from the moment of the snapshot (delivered once subscribe() is called).
   */
  static async connect(path: string, key: string, client: string, stream = false): Promise<ControlClient> {
    const self = new ControlClient();
    self.streaming = stream;
    const welcome = new Promise<Welcome>((resolve) => (self.welcomed = resolve));
    const socket = await Bun.connect<undefined>({
      unix: path,
      socket: {
        data: (_socket, chunk) => self.line.receive(chunk),
        drain: () => self.line.drain(),
        close: () => self.closed(),
        error: () => self.line.close(),
      },
    });
    self.line = new LineSocket(socket as Socket<unknown>, (message) => self.handle(message));
    self.line.send({ op: "hello", key, client, ...(stream ? { subscribe: true } : {}) });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AegisError("unavailable", `control socket ${path} did not answer (wrong key or not an AegisClaw process)`)), HELLO_TIMEOUT_MS);
      self.onClose(() => reject(new AegisError("unavailable", `control socket ${path} closed the connection (wrong key?)`)));
    });
    try {
      const { pid, pending, runs } = await Promise.race([welcome, timeout]);
      self.pid = pid;
      self.pending = pending;
      self.runs = runs;
    } catch (error) {
      self.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return self;
  }

  /** Streams the serving process's events (runs, approvals, lockdown, audit) to `listener`. */
  subscribe(listener: (event: EventEnvelope) => void): void {
    this.eventListener = listener;
    for (const event of this.early.splice(0)) listener(event);
    if (!this.streaming) this.line.send({ op: "subscribe" });
    this.streaming = true;
  }

  /** Answers one of the serving process's pending requests; rejects with the queue's own error. */
  resolve(id: string, requestHash: string, choice: ApprovalChoice, by: string, via: Exclude<ApprovalChannel, "timeout" | "system">): Promise<ApprovalResolution> {
    const ref = this.nextRef++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(ref);
        reject(new AegisError("unavailable", `process ${this.pid} did not answer the approval in time`));
      }, RESOLVE_TIMEOUT_MS);
      this.waiters.set(ref, { resolve, reject, timer });
      if (!this.line.send({ op: "resolve", ref, id, requestHash, choice, by, via })) {
        this.settle(ref, undefined, new AegisError("unavailable", `process ${this.pid} is gone`));
      }
    });
  }

  onClose(listener: () => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.line?.close();
  }

  get isClosed(): boolean {
    return this.line.isClosed;
  }

  private handle(message: unknown): void {
    if (typeof message !== "object" || message === null) return;
    const m = message as Record<string, unknown>;
    if (m.op === "welcome" && typeof m.pid === "number" && Array.isArray(m.pending)) {
      this.welcomed?.({ pid: m.pid, pending: m.pending as ApprovalRequest[], runs: Array.isArray(m.runs) ? (m.runs as EventEnvelope[]) : [] });
    } else if (m.op === "event" && typeof m.event === "object" && m.event !== null) {
      if (this.eventListener) this.eventListener(m.event as EventEnvelope);
      else if (this.early.length < MAX_EARLY_EVENTS) this.early.push(m.event as EventEnvelope);
    }
    else if (m.op === "result" && typeof m.ref === "number") {
      if (m.ok === true) this.settle(m.ref, m.resolution as ApprovalResolution);
      else this.settle(m.ref, undefined, new AegisError(errorCode(m.code), String(m.message ?? "refused"), { hint: typeof m.hint === "string" ? m.hint : undefined }));
    }
  }

  private settle(ref: number, resolution: ApprovalResolution | undefined, error?: Error): void {
    const waiter = this.waiters.get(ref);
    if (!waiter) return;
    this.waiters.delete(ref);
    clearTimeout(waiter.timer);
    if (error || !resolution) waiter.reject(error ?? new AegisError("internal", "empty resolution"));
    else waiter.resolve(resolution);
  }

  private closed(): void {
    for (const ref of [...this.waiters.keys()]) this.settle(ref, undefined, new AegisError("unavailable", `process ${this.pid} closed the connection`));
    for (const listener of this.closeListeners) listener();
    this.closeListeners.clear();
  }
}

/** A failure code from the peer, if it is one we know; anything else is internal. */
function errorCode(code: unknown): ErrorCode {
  return typeof code === "string" && Object.hasOwn(exitCodeFor, code) ? (code as ErrorCode) : "internal";
}
