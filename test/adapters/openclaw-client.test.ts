/**
 * The gateway client's reconnect and the bridge's fail-closed branches, without a gateway:
 * a small protocol-4 stand-in (reconnect needs a gateway that drops connections on demand) and
 * the real ApprovalQueue with an audit sink that can fail.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ApprovalQueue } from "../../src/approvals/index.ts";
import { adapterLine, ApprovalBridge, GatewayClient, OpenClawAdapterConfig, startOpenClawAdapter } from "../../src/adapters/openclaw/index.ts";
import { EventBus } from "../../src/core/index.ts";
import type { AuditRecord } from "../../src/audit/index.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../e2e/openclaw/processes.ts";
import { body, startFixture } from "../server/helpers.ts";

/** Accepts the handshake with `token`; `drop()` closes every connection. */
function standIn(token: string) {
  const sockets = new Set<Bun.ServerWebSocket<unknown>>();
  let connections = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, srv) {
      if (new URL(request.url).pathname === "/readyz") return Response.json({ ready: true, failing: [] });
      return srv.upgrade(request) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      open(ws) {
        connections++;
        sockets.add(ws);
        ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }));
      },
      message(ws, data) {
        const frame = JSON.parse(String(data));
        if (frame.method === "connect") {
          const ok = frame.params?.auth?.token === token && frame.params?.client?.id === "gateway-client" && frame.params?.client?.mode === "backend";
          ws.send(JSON.stringify(ok ? { type: "res", id: frame.id, ok: true, payload: { type: "hello-ok", protocol: 4, server: {}, auth: { scopes: frame.params.scopes } } } : { type: "res", id: frame.id, ok: false, error: { code: "INVALID_REQUEST", message: "unauthorized" } }));
        } else if (frame.method === "health") ws.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { ok: true, plugins: { loaded: ["aegisclaw"] } } }));
        // anything else: no answer (timeouts)
      },
      close(ws) {
        sockets.delete(ws);
      },
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, connections: () => connections, drop: () => sockets.forEach((ws) => ws.close(1012, "restart")), stop: () => server.stop(true) };
}

describe("gateway client (protocol stand-in)", () => {
  const gateway = standIn("tok");
  afterAll(() => gateway.stop());

  test("gateway client: reconnects with backoff after the connection drops", async () => {
    const states: string[] = [];
    const client = new GatewayClient({ endpoint: gateway.url, token: "tok", backoff: { initialMs: 50, maxMs: 200 }, onState: (state) => states.push(state) });
    await client.connect();
    gateway.drop();
    await waitFor("the reconnect", () => states.filter((s) => s === "connected").length >= 2 || undefined, 5000);
    expect(client.connected).toBe(true);
    expect(gateway.connections()).toBeGreaterThanOrEqual(2);
    expect((await client.ping()).latencyMs).toBeGreaterThan(0);
    client.close();
    expect(states.at(-1)).toBe("closed");
  });

  test("gateway client: a request without an answer times out; pending requests fail on disconnect", async () => {
    const client = new GatewayClient({ endpoint: gateway.url, token: "tok", reconnect: false, timeoutMs: 200 });
    await client.connect();
    await expect(client.request("silent.method")).rejects.toThrow("TIMEOUT");
    const pending = client.request("silent.method", {}, 5000);
    gateway.drop();
    await expect(pending).rejects.toThrow("DISCONNECTED");
    client.close();
  });
});

