import { type FSWatcher, watch } from "node:fs";
import type { EventEnvelope } from "../core/events.ts";
import { AegisError } from "../shared/index.ts";
import type { ControlClient } from "./control-client.ts";
import { controlDir, ensureControlDir } from "./control-key.ts";
import { connectControl, controlSockets } from "./discovery.ts";
import type { ApprovalChannel, ApprovalChoice, ApprovalRequest, ApprovalResolution } from "./types.ts";

const RESCAN_MS = 1000;

interface Connection {
  client: ControlClient;
  pending: Map<string, ApprovalRequest>;
}

/**
 * Follows every AegisClaw process of a home through its control socket: their runs, output,
 * approvals and lockdown events arrive at one listener, and their pending approvals are kept
 * in one list. New processes are noticed through inotify on `run/ctl/` (with a slow rescan as a
 * fallback), so a request queued in another shell reaches the console within milliseconds.
 */
export class HomeMonitor {
  private readonly connections = new Map<number, Connection>();
  private readonly connecting = new Set<number>();
  private watcher: FSWatcher | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private scanQueued = false;

  constructor(
    private readonly runDir: string,
    private readonly clientName: string,
    private readonly listener: (event: EventEnvelope) => void,
  ) {}

  /** Starts watching and connects to every process already running. */
  async start(): Promise<void> {
    ensureControlDir(this.runDir);
    this.watcher = watch(controlDir(this.runDir), () => this.queueScan());
    this.timer = setInterval(() => this.queueScan(), RESCAN_MS);
    await this.scan();
  }

  /** Every pending request across processes, oldest first. */
  pending(): ApprovalRequest[] {
    return [...this.connections.values()].flatMap((c) => [...c.pending.values()]).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Pids of the processes currently followed. */
  processes(): number[] {
    return [...this.connections.keys()];
  }

  /** Answers a pending request in whichever process holds it. */
  resolve(id: string, requestHash: string, choice: ApprovalChoice, by: string, via: Exclude<ApprovalChannel, "timeout" | "system">): Promise<ApprovalResolution> {
    for (const connection of this.connections.values()) {
      if (connection.pending.has(id)) return connection.client.resolve(id, requestHash, choice, by, via);
    }
    return Promise.reject(new AegisError("bad-input", `no pending approval ${id}`, { hint: "it was already resolved or expired" }));
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.timer);
    for (const connection of this.connections.values()) connection.client.close();
    this.connections.clear();
  }

  private queueScan(): void {
    if (this.scanQueued || this.closed) return;
    this.scanQueued = true;
    queueMicrotask(() => {
      this.scanQueued = false;
      void this.scan();
    });
  }

  private async scan(): Promise<void> {
    const sockets = controlSockets(this.runDir).filter((s) => s.pid !== process.pid && !this.connections.has(s.pid) && !this.connecting.has(s.pid));
    await Promise.all(sockets.map((socket) => this.follow(socket)));
  }

  private async follow(socket: { pid: number; path: string }): Promise<void> {
    this.connecting.add(socket.pid);
    try {
      const client = await connectControl(this.runDir, socket, this.clientName, true).catch(() => undefined);
      if (!client) return;
      if (this.closed) return client.close();
      const connection: Connection = { client, pending: new Map(client.pending.map((r) => [r.id, r])) };
      this.connections.set(socket.pid, connection);
      client.onClose(() => this.forget(socket.pid, connection));
      // The snapshot first (runs already going, requests already waiting), then the live stream.
      for (const run of client.runs) this.listener(run);
      for (const request of connection.pending.values()) this.emit("approval.requested", request);
      client.subscribe((event) => this.observe(connection, event));
    } finally {
      this.connecting.delete(socket.pid);
    }
  }

  private observe(connection: Connection, event: EventEnvelope): void {
    if (event.type === "approval.requested") connection.pending.set((event as EventEnvelope<"approval.requested">).data.id, (event as EventEnvelope<"approval.requested">).data);
    if (event.type === "approval.resolved") connection.pending.delete((event as EventEnvelope<"approval.resolved">).data.id);
    this.listener(event);
  }

  /** A process went away: its pending requests can never run, so they are reported as withdrawn. */
  private forget(pid: number, connection: Connection): void {
    if (this.connections.get(pid) !== connection) return;
    this.connections.delete(pid);
    for (const request of connection.pending.values()) {
      this.emit("approval.resolved", { id: request.id, requestHash: request.requestHash, outcome: "denied", by: `process ${pid} exited`, via: "system", scope: "once", at: new Date().toISOString() });
    }
  }

  private emit<T extends "approval.requested" | "approval.resolved">(type: T, data: EventEnvelope<T>["data"]): void {
    if (this.closed) return;
    this.listener({ id: 0, type, time: new Date().toISOString(), data } as EventEnvelope);
  }
}
