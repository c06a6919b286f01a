import { AegisError } from "../../shared/index.ts";
import { PLUGIN_ID } from "./health.ts";

/** OpenClaw's native tools that `setup` denies, so that commands and file changes go through AegisClaw's sandbox (its MCP tools). */
export const DENIED_NATIVE_TOOLS = ["exec", "process", "write", "edit", "apply_patch"];

/** What `setup` merges into openclaw.json. */
export interface SetupPlan {
  /** Absolute path of the plugin directory (adapters/openclaw/plugin). */
  pluginDir: string;
  /** AegisClaw's API base URL the plugin calls. */
  endpoint: string;
  /** The 0600 file holding the plugin's operator API token. */
  tokenFile: string;
  /** The plugin's decision budget (a person's approval included). */
  timeoutMs: number;
  /** `mcp.servers.<name>`. */
  mcpServer: string;
  /** How OpenClaw starts `aegisclaw mcp-server`. */
  mcpCommand: { command: string; args: string[]; env: Record<string, string> };
}

type Json = Record<string, unknown>;

/**
 * Parses openclaw.json (JSON5). Anything but an object, or text that does not parse, is bad
 * input naming the file, line and column; nothing is written then.
 */
export function parseOpenClawJson(text: string, file: string): Json {
  let parsed: unknown;
  try {
    parsed = text.trim() === "" ? {} : Bun.JSON5.parse(text);
  } catch (error) {
    // Bun's JSON5 errors carry no position of their own (their line/column are the caller's).
    const message = (error as Error).message.replace(/^JSON5 Parse error: /, "");
    throw new AegisError("bad-input", `${file}: not valid JSON5: ${message}`, { hint: "fix the file (`openclaw config validate` shows where); nothing was changed" });
  }
  if (!isObject(parsed)) throw new AegisError("bad-input", `${file}: the top level must be an object`, { hint: "fix the file; nothing was changed" });
  return parsed;
}

/**
 * Returns a copy of `config` with the AegisClaw plugin, MCP server and hardening merged in.
 * Existing unrelated settings are kept; lists get our entries appended once (so a second run
 * changes nothing). A field of the wrong type is bad input rather than silently replaced.
 */
export function mergeOpenClawConfig(config: Json, plan: SetupPlan, file: string): Json {
  const next = structuredClone(config);
  const plugins = objectAt(next, ["plugins"], file);
  appendUnique(plugins, "allow", [PLUGIN_ID], file, "plugins.allow");
  appendUnique(objectAt(plugins, ["load"], file, "plugins.load"), "paths", [plan.pluginDir], file, "plugins.load.paths");
  const entry = objectAt(plugins, ["entries", PLUGIN_ID], file, `plugins.entries.${PLUGIN_ID}`);
  entry.enabled = true;
  const pluginConfig = objectAt(entry, ["config"], file, `plugins.entries.${PLUGIN_ID}.config`);
  pluginConfig.endpoint = plan.endpoint;
  pluginConfig.tokenFile = plan.tokenFile;
  pluginConfig.timeoutMs = plan.timeoutMs;
  // The hook must outlive the plugin's own budget, or OpenClaw blocks the call first.
  const hooks = objectAt(entry, ["hooks"], file, `plugins.entries.${PLUGIN_ID}.hooks`);
  hooks.timeoutMs = Math.min(600_000, plan.timeoutMs + 5000);

  const servers = objectAt(next, ["mcp", "servers"], file, "mcp.servers");
  servers[plan.mcpServer] = { ...(isObject(servers[plan.mcpServer]) ? (servers[plan.mcpServer] as Json) : {}), command: plan.mcpCommand.command, args: plan.mcpCommand.args, env: plan.mcpCommand.env };

  const tools = objectAt(next, ["tools"], file);
  // AegisClaw's MCP tools must be direct schemas, not hidden behind tool_search (notes §3).
  tools.toolSearch = false;
  appendUnique(tools, "deny", DENIED_NATIVE_TOOLS, file, "tools.deny");
  objectAt(tools, ["exec"], file, "tools.exec").mode = "ask";
  return next;
}

/** The gateway's base URL from openclaw.json (`gateway.port`, default 18789; loopback). */
export function gatewayEndpointOf(config: Json): string {
  const gateway = isObject(config.gateway) ? config.gateway : {};
  const port = typeof gateway.port === "number" && Number.isInteger(gateway.port) && gateway.port > 0 && gateway.port < 65536 ? gateway.port : 18789;
  return `http://127.0.0.1:${port}`;
}

/** `agents.defaults.workspace` when it is an absolute path (`~/` expanded against `home`). */
export function workspaceOf(config: Json, home: string): string | undefined {
  const agents = isObject(config.agents) ? config.agents : {};
  const defaults = isObject(agents.defaults) ? agents.defaults : {};
  const workspace = defaults.workspace;
  if (typeof workspace !== "string") return undefined;
  if (workspace.startsWith("~/")) return `${home}/${workspace.slice(2)}`;
  return workspace.startsWith("/") ? workspace : undefined;
}

function objectAt(root: Json, path: string[], file: string, name = path.join(".")): Json {
  let node = root;
  for (const key of path) {
    const value = node[key];
    if (value === undefined) node[key] = {};
    else if (!isObject(value)) throw new AegisError("bad-input", `${file}: ${name} must be an object`, { hint: "fix that field; nothing was changed" });
    node = node[key] as Json;
  }
  return node;
}

function appendUnique(node: Json, key: string, values: string[], file: string, name: string): void {
  const current = node[key];
  if (current !== undefined && !Array.isArray(current)) throw new AegisError("bad-input", `${file}: ${name} must be a list`, { hint: "fix that field; nothing was changed" });
  const list = (current as unknown[] | undefined) ?? [];
  node[key] = [...list, ...values.filter((value) => !list.includes(value))];
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