describe("adapter (protocol stand-in)", () => {
  const gateway = standIn("tok");
  afterAll(() => gateway.stop());

  test("adapter: a token that cannot be read yet is retried at the next probe; health events follow the state", async () => {
    const bus = new EventBus();
    const states: string[] = [];
    bus.subscribe((event) => {
      if (event.type === "adapter.health") states.push((event.data as { state: string }).state);
    });
    let stored = false;
    const logs: string[] = [];
    const adapter = startOpenClawAdapter({
      home: "/nonexistent",
      bus,
      approvals: new ApprovalQueue(bus),
      lockdown: { read: () => ({ active: false }) } as never,
      openAudit: async () => ({ append: async () => ({ seq: 1 }) }) as never,
      approvalTimeoutMs: 1000,
      log: (line) => logs.push(line),
      config: OpenClawAdapterConfig.parse({ enabled: true, endpoint: gateway.url }),
      token: async () => {
        if (!stored) throw new Error("OpenClaw gateway token (secret OPENCLAW_GATEWAY_TOKEN): no secret named OPENCLAW_GATEWAY_TOKEN");
        return "tok";
      },
      probeIntervalMs: 100,
    });
    try {
      const first = await waitFor("the first probe", () => (states.length > 0 ? adapter.health() : undefined));
      expect(first.state).toBe("degraded");
      expect(first.lastError).toContain("OPENCLAW_GATEWAY_TOKEN");
      expect(logs.filter((line) => line.includes("OPENCLAW_GATEWAY_TOKEN"))).toHaveLength(1);
      stored = true;
      const healthy = await waitFor("connected", () => (adapter.health().state === "connected" ? adapter.health() : undefined), 5000);
      expect(healthy).toMatchObject({ websocket: { connected: true }, plugin: { loaded: true }, readyz: { ok: true }, bridge: { enabled: true, pending: 0 } });
      expect(healthy.status).toContain("plugin loaded");
    } finally {
      await adapter.stop();
    }
    expect(states).toContain("connected");
  });

  test("adapter: an invalid adapters/openclaw.yaml leaves the server up and the adapter down, naming the field", async () => {
    const fixture = await startFixture({
      app: (app) => {
        mkdirSync(join(app.layout.root, "adapters"), { recursive: true });
        writeFileSync(join(app.layout.root, "adapters", "openclaw.yaml"), "enabled: true\nendpont: http://127.0.0.1:1\n");
      },
    });
    try {
      const [adapter] = (await body(await fixture.call("/api/v1/status", { as: "viewer" }))).adapters as Array<Record<string, string>>;
      expect(adapter).toMatchObject({ name: "openclaw", state: "down" });
      expect(adapter?.lastError).toContain("endpont");
      expect(fixture.logs.join("\n")).toContain("OpenClaw adapter off");
    } finally {
      await fixture.stop();
    }
  });

  test("adapter: the console's line shows the last published health, or what the config says", () => {
    expect(adapterLine(false, undefined)).toBe("OpenClaw: not configured");
    expect(adapterLine(true, undefined)).toContain("no `aegisclaw serve` connected");
    expect(adapterLine(true, { status: "connected · ws 3 ms", checkedAt: "t" })).toBe("OpenClaw: connected · ws 3 ms");
    expect(adapterLine(new Error("adapters/openclaw.yaml:2: endpont"), undefined)).toContain("invalid");
  });

  test("adapter: disabled config starts nothing and reports not configured", async () => {
    const bus = new EventBus();
    const adapter = startOpenClawAdapter({ home: "/nonexistent", bus, approvals: new ApprovalQueue(bus), lockdown: {} as never, openAudit: async () => ({}) as never, approvalTimeoutMs: 1000, log: () => {}, config: OpenClawAdapterConfig.parse({}) });
    expect(adapter.health()).toMatchObject({ name: "openclaw", state: "disabled", status: "not configured" });
    await adapter.stop();
  });
});

/** A bridge over the real queue; `resolves` records what OpenClaw was told. */
function bridgeWith(options: { failAudit?: boolean; timeoutMs?: number; lockdown?: boolean } = {}) {
  const bus = new EventBus();
  const queue = new ApprovalQueue(bus);
  const records: AuditRecord[] = [];
  const resolves: Array<{ method: string; params: unknown }> = [];
  const logs: string[] = [];
  const lock = { active: options.lockdown ?? false };
  const bridge = new ApprovalBridge({
    queue,
    gateway: { request: async <T,>(method: string, params?: unknown) => (resolves.push({ method, params }), { ok: true } as T) },
    audit: async () => ({
      append: async (record: AuditRecord) => {
        if (options.failAudit) throw new Error("disk full");
        records.push(record);
        return { seq: records.length } as never;
      },
    }),
    lockdown: { read: () => ({ active: lock.active }) as never },
    timeoutMs: options.timeoutMs ?? 60_000,
    log: (line) => logs.push(line),
  });
  return { bridge, queue, records, resolves, logs, lock };
}

const execRequest = (id: string, allowedDecisions = ["allow-once", "deny"]) => ({ approvalKind: "exec", id, request: { command: "rm -rf /tmp/x", cwd: "/w", host: "gateway", allowedDecisions, agentId: "main", sessionKey: "agent:main:s1" }, createdAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 });

