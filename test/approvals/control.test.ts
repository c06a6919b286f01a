import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApprovalQueue,
  ControlClient,
  controlKey,
  HomeMonitor,
  pendingApprovals,
  resolveApproval,
  startControlServer,
  type ControlServer,
} from "../../src/approvals/index.ts";
import { EventBus, type EventEnvelope } from "../../src/core/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { approvalRequest } from "./fixtures.ts";

const HOLDER = join(import.meta.dir, "holder.ts");
const servers: ControlServer[] = [];
const children: Array<ReturnType<typeof Bun.spawn>> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  for (const child of children.splice(0)) child.kill();
});

function runDir(): string {
  const dir = join(tempDir(), "run");
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function serve(dir: string) {
  const bus = new EventBus();
  const queue = new ApprovalQueue(bus);
  const server = startControlServer(dir, bus, queue);
  servers.push(server);
  return { bus, queue, server };
}

/** Connects raw, sends `lines` in full, and reports what came back and whether the server hung up (within 2 s). */
async function rawExchange(path: string, lines: string[]): Promise<{ received: string; closed: boolean }> {
  let received = "";
  let closedByServer = false;
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({ unix: path, socket: { data: (_s, chunk) => void (received += chunk.toString()), close: () => ((closedByServer = true), done.resolve()) } });
  for (const line of lines) {
    const bytes = new TextEncoder().encode(line);
    let offset = 0;
    while (offset < bytes.length && !closedByServer) {
      const written = socket.write(bytes.subarray(offset));
      if (written < 0) break;
      offset += written;
      if (written === 0) await Bun.sleep(5);
    }
  }
  await Promise.race([done.promise, Bun.sleep(2000)]);
  const closed = closedByServer;
  socket.end();
  return { received, closed };
}

/** Starts a holder process and waits for the request it queued. */
async function holder(dir: string, expiresMs = 30_000) {
  const child = Bun.spawn([process.execPath, HOLDER, dir, String(expiresMs)], { stdout: "pipe", stderr: "inherit" });
  children.push(child);
  const reader = child.stdout.getReader();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    while (!buffer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("holder exited");
      buffer += new TextDecoder().decode(value);
    }
    const line = buffer.slice(0, buffer.indexOf("\n"));
    buffer = buffer.slice(buffer.indexOf("\n") + 1);
    return line;
  };
  const request = JSON.parse(await nextLine());
  return { child, request, resolution: async () => JSON.parse(await nextLine()) };
}

