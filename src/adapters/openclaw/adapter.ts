import type { AuditSink, EventBus, LockdownStore } from "../../core/index.ts";
import { ApprovalBridge, type BridgeQueue } from "./bridge.ts";
import { loadOpenClawAdapterConfig, type OpenClawAdapterConfig } from "./config.ts";
import { BRIDGE_CAPS, BRIDGE_SCOPES, GatewayClient } from "./gateway-client.ts";
import { deriveState, disabledHealth, healthOf, pluginLoaded, probeReadyz, type AdapterHealth, type ReadyzResult } from "./health.ts";
import { readGatewayToken } from "./token.ts";

/** What `aegisclaw serve` wires in (the app's parts; no module-level state). */
export interface OpenClawAdapterDeps {
  home: string;
  bus: EventBus;
  approvals: BridgeQueue;
  lockdown: LockdownStore;
  openAudit: () => Promise<AuditSink>;
  approvalTimeoutMs: number;
  log: (line: string) => void;
  /** Overrides adapters/openclaw.yaml (tests). */
  config?: OpenClawAdapterConfig;
  /** Overrides reading the token from the secret store (tests). */
  token?: () => Promise<string>;
  /** How often /readyz and `health` are probed (default 15 s, the gateway's tick interval). */
  probeIntervalMs?: number;
}

/** The running adapter: its current health, and stop. */
export interface OpenClawAdapter {
  health(): AdapterHealth;
  /** Probes now (readyz + health round trip) and publishes the result. */
  probe(): Promise<AdapterHealth>;
  stop(): Promise<void>;
}

/**
 * Starts the OpenClaw adapter of a serving process: a persistent gateway connection (the
 * approval bridge's, when `approval_bridge`), periodic `/readyz` and `health` probes, and
 * `adapter.health` events on the bus. It never blocks startup: an unreachable gateway is a
 * state (down) with a reason, retried with backoff.
 */
export function startOpenClawAdapter(deps: OpenClawAdapterDeps): OpenClawAdapter {
  let config: OpenClawAdapterConfig;
  try {
    config = deps.config ?? loadOpenClawAdapterConfig(deps.home);
  } catch (error) {
    // Like the tool-call endpoint (503 while the file is invalid), the server keeps serving; the
    // adapter is down and says why (doctor fails on it). Read once: restart serve after a fix.
    const message = (error as Error).message;
    deps.log(`aegisclaw serve: OpenClaw adapter off: ${message}`);
    const health = healthOf({ state: "down", lastError: message });
    return { health: () => health, probe: async () => health, stop: async () => {} };
  }
  if (!config.enabled) {
    const health = disabledHealth();
    return { health: () => health, probe: async () => health, stop: async () => {} };
  }
  return new RunningAdapter(deps, config);
}

class RunningAdapter implements OpenClawAdapter {
  private client: GatewayClient | undefined;
  private bridge: ApprovalBridge | undefined;
  private current: AdapterHealth;
  private readyz: ReadyzResult | undefined;
  private plugin: { loaded: boolean } | undefined;
  private lastError: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private probing: Promise<AdapterHealth> | undefined;

  constructor(
    private readonly deps: OpenClawAdapterDeps,
    private readonly config: OpenClawAdapterConfig,
  ) {
    this.current = healthOf({ state: "connecting", endpoint: config.endpoint, bridge: { enabled: config.approval_bridge, pending: 0 } });
    void this.probe();
    this.timer = setInterval(() => void this.probe(), deps.probeIntervalMs ?? 15_000);
  }

  health(): AdapterHealth {
    return this.current;
  }

  /**
   * Reads the token and opens the connection; a token that cannot be read (not stored yet, a
   * sealed store) is a reason in the health, retried at every probe.
   */
  private async start(): Promise<void> {
    let token: string;
    try {
      token = await (this.deps.token ?? (() => readGatewayToken(this.deps.home, this.config)))();
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) this.deps.log(`aegisclaw serve: OpenClaw adapter: ${message}`);
      this.lastError = message;
      return;
    }
    if (this.stopped || this.client) return;
    const bridged = this.config.approval_bridge;
    const client = new GatewayClient({
      endpoint: this.config.endpoint,
      token,
      timeoutMs: this.config.timeout_ms,
      scopes: bridged ? BRIDGE_SCOPES : ["operator.read"],
      caps: bridged ? BRIDGE_CAPS : ["tool-events"],
      // A local gateway restarts in seconds; waiting up to 10 s keeps approvals flowing soon after.
      backoff: { initialMs: 500, maxMs: 10_000 },
      onEvent: (event, payload) => this.bridge?.handleEvent(event, payload),
      onState: (state, error) => {
        if (state === "connected") {
          this.lastError = undefined;
          void this.bridge?.replayPending();
          void this.probe();
        } else if (state === "closed") {
          if (error && error !== "client closed") this.lastError = error;
          this.bridge?.disconnected(error ?? "closed");
          this.publish();
        }
      },
    });
    this.client = client;
    if (bridged) {
      this.bridge = new ApprovalBridge({
        queue: this.deps.approvals,
        gateway: client,
        audit: this.deps.openAudit,
        lockdown: this.deps.lockdown,
        timeoutMs: this.deps.approvalTimeoutMs,
        log: this.deps.log,
      });
    }
    client.connect().catch((error: Error) => {
      this.lastError = error.message;
      this.deps.log(`aegisclaw serve: OpenClaw adapter: ${error.message} (retrying)`);
      void this.probe();
    });
  }

  probe(): Promise<AdapterHealth> {
    this.probing ??= this.probeNow().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probeNow(): Promise<AdapterHealth> {
    if (!this.client) await this.start();
    this.readyz = await probeReadyz(this.config.endpoint, this.config.timeout_ms);
    const client = this.client;
    if (client?.connected) {
      try {
        const { health } = await client.ping();
        this.plugin = { loaded: pluginLoaded(health) };
      } catch (error) {
        this.lastError = (error as Error).message;
      }
    }
    return this.publish();
  }

  private publish(): AdapterHealth {
    const client = this.client;
    const websocket = {
      connected: client?.connected ?? false,
      ...(client?.connectMs !== undefined ? { connectMs: client.connectMs } : {}),
      ...(client?.lastLatencyMs !== undefined ? { latencyMs: client.lastLatencyMs } : {}),
      ...(client?.lastEventAt !== undefined ? { lastHeartbeatAt: new Date(client.lastEventAt).toISOString() } : {}),
    };
    const plugin = websocket.connected ? this.plugin : undefined;
    const notLoaded = plugin && !plugin.loaded ? "the AegisClaw plugin is not loaded in OpenClaw (run `aegisclaw openclaw setup`, then restart the gateway)" : undefined;
    const lastError = this.lastError ?? notLoaded ?? this.readyz?.error;
    // A client between its first attempts, with nothing gone wrong yet, is still connecting.
    const connecting = client !== undefined && !websocket.connected && lastError === undefined;
    const state = connecting ? "connecting" : deriveState({ ...(this.readyz ? { readyz: this.readyz } : {}), websocket, ...(plugin ? { plugin } : {}) });
    this.current = healthOf({
      state,
      endpoint: this.config.endpoint,
      ...(this.readyz ? { readyz: this.readyz } : {}),
      websocket,
      ...(plugin ? { plugin } : {}),
      bridge: { enabled: this.config.approval_bridge, pending: this.bridge?.pending() ?? 0 },
      ...(lastError ? { lastError } : {}),
    });
    if (!this.stopped) this.deps.bus.publish("adapter.health", this.current);
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.bridge?.close();
    this.client?.close();
    await this.probing?.catch(() => {});
  }
}
