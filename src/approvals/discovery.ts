import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AegisError, processAlive } from "../shared/index.ts";
import { ControlClient } from "./control-client.ts";
import { controlDir, controlKey } from "./control-key.ts";
import type { ApprovalChannel, ApprovalChoice, ApprovalRequest, ApprovalResolution } from "./types.ts";

/** The control sockets present under `run/ctl/`, by pid. */
export function controlSockets(runDir: string): Array<{ pid: number; path: string }> {
  let names: string[];
  try {
    names = readdirSync(controlDir(runDir));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = /^(\d+)\.sock$/.exec(name);
    return match ? [{ pid: Number(match[1]), path: join(controlDir(runDir), name) }] : [];
  });
}

/** Connects to one socket; a socket whose process is dead is a leftover and is removed. */
export async function connectControl(runDir: string, socket: { pid: number; path: string }, client: string, stream = false): Promise<ControlClient | undefined> {
  try {
    return await ControlClient.connect(socket.path, controlKey(runDir), client, stream);
  } catch (error) {
    if (!processAlive(socket.pid)) rmSync(socket.path, { force: true });
    else if (error instanceof AegisError && error.code === "integrity") throw error;
    return undefined;
  }
}

/** Every request pending in any AegisClaw process of this home, oldest first. */
export async function pendingApprovals(runDir: string, client: string): Promise<ApprovalRequest[]> {
  const clients = await connectAll(runDir, client);
  try {
    return clients.flatMap((c) => c.pending).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  } finally {
    for (const c of clients) c.close();
  }
}

/**
 * Answers pending request `id`, wherever it waits. `expectedHash` pins the exact request a
 * script reviewed; without it, the hash of the request as listed right now is used.
 */
export async function resolveApproval(
  runDir: string,
  id: string,
  choice: ApprovalChoice,
  by: string,
  via: Exclude<ApprovalChannel, "timeout" | "system">,
  expectedHash?: string,
): Promise<{ request: ApprovalRequest; resolution: ApprovalResolution }> {
  const clients = await connectAll(runDir, by);
  try {
    for (const c of clients) {
      const request = c.pending.find((p) => p.id === id);
      if (!request) continue;
      const resolution = await c.resolve(id, expectedHash ?? request.requestHash, choice, by, via);
      return { request, resolution };
    }
    throw new AegisError("bad-input", `no pending approval ${id}`, { hint: "list pending requests with `aegisclaw approvals list` (it may have expired)" });
  } finally {
    for (const c of clients) c.close();
  }
}

async function connectAll(runDir: string, client: string): Promise<ControlClient[]> {
  const sockets = controlSockets(runDir).filter((s) => s.pid !== process.pid);
  const clients = await Promise.all(sockets.map((s) => connectControl(runDir, s, client)));
  return clients.filter((c): c is ControlClient => c !== undefined);
}
