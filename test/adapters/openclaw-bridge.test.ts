/**
 * The approval bridge against the REAL OpenClaw gateway (.tools/openclaw, offline, loopback):
 * `tools.exec.mode: ask`, a fake model that calls `exec`, a turn driven by WS `chat.send`.
 * OpenClaw's `exec.approval.requested` must land in `aegisclaw serve`'s queue, be answered
 * through AegisClaw's API, and OpenClaw must run (or not run) the command accordingly; every
 * step is in AegisClaw's audit log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayClient, OpenClawAdapterConfig } from "../../src/adapters/openclaw/index.ts";
import { readEntries } from "../../src/audit/index.ts";
import { startFakeModel, type FakeModel } from "../e2e/openclaw/fake-model.ts";
import { gatewayConfig, NODE24, OPENCLAW_CLI, openClawHome, startGateway, writeGatewayConfig, type Gateway, type OpenClawHome } from "../e2e/openclaw/gateway.ts";
import { waitFor } from "../e2e/openclaw/processes.ts";
import { body, startFixture, type ServerFixture } from "../server/helpers.ts";

const installed = existsSync(NODE24) && existsSync(OPENCLAW_CLI);
if (!installed) console.warn(`SKIP openclaw-bridge: the OpenClaw test install is missing (${OPENCLAW_CLI}); run: bash scripts/setup-openclaw.sh`);

interface Pending {
  id: string;
  requestHash: string;
  argv: string[];
  holder: string;
  actor: { name: string; source: string };
  reasons: Array<{ message: string }>;
}

const APPROVER_ID = "aegis-test-approver";

/** Writes the test approver plugin: commands containing "plugin-gate" need OpenClaw's plugin approval. */
function testApproverPlugin(dir: string): string {
  const root = join(dir, "approver-plugin");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "openclaw.plugin.json"), JSON.stringify({ id: APPROVER_ID, name: "AegisClaw test approver", description: "test only", activation: { onStartup: true }, configSchema: { type: "object", additionalProperties: false, properties: {} } }));
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: APPROVER_ID, version: "0.0.1", type: "module", openclaw: { extensions: ["./index.mjs"] } }));
  writeFileSync(
    join(root, "index.mjs"),
    `export default {
  id: ${JSON.stringify(APPROVER_ID)},
  name: "AegisClaw test approver",
  description: "test only",
  register(api) {
    api.on("before_tool_call", async (event) => {
      const command = String(event.params?.command ?? "");
      if (!command.includes("plugin-gate")) return undefined;
      return { requireApproval: { title: "Test approver: exec", description: "run " + command, severity: "warning", timeoutMs: 60000, allowedDecisions: ["allow-once", "deny"] } };
    });
  },
};
`,
  );
  return root;
}

