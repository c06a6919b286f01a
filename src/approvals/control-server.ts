import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { EventBus, EventEnvelope } from "../core/events.ts";
import { isAegisError } from "../shared/index.ts";
import { controlKey, ensureControlDir, keyMatches } from "./control-key.ts";
import { LineSocket } from "./line-socket.ts";
import { ClientMessage, type ServerMessage } from "./protocol.ts";
import type { ApprovalQueue } from "./queue.ts";

interface Peer {
  line: LineSocket;
  greeted: boolean;
  subscribed: boolean;
}

/** A listening control socket; close() stops it and removes the socket file. */
export interface ControlServer {
  path: string;
  close(): void;
}

/**
 * Serves this process's approval queue and event stream on `run/ctl/<pid>.sock`, so a console,
 * `aegisclaw approvals` or the API in another process can see this process's runs and answer
 * its approvals. Only clients that present the control key get past `hello`.
 */
export function startControlServer(runDir: string, bus: EventBus, queue: ApprovalQueue): ControlServer {
  const key = controlKey(runDir);
  const path = join(ensureControlDir(runDir), `${process.pid}.sock`);
  // A socket of the same pid can only be a leftover of a dead process that had our pid.
  rmSync(path, { force: true });
  const peers = new Set<Peer>();
  const previousUmask = process.umask(0o077);
  let listener: UnixSocketListener<Peer> | TCPSocketListener<Peer>;
  try {
    listener = Bun.listen<Peer>({
      unix: path,
      socket: {
        open(socket) {
          const peer: Peer = { line: new LineSocket(socket as Socket<unknown>, (message) => handle(peer, message)), greeted: false, subscribed: false };
          socket.data = peer;
          peers.add(peer);
        },
        data(socket, chunk) {
          socket.data.line.receive(chunk);
        },
        drain(socket) {
          socket.data.line.drain();
        },
        close(socket) {
          peers.delete(socket.data);
        },
        error(socket) {
          socket.data?.line.close();
        },
      },
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(path, 0o600);

  const handle = (peer: Peer, raw: unknown) => {
    const parsed = ClientMessage.safeParse(raw);
    if (!parsed.success) return peer.line.close();
    const message = parsed.data;
    if (!peer.greeted) {
      if (message.op !== "hello" || !keyMatches(message.key, key)) return peer.line.close();
      peer.greeted = true;
      peer.subscribed = message.subscribe === true;
      return void peer.line.send({ op: "welcome", pid: process.pid, pending: queue.list(), runs: [...activeRuns.values()] } satisfies ServerMessage);
    }
    if (message.op === "subscribe") {
      peer.subscribed = true;
      return;
    }
    if (message.op === "resolve") {
      try {
        const resolution = queue.resolve(message.id, message.requestHash, message.choice, message.by, message.via);
        peer.line.send({ op: "result", ref: message.ref, ok: true, resolution } satisfies ServerMessage);
      } catch (error) {
        const failure = isAegisError(error) ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } : { code: "internal", message: "resolve failed" };
        peer.line.send({ op: "result", ref: message.ref, ok: false, ...failure } satisfies ServerMessage);
      }
      return;
    }
    peer.line.close();
  };

  // Runs still going, so a console that connects mid-run still learns what is running.
  const activeRuns = new Map<string, EventEnvelope>();
  const unsubscribe = bus.subscribe((event: EventEnvelope) => {
    if (event.type === "run.started") activeRuns.set((event as EventEnvelope<"run.started">).data.runId, event);
    if (event.type === "run.finished") activeRuns.delete((event as EventEnvelope<"run.finished">).data.runId);
    for (const peer of peers) if (peer.subscribed) peer.line.send({ op: "event", event } satisfies ServerMessage);
  });

  return {
    path,
    close() {
      unsubscribe();
      for (const peer of peers) peer.line.close();
      listener.stop(true);
      rmSync(path, { force: true });
    },
  };
}
