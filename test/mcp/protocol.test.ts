import { afterEach, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { aegis, BINARY, jsonLines, useCompiledBinary } from "../helpers/cli.ts";
import { home, serverEnv, waitForPending } from "./helpers.ts";

useCompiledBinary();

type Message = { jsonrpc: string; id?: string | number | null; result?: Record<string, unknown>; error?: { code: number; message: string } };

/** The server spawned raw: bytes go to its stdin as written, every stdout line is kept. */
class RawServer {
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<number>;
  private readonly proc: Subprocess<"pipe", "pipe", "pipe">;

  constructor(homeDir: string) {
    this.proc = Bun.spawn([BINARY, "mcp-server"], { env: serverEnv(homeDir), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.exited = this.proc.exited;
    void this.collect(this.proc.stdout);
    void new Response(this.proc.stderr).text().then((text) => {
      this.stderr = text;
    });
  }

  write(text: string): void {
    this.proc.stdin.write(text);
    this.proc.stdin.flush();
  }

  send(message: Record<string, unknown>): void {
    this.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  }

  /** Waits for the reply with this id; returns every message received up to and including it. */
  async until(id: string | number, timeoutMs = 15_000): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const messages = this.messages();
      const index = messages.findIndex((message) => message.id === id && ("result" in message || "error" in message));
      if (index !== -1) return messages;
      await Bun.sleep(20);
    }
    throw new Error(`no reply with id ${id}; stdout so far:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
  }

  messages(): Message[] {
    return this.lines.map((line) => JSON.parse(line) as Message);
  }

  endInput(): void {
    void this.proc.stdin.end();
  }

  signal(name: NodeJS.Signals): void {
    this.proc.kill(name);
  }

  /** Reads stdout line by line into `lines`. */
  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      const parts = (buffer + decoder.decode(chunk, { stream: true })).split("\n");
      buffer = parts.pop() ?? "";
      this.lines.push(...parts);
    }
  }
}

const spawned: RawServer[] = [];
afterEach(async () => {
  for (const server of spawned.splice(0)) {
    server.signal("SIGKILL");
    await server.exited;
  }
});

async function initialised(homeDir: string): Promise<RawServer> {
  const server = new RawServer(homeDir);
  spawned.push(server);
  server.send({ id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
  await server.until(0);
  server.send({ method: "notifications/initialized" });
  return server;
}

describe("mcp-server JSON-RPC over stdio (compiled binary, raw bytes)", () => {
  test("mcp protocol: malformed JSON gets a parse error, a non-message an invalid-request error, and the server keeps serving", async () => {
    const server = await initialised(await home("standard"));
    server.write("{this is not json\n");
    server.write('{"jsonrpc":"2.0","id":41,"params":[]}\n');
    server.write('{"jsonrpc":"1.0","id":"x","method":"ping"}\n');
    server.write("[]\n\n   \n");
    server.send({ id: 42, method: "tools/list" });
    const messages = await server.until(42);
    const errors = messages.filter((message) => message.error);
    expect(errors.map((message) => [message.id, message.error?.code])).toEqual([
      [null, -32700],
      [41, -32600],
      ["x", -32600],
      [null, -32600],
    ]);
    expect(errors[0]?.error?.message).toContain("Parse error");
    const tools = messages.find((message) => message.id === 42)?.result?.tools as Array<{ name: string }>;
    expect(tools.map((tool) => tool.name).sort()).toEqual(["audit_verify", "policy_simulate", "sandbox_exec", "skill_run", "skills_list"]);
    // stdout holds nothing but JSON-RPC 2.0 messages; the diagnostics went to stderr.
    for (const message of server.messages()) expect(message.jsonrpc).toBe("2.0");
  });

  test("mcp protocol: notifications get no reply; unknown methods get method-not-found; an over-long line is refused", async () => {
    const server = await initialised(await home("standard"));
    const before = server.lines.length;
    server.send({ method: "notifications/initialized" });
    server.send({ method: "notifications/no-such-thing", params: { x: 1 } });
    server.send({ method: "notifications/cancelled", params: { requestId: 12345 } });
    server.send({ id: 7, method: "ping" });
    const afterPing = await server.until(7);
    expect(afterPing.slice(before)).toEqual([{ jsonrpc: "2.0", id: 7, result: {} }]);

    server.send({ id: 8, method: "no/such/method" });
    expect((await server.until(8)).at(-1)?.error?.code).toBe(-32601);

    server.write(`{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"${"x".repeat(5 * 1024 * 1024)}"}}\n`);
    server.send({ id: 10, method: "ping" });
    const messages = await server.until(10);
    expect(messages.some((message) => message.id === null && message.error?.code === -32600 && message.error.message.includes("longer than"))).toBe(true);
    expect(messages.some((message) => message.id === 9)).toBe(false);
  });

  test("mcp protocol: end of stdin exits 0 and closes the audit log cleanly", async () => {
    const homeDir = await home("standard");
    const server = await initialised(homeDir);
    server.send({ id: 1, method: "tools/call", params: { name: "audit_verify", arguments: {} } });
    await server.until(1);
    server.endInput();
    expect(await server.exited).toBe(0);
    expect(server.stderr).toContain("aegisclaw mcp-server: stopped");
    expect((await aegis(homeDir, ["logs", "verify"])).exitCode).toBe(0);
  });

  test("mcp protocol: SIGTERM while a call waits for approval withdraws it (recorded) and exits 0", async () => {
    const homeDir = await home("strict");
    const server = await initialised(homeDir);
    server.send({ id: 1, method: "tools/call", params: { name: "sandbox_exec", arguments: { argv: ["echo", "never"], scopes: ["shell.exec"] } } });
    const request = await waitForPending(homeDir);
    expect(request.actor).toEqual({ name: "mcp:raw", source: "mcp" });
    server.signal("SIGTERM");
    expect(await server.exited).toBe(0);
    const entries = jsonLines((await aegis(homeDir, ["logs", "--json"])).stdout).filter((entry) => entry.runId === request.id);
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "approval"]);
    expect(entries[1]).toMatchObject({ approval: { outcome: "denied", via: "system" } });
    expect((await aegis(homeDir, ["logs", "verify"])).exitCode).toBe(0);
  });
});
