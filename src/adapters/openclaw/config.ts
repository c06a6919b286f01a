import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { AegisError } from "../../shared/index.ts";

/**
 * `$AEGISCLAW_HOME/adapters/openclaw.yaml`: how AegisClaw reaches the OpenClaw gateway (health,
 * approval bridge) and what OpenClaw's tool calls are granted. The gateway token is never here:
 * `api_key_secret` names a secret in AegisClaw's store (`aegisclaw secrets set NAME`).
 * Field names follow the original tool (snake_case).
 */
export const OpenClawAdapterConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** The gateway's base URL (http or ws); loopback is the verified setup. */
    endpoint: z.url({ protocol: /^(https?|wss?)$/ }).default("http://127.0.0.1:18789"),
    /** Name of the secret holding the gateway token. */
    api_key_secret: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/).default("OPENCLAW_GATEWAY_TOKEN"),
    /** Budget for one health probe or gateway request. */
    timeout_ms: z.number().int().min(100).max(600_000).default(5000),
    /** Bridge OpenClaw's own exec/plugin approvals into AegisClaw's queue. */
    approval_bridge: z.boolean().default(true),
    /** The OpenClaw agent workspace: relative paths in tool calls resolve against it. */
    workspace: z.string().startsWith("/").optional(),
    /**
     * Scopes granted to OpenClaw tool calls, in addition to config.yaml's policy.grants
     * (e.g. `files.read:/home/me/.openclaw/workspace`, `tool.call:session_status`).
     */
    grants: z.array(z.string().min(1).max(4096)).max(256).default([]),
    /**
     * The name OpenClaw gives AegisClaw's own MCP server (`mcp.servers.<name>`): its tools
     * (`<name>__sandbox_exec`, ...) pass AegisClaw's Gate inside `aegisclaw mcp-server`.
     */
    mcp_server: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("aegisclaw"),
  })
  .strict();
export type OpenClawAdapterConfig = z.output<typeof OpenClawAdapterConfig>;

/** Where the adapter's config lives in a home. */
export function openClawConfigPath(home: string): string {
  return join(home, "adapters", "openclaw.yaml");
}

/**
 * Loads the adapter config; a missing file is the defaults (disabled). A file that does not
 * parse or validate is bad input naming the field, never a silent default.
 */
export function loadOpenClawAdapterConfig(home: string): OpenClawAdapterConfig {
  const path = openClawConfigPath(home);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return OpenClawAdapterConfig.parse({});
    throw new AegisError("bad-input", `cannot read ${path}: ${(error as Error).message}`);
  }
  return parseOpenClawAdapterConfig(text, path);
}

export function parseOpenClawAdapterConfig(text: string, file = "adapters/openclaw.yaml"): OpenClawAdapterConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new AegisError("bad-input", `${file}:${line}: invalid YAML: ${yamlError.message.split("\n")[0]}`, { hint: "fix the YAML syntax at that line" });
  }
  const result = OpenClawAdapterConfig.safeParse(document.toJS() ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join(".") || "(top level)";
  const node = issue ? (document.getIn(issue.path as unknown[], true) as { range?: [number, number, number] } | undefined) : undefined;
  const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : "";
  const unknown = issue?.code === "unrecognized_keys" ? ` ${issue.keys.join(", ")}` : "";
  throw new AegisError("bad-input", `${file}${line}: ${field}: ${issue?.message ?? "invalid"}${unknown}`, {
    hint: "fields: enabled, endpoint, api_key_secret, timeout_ms, approval_bridge, workspace, grants, mcp_server (docs/openclaw.md)",
  });
}
