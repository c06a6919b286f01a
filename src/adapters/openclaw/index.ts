/**
 * The OpenClaw adapter (issue 10): adapter config, gateway WebSocket client, health, the
 * approval bridge and `openclaw setup`. Front ends import only this file.
 */
export { loadOpenClawAdapterConfig, OpenClawAdapterConfig, openClawConfigPath, parseOpenClawAdapterConfig } from "./config.ts";
export { startOpenClawAdapter, type OpenClawAdapter, type OpenClawAdapterDeps } from "./adapter.ts";
export { ApprovalBridge, type ApprovalBridgeDeps } from "./bridge.ts";
export { GatewayClient, GatewayRequestError, gatewayHttpUrl, gatewayWebSocketUrl, type GatewayClientOptions, type HelloOk } from "./gateway-client.ts";
export { adapterLine, disabledHealth, probeOnce, probeReadyz, type AdapterHealth, type AdapterState } from "./health.ts";
export { readGatewayToken } from "./token.ts";
export { findPluginDir, openClawSetup, type SetupOptions, type SetupReport } from "./setup.ts";
export { DENIED_NATIVE_TOOLS } from "./setup-merge.ts";