describe.skipIf(!installed)("openclaw bridge (real gateway)", () => {
  let model: FakeModel;
  let oc: OpenClawHome;
  let gateway: Gateway;
  let driver: GatewayClient;
  let aegis: ServerFixture;
  let planCount = 0;
  let gatewayStopped = false;

  /** The test's own chat client: it starts turns; it is no approval route (no caps). */
  const chatClient = () => new GatewayClient({ endpoint: gateway.url, token: oc.token, scopes: ["operator.read", "operator.write", "operator.approvals", "operator.admin"], caps: [], reconnect: false, timeoutMs: 30_000 });
  const adapterConfig = () => OpenClawAdapterConfig.parse({ enabled: true, endpoint: gateway.url, timeout_ms: 10_000 });
  const serve = (approvalsTimeout: string) => startFixture({ approvalsTimeout, server: { openclaw: { config: adapterConfig(), token: async () => oc.token, probeIntervalMs: 2000 } } });

  /** Starts a turn whose model calls exec with `command`; returns the plan id. */
  const turn = async (command: string): Promise<string> => {
    planCount += 1;
    const plan = `b${planCount}`;
    const marker = model.plan(plan, { tool: "exec", args: { command } });
    await driver.request("chat.send", { sessionKey: `agent:main:bridge-${plan}`, message: `please run it ${marker}`, idempotencyKey: crypto.randomUUID() }, 30_000);
    return plan;
  };
  const pendingFor = (fixture: ServerFixture, command: string) =>
    waitFor(`the bridged request for ${command} in AegisClaw's queue`, async () => {
      const list = (await body(await fixture.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[];
      return list.find((p) => p.argv[0] === command);
    }, 60_000);
  const toolResult = (plan: string) => waitFor(`OpenClaw's tool result for ${plan}`, () => model.toolResult(plan), 60_000);
  const entriesFor = (fixture: ServerFixture, runId: string) => [...readEntries(fixture.app.layout.audit)].filter((entry) => entry.runId === runId);

  beforeAll(async () => {
    model = startFakeModel();
    oc = openClawHome();
    const config = gatewayConfig(oc, { modelBaseUrl: model.baseUrl, execMode: "ask" });
    // A test-only plugin that asks for OpenClaw's plugin approval, so plugin.approval.requested
    // is exercised with the real gateway too (the AegisClaw plugin asks AegisClaw directly).
    const approver = testApproverPlugin(oc.dir);
    writeGatewayConfig(oc, { ...config, plugins: { allow: [APPROVER_ID], load: { paths: [approver] }, entries: { [APPROVER_ID]: { enabled: true } } } });
    gateway = await startGateway(oc);
    driver = chatClient();
    await driver.connect();
    aegis = await serve("60s");
    await waitFor("the adapter's WebSocket", async () => ((await body(await aegis.call("/api/v1/status", { as: "viewer" }))).adapters as Array<{ websocket?: { connected: boolean } }>)[0]?.websocket?.connected, 30_000);
    console.log(`openclaw gateway ready in ${gateway.startupMs} ms`);
  }, 180_000);

  afterAll(async () => {
    driver?.close();
    await aegis?.stop();
    await gateway?.stop();
    model?.stop();
  }, 60_000);

  test("bridge: /status reports the adapter connected over WebSocket with readyz and heartbeat latency", async () => {
    const status = await body(await aegis.call("/api/v1/status", { as: "viewer" }));
    const [adapter] = status.adapters as Array<Record<string, any>>;
    expect(adapter?.name).toBe("openclaw");
    expect(adapter?.websocket.connected).toBe(true);
    expect(adapter?.readyz.ok).toBe(true);
    expect(typeof adapter?.readyz.latencyMs).toBe("number");
    // This gateway does not load the AegisClaw plugin: reachable but degraded, and it says why.
    expect(adapter?.plugin?.loaded).toBe(false);
    expect(adapter?.state).toBe("degraded");
    expect(adapter?.status).toContain("plugin NOT loaded");
    expect(adapter?.bridge).toEqual({ enabled: true, pending: 0 });
  });

  test("bridge: an exec approval approved through AegisClaw's API runs in OpenClaw, audited", async () => {
    const command = "printf 'appr%sved\\n' o";
    const started = performance.now();
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    expect(pending.holder).toBe("server");
    expect(pending.actor).toEqual({ name: "openclaw", source: "openclaw" });
    expect(pending.reasons[0]?.message).toContain("OpenClaw asks to run");
    const answered = performance.now();
    const response = await aegis.call(`/api/v1/approvals/${pending.id}/approve`, { method: "POST", as: "operator", json: { requestHash: pending.requestHash } });
    expect(response.status).toBe(200);
    const result = await toolResult(plan);
    console.log(`bridge round trip: request->queue ${Math.round(answered - started)} ms, approve->tool result ${Math.round(performance.now() - answered)} ms`);
    expect(result).toContain("approved");
    const entries = entriesFor(aegis, pending.id);
    const decision = entries.find((entry) => entry.type === "decision");
    console.log(`bridge: OpenClaw's request -> AegisClaw's audited queue entry ${Date.parse((pending as unknown as { createdAt: string }).createdAt) - Date.parse(String(decision?.request?.openclawCreatedAt))} ms`);
    expect(decision?.actor).toEqual({ name: "openclaw", source: "openclaw" });
    expect(decision?.decision?.kind).toBe("ask");
    expect(decision?.request?.approvalKind).toBe("exec");
    expect(decision?.request?.command).toBe(command);
    expect(typeof decision?.request?.openclawApprovalId).toBe("string");
    expect(decision?.request?.sessionKey).toBe(`agent:main:bridge-${plan}`);
    const approval = entries.find((entry) => entry.type === "approval");
    expect(approval?.approval).toEqual({ outcome: "approved", by: "otto", via: "api", scope: "once" });
    expect(approval?.actor).toEqual({ name: "otto", source: "api" });
    expect(approval!.seq).toBeGreaterThan(decision!.seq);
    // Nothing is left pending in OpenClaw: the bridge's allow-once settled it.
    expect(await driver.request("exec.approval.list", {})).toEqual([]);
  });

  test("bridge: a deny through AegisClaw's API blocks the command in OpenClaw, audited", async () => {
    const command = "printf 'den%sed-ran\\n' i";
    const started = performance.now();
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    const queued = performance.now();
    expect((await aegis.call(`/api/v1/approvals/${pending.id}/deny`, { method: "POST", as: "operator", json: { requestHash: pending.requestHash } })).status).toBe(200);
    const result = await toolResult(plan);
    console.log(`bridge (warm session): chat.send -> AegisClaw queue ${Math.round(queued - started)} ms, deny -> OpenClaw tool result ${Math.round(performance.now() - queued)} ms`);
    expect(result).not.toContain("denied-ran");
    expect(result.toLowerCase()).toContain("denied");
    const approval = entriesFor(aegis, pending.id).find((entry) => entry.type === "approval");
    expect(approval?.approval?.outcome).toBe("denied");
    expect(approval?.decision?.kind).toBe("deny");
  });

  test("bridge: OpenClaw's plugin approvals are bridged too: deny blocks, approve lets the call on (to its exec approval)", async () => {
    const denied = "printf 'plugin-gate-%s\\n' denied";
    const plan = await turn(denied);
    const pending = await waitFor("the plugin approval in AegisClaw's queue", async () => {
      const list = (await body(await aegis.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[];
      return list.find((p) => p.argv[0] === "exec" && p.argv[1] === "Test approver: exec");
    }, 60_000);
    expect((await aegis.call(`/api/v1/approvals/${pending.id}/deny`, { method: "POST", as: "operator", json: { requestHash: pending.requestHash } })).status).toBe(200);
    const result = await toolResult(plan);
    expect(result).toContain("Denied");
    expect(result).not.toContain("plugin-gate-denied\n");
    const decision = entriesFor(aegis, pending.id).find((entry) => entry.type === "decision");
    expect(decision?.request).toMatchObject({ approvalKind: "plugin", pluginId: APPROVER_ID, toolName: "exec", title: "Test approver: exec" });
    expect(String(decision?.request?.openclawApprovalId)).toStartWith("plugin:");

    const allowed = "printf 'plugin-gate-%s\\n' passed";
    const plan2 = await turn(allowed);
    const first = await waitFor("the plugin approval", async () => {
      const list = (await body(await aegis.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[];
      return list.find((p) => p.argv[0] === "exec" && p.argv[1] === "Test approver: exec");
    }, 60_000);
    expect((await aegis.call(`/api/v1/approvals/${first.id}/approve`, { method: "POST", as: "operator", json: { requestHash: first.requestHash } })).status).toBe(200);
    // tools.exec.mode ask: the exec approval follows, also in AegisClaw's queue.
    const second = await pendingFor(aegis, allowed);
    expect((await aegis.call(`/api/v1/approvals/${second.id}/approve`, { method: "POST", as: "operator", json: { requestHash: second.requestHash } })).status).toBe(200);
    expect(await toolResult(plan2)).toContain("plugin-gate-passed");
  });

  test("bridge: a wrong request hash is refused (409) and the request stays pending", async () => {
    const command = "printf 'h%sh\\n' as";
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    const wrong = await aegis.call(`/api/v1/approvals/${pending.id}/approve`, { method: "POST", as: "operator", json: { requestHash: "0".repeat(64) } });
    expect(wrong.status).toBe(409);
    expect((await aegis.call(`/api/v1/approvals/${pending.id}/deny`, { method: "POST", as: "operator", json: { requestHash: pending.requestHash } })).status).toBe(200);
    expect((await toolResult(plan)).toLowerCase()).toContain("denied");
  });

  test("bridge: resolved in OpenClaw by another client withdraws AegisClaw's request (audited)", async () => {
    const command = "printf 'else%swhere\\n' -";
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    const decision = entriesFor(aegis, pending.id).find((entry) => entry.type === "decision");
    await driver.request("exec.approval.resolve", { id: decision?.request?.openclawApprovalId, decision: "deny" });
    await waitFor("the withdrawal", async () => {
      const list = (await body(await aegis.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[];
      return list.every((p) => p.id !== pending.id) || undefined;
    });
    await toolResult(plan);
    const approval = await waitFor("the withdrawal entry", () => entriesFor(aegis, pending.id).find((entry) => entry.type === "approval"));
    expect(approval.approval?.via).toBe("system");
    expect(approval.decision?.reasons[0]?.message).toContain("resolved it elsewhere");
  });

  test("bridge: lockdown denies every pending bridged request", async () => {
    const command = "printf 'lock%sran\\n' -";
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    expect((await aegis.call("/api/v1/lockdown", { method: "POST", as: "admin", json: { reason: "bridge test" } })).status).toBe(200);
    try {
      const result = await toolResult(plan);
      expect(result).not.toContain("lock-ran");
      const approval = await waitFor("the lockdown entry", () => entriesFor(aegis, pending.id).find((entry) => entry.type === "approval"));
      expect(approval.approval).toMatchObject({ outcome: "denied", by: "lockdown", via: "system" });
    } finally {
      await aegis.call("/api/v1/unlock", { method: "POST", as: "admin", json: {} });
    }
  });

  test("bridge: losing the gateway withdraws pending requests (audited) and the adapter reports it", async () => {
    const command = "printf 'gone%s\\n' -";
    await turn(command);
    const pending = await pendingFor(aegis, command);
    await gateway.stop();
    gatewayStopped = true;
    const approval = await waitFor("the withdrawal entry", () => entriesFor(aegis, pending.id).find((entry) => entry.type === "approval"), 30_000);
    expect(approval.approval?.via).toBe("system");
    expect(approval.decision?.reasons[0]?.message).toContain("connection was lost");
    const adapter = await waitFor("state down", async () => {
      const [health] = (await body(await aegis.call("/api/v1/status", { as: "viewer" }))).adapters as Array<Record<string, any>>;
      return health?.state === "down" ? health : undefined;
    }, 30_000);
    expect(adapter.websocket.connected).toBe(false);
  });
  test("bridge: the adapter reconnects (with backoff) once the gateway is back", async () => {
    if (gatewayStopped) {
      gateway = await startGateway(oc);
      driver.close();
      driver = chatClient();
      await driver.connect();
    }
    const adapter = await waitFor("the adapter back to connected WebSocket", async () => {
      const [health] = (await body(await aegis.call("/api/v1/status", { as: "viewer" }))).adapters as Array<Record<string, any>>;
      return health?.websocket?.connected ? health : undefined;
    }, 60_000);
    expect(adapter.readyz.ok).toBe(true);
  }, 120_000);

  test("bridge: AegisClaw's approval timeout expires the request and OpenClaw is told deny", async () => {
    await aegis.stop();
    aegis = await serve("3s");
    await waitFor("the adapter's WebSocket", async () => ((await body(await aegis.call("/api/v1/status", { as: "viewer" }))).adapters as Array<{ websocket?: { connected: boolean } }>)[0]?.websocket?.connected, 30_000);
    const command = "printf 'exp%sred-ran\\n' i";
    const plan = await turn(command);
    const pending = await pendingFor(aegis, command);
    const result = await toolResult(plan);
    expect(result).not.toContain("expired-ran");
    const approval = entriesFor(aegis, pending.id).find((entry) => entry.type === "approval");
    expect(approval?.approval).toMatchObject({ outcome: "expired", via: "timeout" });
  });

});
