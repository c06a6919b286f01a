import { loadOpenClawAdapterConfig, probeOnce, readGatewayToken, type AdapterHealth, type OpenClawAdapterConfig } from "../adapters/openclaw/index.ts";
import type { Check } from "./checks.ts";

/**
 * The OpenClaw adapter: disabled is a pass (with a note); enabled means the gateway must answer
 * `/readyz`, accept the token over WebSocket and have the AegisClaw plugin loaded.
 */
export async function checkOpenClaw(home: string): Promise<Check> {
  let config: OpenClawAdapterConfig;
  try {
    config = loadOpenClawAdapterConfig(home);
  } catch (error) {
    return { id: "openclaw", status: "fail", message: (error as Error).message, fix: "fix adapters/openclaw.yaml (docs/openclaw.md, section Adapter)" };
  }
  if (!config.enabled) return { id: "openclaw", status: "pass", message: "adapter disabled (adapters/openclaw.yaml); `aegisclaw openclaw setup` connects OpenClaw" };
  let health: AdapterHealth;
  try {
    health = await probeOnce(config, await readGatewayToken(home, config));
  } catch (error) {
    health = await probeOnce(config, undefined, (error as Error).message);
  }
  return judgeOpenClaw(health, config);
}

/** The check line for one probe result. */
export function judgeOpenClaw(health: AdapterHealth, config: OpenClawAdapterConfig): Check {
  if (health.state === "connected") return { id: "openclaw", status: "pass", message: `gateway ${config.endpoint}: ${health.status}` };
  if (health.state === "down") {
    return { id: "openclaw", status: "fail", message: `gateway ${config.endpoint}: ${health.readyz?.error ?? health.lastError ?? "no answer"}`, fix: "start it (`openclaw gateway run`), or correct endpoint in adapters/openclaw.yaml; `enabled: false` turns the adapter off" };
  }
  const fix = !health.websocket?.connected
    ? `store the gateway token (gateway.auth.token in openclaw.json): \`aegisclaw secrets set ${config.api_key_secret}\``
    : health.plugin && !health.plugin.loaded
      ? "run `aegisclaw openclaw setup`, then restart the OpenClaw gateway"
      : "wait for the gateway to finish starting (`/readyz`), or see its log";
  return { id: "openclaw", status: "warn", message: `gateway ${config.endpoint}: ${health.status}`, fix };
}
