/**
 * One OpenClaw e2e environment per test file: the fake model, AegisClaw (`serve` from source,
 * its own temp home), the real OpenClaw gateway (isolated home, loopback, token auth, the
 * AegisClaw plugin loaded, optionally AegisClaw's MCP server) and a WebSocket client that
 * starts turns as a chat UI does. Started once in beforeAll, stopped in afterAll.
 */
import { adapterConfig, createAegis, MAIN, type Aegis, type Template } from "./aegis.ts";
import { startFakeModel, type FakeModel, type ToolPlan } from "./fake-model.ts";
import { gatewayConfig, openClawHome, requireOpenClaw, ROOT, startGateway, writeGatewayConfig, type Gateway, type OpenClawHome } from "./gateway.ts";
import { connectGateway, type GatewayClient, type TurnResult } from "./ws-driver.ts";

export interface HarnessOptions {
  template: Template;
  /** openclaw.yaml grants for OpenClaw's tool calls. */
  grants: string[];
  approvalsTimeout?: string;
  /** Adds `mcp.servers.aegisclaw` = `aegisclaw mcp-server` on the same home. */
  mcp?: boolean;
  /** The plugin's decision budget (includes a person's approval). */
  pluginTimeoutMs?: number;
  /** Extra fields for openclaw.yaml (the approval bridge). */
  adapter?: Record<string, unknown>;
  execMode?: "full" | "ask";
  /** Runs after AegisClaw's home exists and before anything starts (secrets, ...). */
  prepare?: (aegis: Aegis, oc: OpenClawHome) => Promise<void>;
}

export interface CallResult {
  turn: TurnResult;
  /** The tool result OpenClaw handed back to the model. */
  toolResult: string;
}

export interface Harness {
  model: FakeModel;
  oc: OpenClawHome;
  gateway: Gateway;
  aegis: Aegis;
  client: GatewayClient;
  timings: Record<string, number>;
  /** One turn in a fresh session in which the model calls `tool` with `args` once (not awaited: a call can wait for a person). */
  call(tool: string, args: Record<string, unknown>): Promise<CallResult>;
  /** Records how long `fn` took under `name` (printed at the end). */
  time<T>(name: string, fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

let sessions = 0;

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  requireOpenClaw();
  const timings: Record<string, number> = {};
  const began = performance.now();
  const model = startFakeModel();
  const oc = openClawHome();
  const aegis = await createAegis(options.template, adapterConfig(oc.workspace, options.grants, options.adapter), options.approvalsTimeout);
  let gateway: Gateway | undefined;
  let client: GatewayClient | undefined;
  const stop = async () => {
    client?.close();
    await gateway?.stop();
    await aegis.stop();
    model.stop();
  };
  try {
    await options.prepare?.(aegis, oc);
    await aegis.start();
    const config = gatewayConfig(oc, {
      modelBaseUrl: model.baseUrl,
      plugin: { endpoint: aegis.url, tokenFile: aegis.tokenFile, timeoutMs: options.pluginTimeoutMs ?? 60_000 },
      execMode: options.execMode,
      ...(options.mcp ? { mcp: { command: process.execPath, args: [MAIN, "mcp-server"], env: { AEGISCLAW_HOME: aegis.home }, cwd: ROOT } } : {}),
    });
    writeGatewayConfig(oc, config);
    gateway = await startGateway(oc);
    timings["gateway startup"] = gateway.startupMs;
    client = await connectGateway(gateway.url, oc.token);
  } catch (error) {
    await stop();
    throw error;
  }
  timings["harness startup"] = Math.round(performance.now() - began);
  const live = { gateway, client };

  const call = async (tool: string, args: Record<string, unknown>): Promise<CallResult> => {
    const id = `s${++sessions}-${crypto.getRandomValues(new Uint8Array(3)).toHex()}`;
    const marker = model.plan(id, { tool, args } satisfies ToolPlan);
    const turn = await live.client.turn(`agent:main:e2e-${id}`, `Please use the tool. ${marker}`).catch((error: Error) => {
      throw new Error(`${error.message}\n--- gateway output (tail) ---\n${live.gateway.process.output().slice(-3000)}`);
    });
    const toolResult = model.toolResult(id);
    if (toolResult === undefined) throw new Error(`the model never got a tool result for ${tool}; final: ${turn.text}`);
    return { turn, toolResult };
  };

  return {
    model,
    oc,
    gateway,
    aegis,
    client,
    timings,
    call,
    async time(name, fn) {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        timings[name] = Math.round(performance.now() - t0);
      }
    },
    async stop() {
      await stop();
      process.stderr.write(`openclaw e2e timings (ms): ${JSON.stringify(timings)}\n`);
    },
  };
}
