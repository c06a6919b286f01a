import { isAbsolute, posix } from "node:path";
import { AegisError } from "../../shared/index.ts";
import type { OpenClawAdapterConfig } from "./config.ts";

/** One OpenClaw tool call as its `before_tool_call` hook sees it. */
export interface OpenClawToolCall {
  toolName: string;
  params: Record<string, unknown>;
}

/** The call in the Gate's terms: words for people and policy, scopes for the matcher. */
export interface MappedToolCall {
  argv: string[];
  requested: string[];
}

/**
 * Translates an OpenClaw tool call into the scopes it needs, so the user's policy decides it
 * with the same rules as everything else. Anything this map cannot read with certainty is bad
 * input (the plugin then blocks the call): a guess could name a scope narrower than what the
 * tool really touches.
 *
 * | tool | scopes |
 * | --- | --- |
 * | `exec` | `shell.exec:<program>` for a plain command, `shell.exec:sh` when it needs a shell; `tool.call:exec.elevated` when elevated |
 * | `read` | `files.read:<path>` |
 * | `write`, `edit` | `files.write:<path>` |
 * | `apply_patch` | `files.write:<path>` for every file the patch adds, updates, deletes or moves to |
 * | `web_fetch` | `net.outbound:<host>:<port>` |
 * | `<mcp_server>__*` | none: AegisClaw's own MCP tools pass the Gate again inside `aegisclaw mcp-server` |
 * | anything else | `tool.call:<name>` |
 */
export function mapToolCall(call: OpenClawToolCall, config: OpenClawAdapterConfig): MappedToolCall {
  const { toolName: tool, params } = call;
  if (!TOOL_NAME.test(tool)) throw bad(`tool name ${JSON.stringify(tool.slice(0, 80))} is not a tool name`);
  if (tool.startsWith(`${config.mcp_server}__`)) return { argv: [tool], requested: [] };
  switch (tool) {
    case "exec":
      return mapExec(params);
    case "read": {
      const path = filePath(tool, params, config);
      return { argv: [tool, path], requested: [`files.read:${path}`] };
    }
    case "write":
    case "edit": {
      const path = filePath(tool, params, config);
      return { argv: [tool, path], requested: [`files.write:${path}`] };
    }
    case "apply_patch": {
      const paths = patchPaths(params, config);
      return { argv: [tool, ...paths], requested: paths.map((path) => `files.write:${path}`) };
    }
    case "web_fetch": {
      const url = stringParam(tool, params, "url");
      return { argv: [tool, url], requested: [`net.outbound:${hostPort(url)}`] };
    }
    default:
      return { argv: [tool], requested: [`tool.call:${tool}`] };
  }
}

const TOOL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Words a shell passes through unchanged: no quoting, expansion, globbing, redirection or
 * separators. A command made only of them runs exactly these argv; anything else is judged
 * as what it is, a shell script (`shell.exec:sh`).
 */
const PLAIN_WORD = /^[A-Za-z0-9_./=:,@%+-]+$/;

function mapExec(params: Record<string, unknown>): MappedToolCall {
  const command = stringParam("exec", params, "command");
  const words = command.trim().split(/[ \t]+/);
  const plain = words.every((word) => PLAIN_WORD.test(word)) && isProgramName(words[0] ?? "");
  const argv = plain ? words : ["sh", "-c", command];
  const env = envPairs(params.env);
  const requested = [`shell.exec:${plain ? (words[0] ?? "sh") : "sh"}`];
  if (env.length > 0) requested[0] = "shell.exec:env";
  if (params.elevated === true) requested.push("tool.call:exec.elevated");
  return { argv: env.length > 0 ? ["env", ...env, ...argv] : argv, requested };
}

/** A bare program name or an absolute path: what `shell.exec:<program>` can name. */
function isProgramName(word: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(word) || (word.startsWith("/") && !word.split("/").includes(".."));
}

/** exec's `env` overrides as `NAME=value` words; they change what the command does, so policy sees them. */
function envPairs(env: unknown): string[] {
  if (env === undefined || env === null) return [];
  if (typeof env !== "object" || Array.isArray(env)) throw bad("exec: env must be an object of strings");
  return Object.entries(env as Record<string, unknown>).map(([name, value]) => {
    if (typeof value !== "string") throw bad(`exec: env.${name} must be a string`);
    return `${name}=${value}`;
  });
}

/** read/write/edit name their file as `path` (or the aliases `file_path`, `filePath`). */
function filePath(tool: string, params: Record<string, unknown>, config: OpenClawAdapterConfig): string {
  const given = [params.path, params.file_path, params.filePath].filter((value) => value !== undefined);
  if (given.length === 0) throw bad(`${tool}: no path`);
  const distinct = new Set(given);
  if (distinct.size > 1) throw bad(`${tool}: path, file_path and filePath disagree`);
  const [path] = given;
  if (typeof path !== "string" || path === "") throw bad(`${tool}: path must be a non-empty string`);
  return absolute(tool, path, config);
}

/** The files an apply_patch touches, from its `*** Add|Update|Delete File:` and `*** Move to:` lines. */
function patchPaths(params: Record<string, unknown>, config: OpenClawAdapterConfig): string[] {
  const patch = stringParam("apply_patch", params, "input");
  const paths: string[] = [];
  for (const line of patch.split(/\r?\n/)) {
    const match = /^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+)$/.exec(line);
    if (match?.[1]) paths.push(absolute("apply_patch", match[1].trim(), config));
  }
  if (paths.length === 0) throw bad("apply_patch: the patch names no file");
  return [...new Set(paths)];
}

/** Relative paths are the workspace's; `~` is refused (whose home it means is the gateway's, not ours to guess). */
function absolute(tool: string, path: string, config: OpenClawAdapterConfig): string {
  if (path.includes("\0")) throw bad(`${tool}: path contains a NUL byte`);
  if (path.startsWith("~")) throw bad(`${tool}: path ${JSON.stringify(path)} starts with ~, which AegisClaw does not expand`);
  if (isAbsolute(path)) return path;
  if (!config.workspace) {
    throw bad(`${tool}: relative path ${JSON.stringify(path)} and no workspace in adapters/openclaw.yaml`, "set workspace: to the OpenClaw agent workspace (aegisclaw openclaw setup does)");
  }
  return posix.join(config.workspace, path);
}

function hostPort(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(`web_fetch: ${JSON.stringify(url.slice(0, 200))} is not a URL`);
  }
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : parsed.protocol === "http:" ? "80" : "");
  if (!port) throw bad(`web_fetch: only http and https URLs are understood, not ${parsed.protocol}`);
  return `${parsed.hostname}:${port}`;
}

function stringParam(tool: string, params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== "string" || value.trim() === "") throw bad(`${tool}: ${name} must be a non-empty string`);
  return value;
}

function bad(message: string, hint = "the call is blocked; check the tool's parameters"): AegisError {
  return new AegisError("bad-input", `cannot map the OpenClaw tool call: ${message}`, { hint });
}