describe("approval bridge (fail-closed branches)", () => {
  test("approval bridge: approval through the queue sends allow-once after audit; the hash binds it", async () => {
    const { bridge, queue, records, resolves } = bridgeWith();
    bridge.handleEvent("exec.approval.requested", execRequest("a1"));
    const pending = await waitFor("queued", () => queue.list()[0]);
    expect(records[0]).toMatchObject({ type: "decision", actor: { name: "openclaw", source: "openclaw" }, decision: { kind: "ask" }, request: { approvalKind: "exec", openclawApprovalId: "a1", command: "rm -rf /tmp/x", agentId: "main" } });
    expect(() => queue.resolve(pending.id, "f".repeat(64), "approve", "ann", "console")).toThrow("hash does not match");
    queue.resolve(pending.id, pending.requestHash, "approve", "ann", "console");
    await waitFor("resolve sent", () => resolves[0]);
    expect(resolves).toEqual([{ method: "exec.approval.resolve", params: { id: "a1", decision: "allow-once" } }]);
    expect(records[1]).toMatchObject({ type: "approval", actor: { name: "ann", source: "tui" }, approval: { outcome: "approved", by: "ann", via: "console" } });
  });

  test("approval bridge: when OpenClaw does not offer allow-once, an approval still sends deny", async () => {
    const { bridge, queue, resolves } = bridgeWith();
    bridge.handleEvent("exec.approval.requested", execRequest("a2", ["deny"]));
    const pending = await waitFor("queued", () => queue.list()[0]);
    queue.resolve(pending.id, pending.requestHash, "approve", "ann", "console");
    await waitFor("resolve sent", () => resolves[0]);
    expect(resolves[0]?.params).toEqual({ id: "a2", decision: "deny" });
  });

  test("approval bridge: an audit log that cannot be written denies without queueing", async () => {
    const { bridge, queue, resolves } = bridgeWith({ failAudit: true });
    bridge.handleEvent("plugin.approval.requested", { id: "plugin:p1", request: { pluginId: "x", title: "t", toolName: "exec", allowedDecisions: ["allow-once", "allow-always", "deny"] }, createdAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 });
    await waitFor("resolve sent", () => resolves[0]);
    expect(resolves[0]).toEqual({ method: "plugin.approval.resolve", params: { id: "plugin:p1", decision: "deny" } });
    expect(queue.list()).toHaveLength(0);
  });

  test("approval bridge: lockdown at request time denies at once, audited as a deny decision", async () => {
    const { bridge, queue, resolves, records } = bridgeWith({ lockdown: true });
    bridge.handleEvent("exec.approval.requested", execRequest("a3"));
    await waitFor("resolve sent", () => resolves[0]);
    expect(resolves[0]?.params).toEqual({ id: "a3", decision: "deny" });
    expect(records[0]?.decision?.kind).toBe("deny");
    expect(queue.list()).toHaveLength(0);
  });

  test("approval bridge: malformed requests are ignored (OpenClaw times them out), never queued", async () => {
    const { bridge, queue, logs } = bridgeWith();
    bridge.handleEvent("exec.approval.requested", { id: "x" });
    bridge.handleEvent("exec.approval.requested", "junk");
    bridge.handleEvent("exec.approval.requested", { id: 5, request: { command: "ls" } });
    expect(queue.list()).toHaveLength(0);
    expect(logs.length).toBe(3);
  });

  test("approval bridge: AegisClaw's timeout expires it (deny), and close() withdraws pending ones without answering", async () => {
    const short = bridgeWith({ timeoutMs: 100 });
    short.bridge.handleEvent("exec.approval.requested", execRequest("a4"));
    await waitFor("resolve sent", () => short.resolves[0]);
    expect(short.resolves[0]?.params).toEqual({ id: "a4", decision: "deny" });
    expect(short.records[1]).toMatchObject({ type: "approval", approval: { outcome: "expired", via: "timeout" } });
    const long = bridgeWith();
    long.bridge.handleEvent("exec.approval.requested", execRequest("a5"));
    await waitFor("queued", () => long.queue.list()[0]);
    await long.bridge.close();
    expect(long.resolves).toHaveLength(0);
    expect(long.records[1]).toMatchObject({ type: "approval", approval: { outcome: "denied", via: "system" } });
    expect(long.queue.list()).toHaveLength(0);
  });
});
