import type { OpenClawAdapterConfig } from "./config.ts";
import { gatewayHttpUrl, GatewayClient } from "./gateway-client.ts";

/** disabled (openclaw.yaml says so) | connecting (first probe under way) | connected | degraded (reachable, not all well) | down. */
export type AdapterState = "disabled" | "connecting" | "connected" | "degraded" | "down";

/** The OpenClaw plugin's id: `health.plugins.loaded` must list it for tool calls to be gated. */
export const PLUGIN_ID = "aegisclaw";

/** The adapter's health as every front end shows it (status API, console, web, doctor). */
export type AdapterHealth = {
  name: "openclaw";
  state: AdapterState;
  /** One line for people: state, latencies, plugin, error. */
  status: string;
  endpoint?: string;
  checkedAt: string;
  /** Gateway `GET /readyz` (unauthenticated). */
  readyz?: { ok: boolean; httpStatus?: number; latencyMs?: number; failing?: string[]; error?: string };
  /** The WebSocket connection: connected, handshake time, last `health` round trip, last event (tick) time. */
  websocket?: { connected: boolean; connectMs?: number; latencyMs?: number; lastHeartbeatAt?: string };
  /** Whether the gateway's `health.plugins.loaded` lists the AegisClaw plugin (unknown without WS). */
  plugin?: { loaded: boolean };
  /** The approval bridge: on or off, and how many bridged requests wait. */
  bridge?: { enabled: boolean; pending: number };
  lastError?: string;
};

export interface ReadyzResult {
  ok: boolean;
  httpStatus?: number;
  latencyMs?: number;
  failing?: string[];
  error?: string;
}

/** One `GET /readyz` with a time budget. Unreachable, slow or not ready are results, never throws. */
export async function probeReadyz(endpoint: string, timeoutMs: number): Promise<ReadyzResult> {
  const started = performance.now();
  try {
    const response = await fetch(`${gatewayHttpUrl(endpoint)}/readyz`, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    const latencyMs = round(performance.now() - started);
    const body = (await response.json().catch(() => undefined)) as { ready?: unknown; failing?: unknown } | undefined;
    const failing = Array.isArray(body?.failing) ? body.failing.map(String).slice(0, 20) : undefined;
    const ok = response.status === 200 && body?.ready === true;
    return { ok, httpStatus: response.status, latencyMs, ...(failing ? { failing } : {}), ...(ok ? {} : { error: `not ready (HTTP ${response.status}${failing?.length ? `, failing: ${failing.join(", ")}` : ""})` }) };
  } catch (error) {
    const name = (error as Error).name;
    return { ok: false, error: name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `unreachable: ${(error as Error).message.slice(0, 200)}` };
  }
}

/** True when a gateway `health` payload lists the AegisClaw plugin as loaded. */
export function pluginLoaded(health: unknown): boolean {
  const loaded = (health as { plugins?: { loaded?: unknown } } | undefined)?.plugins?.loaded;
  return Array.isArray(loaded) && loaded.some((entry) => entry === PLUGIN_ID || (typeof entry === "object" && entry !== null && (entry as { id?: unknown }).id === PLUGIN_ID));
}

/** What the state is, from the parts. */
export function deriveState(parts: Pick<AdapterHealth, "readyz" | "websocket" | "plugin">): Exclude<AdapterState, "disabled" | "connecting"> {
  const { readyz, websocket, plugin } = parts;
  if (websocket?.connected && readyz?.ok && plugin?.loaded) return "connected";
  if (!websocket?.connected && !readyz?.ok && !readyz?.httpStatus) return "down";
  return "degraded";
}

/** The one-line status people read. */
export function describeHealth(health: Omit<AdapterHealth, "status">): string {
  // The words the console and dashboard have always shown for an adapter that is off.
  if (health.state === "disabled") return "not configured";
  if (health.state === "connecting") return `connecting to ${health.endpoint ?? "the gateway"}`;
  const parts: string[] = [health.state];
  if (health.websocket) parts.push(health.websocket.connected ? `ws ${health.websocket.latencyMs ?? "?"} ms` : "ws down");
  if (health.readyz) parts.push(health.readyz.ok ? `readyz ${health.readyz.latencyMs ?? "?"} ms` : `readyz ${health.readyz.httpStatus ?? "unreachable"}`);
  if (health.plugin) parts.push(health.plugin.loaded ? "plugin loaded" : "plugin NOT loaded");
  if (health.bridge?.enabled) parts.push(`bridge on${health.bridge.pending ? ` (${health.bridge.pending} pending)` : ""}`);
  if (health.state !== "connected" && health.lastError) parts.push(health.lastError);
  return parts.join(" · ");
}

/** Assembles a health value with its status line. */
export function healthOf(fields: Omit<AdapterHealth, "status" | "name" | "checkedAt"> & { checkedAt?: string }): AdapterHealth {
  const base = { name: "openclaw" as const, checkedAt: fields.checkedAt ?? new Date().toISOString(), ...fields };
  return { ...base, status: describeHealth(base) };
}

/** The health of a disabled adapter. */
export function disabledHealth(): AdapterHealth {
  return healthOf({ state: "disabled" });
}

/**
 * One probe, for `doctor` and `aegisclaw openclaw status`: `/readyz`, then a short WebSocket
 * connection (read scope only, no approval caps, so it never takes approvals from the bridge)
 * with one `health` request. `token` undefined = the token could not be read (`tokenError`).
 */
export async function probeOnce(config: OpenClawAdapterConfig, token: string | undefined, tokenError?: string): Promise<AdapterHealth> {
  if (!config.enabled) return disabledHealth();
  const readyz = await probeReadyz(config.endpoint, config.timeout_ms);
  if (token === undefined) {
    const error = tokenError ?? "no gateway token";
    return healthOf({ state: readyz.ok ? "degraded" : "down", endpoint: config.endpoint, readyz, websocket: { connected: false }, lastError: error });
  }
  const client = new GatewayClient({ endpoint: config.endpoint, token, timeoutMs: config.timeout_ms, reconnect: false, scopes: ["operator.read"], caps: [] });
  try {
    await client.connect();
    const { latencyMs, health } = await client.ping();
    const websocket = { connected: true, latencyMs, ...(client.connectMs !== undefined ? { connectMs: client.connectMs } : {}) };
    const plugin = { loaded: pluginLoaded(health) };
    const state = deriveState({ readyz, websocket, plugin });
    const lastError = !plugin.loaded ? `the AegisClaw plugin is not loaded in OpenClaw (run \`aegisclaw openclaw setup\`, then restart the gateway)` : readyz.error;
    return healthOf({ state, endpoint: config.endpoint, readyz, websocket, plugin, ...(lastError ? { lastError } : {}) });
  } catch (error) {
    const message = (error as Error).message.slice(0, 300);
    return healthOf({ state: readyz.ok || readyz.httpStatus ? "degraded" : "down", endpoint: config.endpoint, readyz, websocket: { connected: false }, lastError: message });
  } finally {
    client.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The console's adapter line: the latest `adapter.health` any process of the home published
 * (`aegisclaw serve` holds the gateway connection), else what the config says.
 */
export function adapterLine(enabled: boolean | Error, latest: { status: string; checkedAt: string } | undefined): string {
  if (enabled instanceof Error) return `OpenClaw: adapters/openclaw.yaml is invalid (${enabled.message.slice(0, 120)})`;
  if (!enabled) return "OpenClaw: not configured";
  if (!latest) return "OpenClaw: enabled · no `aegisclaw serve` connected to the gateway yet";
  return `OpenClaw: ${latest.status}`;
}
