// Types for the tests that import the plugin from TypeScript (the plugin itself is plain ESM).

export interface PluginSettings {
  endpoint: string;
  tokenFile?: string;
  timeoutMs: number;
  problem?: string;
}
export interface BlockResult {
  block: true;
  blockReason: string;
}
export interface HookOptions {
  timeoutMs?: number;
  priority?: number;
  matcher?: string[];
}
export interface PluginLogger {
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}
export interface PluginApi {
  pluginConfig?: Record<string, unknown>;
  logger?: PluginLogger;
  on(hook: string, handler: (event: any, ctx: any) => unknown, options?: HookOptions): void;
}
export interface Hooks {
  settings: PluginSettings;
  beforeToolCall(event: unknown, ctx?: unknown): Promise<BlockResult | undefined>;
  afterToolCall(event: unknown, ctx?: unknown): Promise<void>;
  pending: Map<string, { id: string; requestHash: string }>;
}

export function settingsFrom(config: unknown): PluginSettings;
export function toolCallBody(event: unknown, ctx?: unknown): Record<string, unknown>;
export function resultBody(requestHash: string, event: unknown): Record<string, unknown>;
export function createHooks(config: unknown, options?: { env?: Record<string, string | undefined>; logger?: PluginLogger }): Hooks;
export const id: string;
export const name: string;
export const description: string;
export function register(api: PluginApi): void;
declare const plugin: { id: string; name: string; description: string; register(api: PluginApi): void };
export default plugin;