describe("control socket", () => {
  test("control socket: the socket is 0600 in a 0700 directory and the key file is 0600", () => {
    const dir = runDir();
    const { server } = serve(dir);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "ctl")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "control.key")).mode & 0o777).toBe(0o600);
    server.close();
    expect(existsSync(server.path)).toBe(false);
  });

  test("control socket: a wrong key, a message before hello and malformed JSON are all disconnected without an answer", async () => {
    const dir = runDir();
    const { server } = serve(dir);
    for (const lines of [
      [`${JSON.stringify({ op: "hello", key: "0".repeat(64), client: "mallory" })}\n`],
      [`${JSON.stringify({ op: "resolve", ref: 1, id: "x", requestHash: "a".repeat(64), choice: "approve", by: "m", via: "cli" })}\n`],
      ["{not json\n"],
      [`${JSON.stringify({ op: "hello", key: controlKey(dir), client: "c", extra: true })}\n`],
    ]) {
      const { received, closed } = await rawExchange(server.path, lines);
      expect(received).toBe("");
      expect(closed).toBe(true);
    }
    await expect(ControlClient.connect(server.path, "f".repeat(64), "mallory")).rejects.toThrow();
  });

  test("control socket: a line longer than 1 MiB is refused by closing the connection", async () => {
    const dir = runDir();
    const { server } = serve(dir);
    const { closed } = await rawExchange(server.path, ["x".repeat(1024 * 1024 + 10)]);
    expect(closed).toBe(true);
  });

  test("control socket: a key file someone else could read is refused", () => {
    const dir = runDir();
    writeFileSync(join(dir, "control.key"), "a".repeat(64), { mode: 0o644 });
    let code = "";
    try {
      controlKey(dir);
    } catch (error) {
      code = isAegisError(error) ? error.code : String(error);
    }
    expect(code).toBe("integrity");
  });

  test("control key: processes starting together on a fresh home all read the same complete key", async () => {
    const dir = runDir();
    const module = join(import.meta.dir, "..", "..", "src", "approvals", "control-key.ts");
    const script = `const { controlKey } = await import(${JSON.stringify(module)}); try { console.log(controlKey(${JSON.stringify(dir)})); } catch (e) { console.log("ERROR " + e.message); }`;
    const outputs = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
        return (await new Response(proc.stdout).text()).trim();
      }),
    );
    expect(outputs.filter((line) => !/^[0-9a-f]{64}$/.test(line))).toEqual([]);
    expect(new Set(outputs).size).toBe(1);
    // Nothing staged is left beside it.
    expect(readdirSync(dir).filter((name) => name.startsWith("control.key."))).toEqual([]);
  });

  test("control socket: a client sees pending requests, streams events and resolves with the shown hash only", async () => {
    const dir = runDir();
    const { bus, queue } = serve(dir);
    const request = approvalRequest();
    const waiting = queue.request(request);
    const client = await ControlClient.connect(join(dir, "ctl", `${process.pid}.sock`), controlKey(dir), "console:test");
    expect(client.pending.map((r) => r.id)).toEqual([request.id]);
    const events: EventEnvelope[] = [];
    client.subscribe((event) => events.push(event));
    await Bun.sleep(20);
    bus.publish("run.output", { runId: "r-x", stream: "stdout", text: "[REDACTED:aws-access-key]" });
    await expect(client.resolve(request.id, "b".repeat(64), "approve", "alice", "console")).rejects.toThrow(/hash does not match/);
    const resolution = await client.resolve(request.id, request.requestHash, "approve", "alice", "console");
    expect(resolution.outcome).toBe("approved");
    expect((await waiting).by).toBe("alice");
    await Bun.sleep(20);
    expect(events.map((e) => e.type)).toEqual(["run.output", "approval.resolved"]);
    client.close();
  });

  test("control socket: a client connecting mid-run learns of the runs still going, and streams from that instant", async () => {
    const dir = runDir();
    const { bus } = serve(dir);
    bus.publish("run.started", { runId: "r-old", argv: ["true"], image: "i", runtime: "docker" });
    bus.publish("run.finished", { runId: "r-old", exitCode: 0, durationMs: 1, timedOut: false });
    bus.publish("run.started", { runId: "r-live", argv: ["sleep", "9"], image: "i", runtime: "docker" });
    const client = await ControlClient.connect(join(dir, "ctl", `${process.pid}.sock`), controlKey(dir), "console:test", true);
    expect(client.runs.map((e) => (e.data as { runId: string }).runId)).toEqual(["r-live"]);
    bus.publish("run.output", { runId: "r-live", stream: "stdout", text: "before subscribe" });
    await Bun.sleep(20);
    const events: EventEnvelope[] = [];
    client.subscribe((event) => events.push(event));
    expect(events.map((e) => e.type)).toEqual(["run.output"]);
    client.close();
  });

  test("control socket: another process's pending request is listed and approved through discovery", async () => {
    const dir = runDir();
    const held = await holder(dir);
    const pending = await pendingApprovals(dir, "cli:test");
    expect(pending.map((r) => r.id)).toEqual([held.request.id]);
    expect(pending[0]?.pid).toBe(held.child.pid);
    await expect(resolveApproval(dir, held.request.id, "approve", "alice", "cli", "c".repeat(64))).rejects.toThrow(/hash does not match/);
    const { resolution } = await resolveApproval(dir, held.request.id, "approve", "alice", "cli");
    expect(resolution.outcome).toBe("approved");
    expect(await held.resolution()).toMatchObject({ outcome: "approved", by: "alice", via: "cli" });
    await expect(resolveApproval(dir, "r-nope", "approve", "alice", "cli")).rejects.toThrow(/no pending approval/);
  });

  test("control socket: the monitor notices a new process at once and reports its requests withdrawn when it dies", async () => {
    const dir = runDir();
    const events: EventEnvelope[] = [];
    const monitor = new HomeMonitor(dir, "console:test", (event) => events.push(event));
    await monitor.start();
    try {
      const held = await holder(dir);
      const deadline = Date.now() + 5000;
      while (monitor.pending().length === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(monitor.pending().map((r) => r.id)).toEqual([held.request.id]);
      held.child.kill("SIGKILL");
      await held.child.exited;
      while (monitor.pending().length > 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(monitor.pending()).toEqual([]);
      expect(events.at(-1)).toMatchObject({ type: "approval.resolved", data: { id: held.request.id, via: "system" } });
    } finally {
      monitor.close();
    }
  });

  test("control socket: a leftover socket of a dead process is removed by discovery", async () => {
    const dir = runDir();
    const held = await holder(dir);
    held.child.kill("SIGKILL");
    await held.child.exited;
    const leftover = join(dir, "ctl", `${held.child.pid}.sock`);
    expect(existsSync(leftover)).toBe(true);
    expect(await pendingApprovals(dir, "cli:test")).toEqual([]);
    expect(existsSync(leftover)).toBe(false);
    expect(readFileSync(join(dir, "control.key"), "utf8")).toMatch(/^[0-9a-f]{64}$/);
  });
});
