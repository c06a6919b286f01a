/**
 * Gateway client and adapter health against the REAL OpenClaw gateway (.tools/openclaw) with the
 * AegisClaw plugin loaded from adapters/openclaw/plugin; the CLI's `openclaw status` and
 * `doctor` read the gateway token from a real secret store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayClient, GatewayRequestError, OpenClawAdapterConfig, probeOnce, readGatewayToken } from "../../src/adapters/openclaw/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { gatewayConfig, NODE24, OPENCLAW_CLI, openClawHome, PLUGIN_DIR, startGateway, writeGatewayConfig, type Gateway, type OpenClawHome } from "../e2e/openclaw/gateway.ts";
import { freePort } from "../e2e/openclaw/processes.ts";
import { tempHome } from "../server/helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const installed = existsSync(NODE24) && existsSync(OPENCLAW_CLI);
if (!installed) console.warn(`SKIP openclaw-health: the OpenClaw test install is missing (${OPENCLAW_CLI}); run: bash scripts/setup-openclaw.sh`);
const pluginShipped = existsSync(join(PLUGIN_DIR, "openclaw.plugin.json"));

async function cli(args: string[], env: Record<string, string>, stdin?: string) {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src", "main.ts"), ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_PROXY: "127.0.0.1", ...env }, stdin: stdin === undefined ? "ignore" : new Blob([stdin]), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

describe.skipIf(!installed)("openclaw gateway client and health (real gateway)", () => {
  let oc: OpenClawHome;
  let gateway: Gateway;
  const config = (fields: Record<string, unknown> = {}) => OpenClawAdapterConfig.parse({ enabled: true, endpoint: gateway.url, timeout_ms: 10_000, ...fields });

  beforeAll(async () => {
    oc = openClawHome();
    const base = gatewayConfig(oc, { modelBaseUrl: "http://127.0.0.1:9/v1", ...(pluginShipped ? { plugin: { endpoint: "http://127.0.0.1:9", tokenFile: join(oc.dir, "plugin.token"), timeoutMs: 10_000 } } : {}) });
    writeFileSync(join(oc.dir, "plugin.token"), "unused\n", { mode: 0o600 });
    writeGatewayConfig(oc, base);
    gateway = await startGateway(oc);
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
  }, 60_000);

  test("gateway client: protocol 4 handshake as a backend operator with the approval scopes, then health", async () => {
    const client = new GatewayClient({ endpoint: gateway.url, token: oc.token, reconnect: false });
    try {
      const hello = await client.connect();
      expect(hello.protocol).toBe(4);
      expect(hello.auth?.scopes).toEqual(expect.arrayContaining(["operator.read", "operator.write", "operator.approvals", "operator.admin"]));
      expect(hello.features?.methods).toEqual(expect.arrayContaining(["exec.approval.resolve", "plugin.approval.resolve", "health"]));
      const { latencyMs, health } = await client.ping();
      console.log(`gateway ws connect ${client.connectMs} ms, health round trip ${latencyMs} ms`);
      expect(latencyMs).toBeGreaterThan(0);
      expect((health as { ok?: boolean }).ok).toBe(true);
      const unknown = await client.request("no.such.method").catch((error: unknown) => error);
      expect(unknown).toBeInstanceOf(GatewayRequestError);
      expect((unknown as GatewayRequestError).method).toBe("no.such.method");
    } finally {
      client.close();
    }
    // After close every request fails at once.
    await expect(client.request("health")).rejects.toThrow("not connected");
  });

  test("gateway client: a wrong token is refused, unavailable, and the token never appears in the error", async () => {
    const secret = `wrong-${crypto.randomUUID()}`;
    const client = new GatewayClient({ endpoint: gateway.url, token: secret, reconnect: false });
    const error = await client.connect().catch((e: unknown) => e);
    expect(isAegisError(error, "unavailable")).toBe(true);
    expect((error as Error).message).toContain("refused");
    expect((error as Error).message).not.toContain(secret);
    client.close();
  });

  test(`health: probeOnce reports connected${pluginShipped ? " with the AegisClaw plugin loaded" : ", plugin not loaded"}`, async () => {
    const health = await probeOnce(config(), oc.token);
    expect(health.readyz?.ok).toBe(true);
    expect(health.websocket?.connected).toBe(true);
    expect(health.plugin?.loaded).toBe(pluginShipped);
    expect(health.state).toBe(pluginShipped ? "connected" : "degraded");
    console.log(`readyz ${health.readyz?.latencyMs} ms; status: ${health.status}`);
  });

  test("health: wrong token = degraded with the reason; unreachable = down; disabled = disabled", async () => {
    const wrong = await probeOnce(config(), "not-the-token");
    expect(wrong.state).toBe("degraded");
    expect(wrong.lastError).toContain("token mismatch");
    const down = await probeOnce(config({ endpoint: `http://127.0.0.1:${freePort()}`, timeout_ms: 1000 }), oc.token);
    expect(down.state).toBe("down");
    expect(down.readyz?.error).toContain("unreachable");
    const disabled = await probeOnce(OpenClawAdapterConfig.parse({}), undefined);
    expect(disabled).toMatchObject({ name: "openclaw", state: "disabled", status: "not configured" });
  });

  test("health: `openclaw status` and `doctor` read the token from the secret store and probe the gateway", async () => {
    const { home } = await tempHome();
    const env = { AEGISCLAW_HOME: home, HOME: oc.home };
    expect((await cli(["secrets", "init"], env)).exitCode).toBe(0);
    expect((await cli(["secrets", "set", "OPENCLAW_GATEWAY_TOKEN"], env, `${oc.token}\n`)).exitCode).toBe(0);
    mkdirSync(join(home, "adapters"), { recursive: true });
    writeFileSync(join(home, "adapters", "openclaw.yaml"), `enabled: true\nendpoint: ${gateway.url}\ntimeout_ms: 10000\n`);
    expect(await readGatewayToken(home, config())).toBe(oc.token);
    const status = await cli(["openclaw", "status", "--json"], env);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).not.toContain(oc.token);
    const health = JSON.parse(status.stdout);
    expect(health.websocket.connected).toBe(true);
    expect(health.state).toBe(pluginShipped ? "connected" : "degraded");
    const doctor = await cli(["doctor", "--json"], env);
    const check = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === "openclaw");
    expect(check.status).toBe(pluginShipped ? "pass" : "warn");
    expect(doctor.stdout).not.toContain(oc.token);
    // A missing secret: the check says which secret and how to store it.
    writeFileSync(join(home, "adapters", "openclaw.yaml"), `enabled: true\nendpoint: ${gateway.url}\napi_key_secret: OTHER_TOKEN\n`);
    const missing = await cli(["openclaw", "status"], env);
    expect(missing.stdout).toContain("OTHER_TOKEN");
    expect(missing.stdout).toContain("ws down");
  }, 60_000);
});
