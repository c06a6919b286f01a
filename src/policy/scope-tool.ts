import type { ScopeRole } from "./scopes.ts";
import { targetError, unsafeCharacter } from "./scope-text.ts";

/** An agent tool name as OpenClaw and MCP spell it (`exec`, `session_status`, `github__create_issue`). */
const TOOL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
const MAX_NAME = 128;

/**
 * Validates a `tool.call` target. A request names one tool exactly. A grant names one tool or,
 * with a trailing `*`, every tool whose name starts with what precedes it (`github__*`; `*` alone
 * is every tool). A `*` anywhere else is refused, so a pattern never means more than it shows.
 */
export function parseToolTarget(raw: string, role: ScopeRole): string {
  const unsafe = unsafeCharacter(raw);
  if (unsafe !== undefined) throw targetError(`tool name ${unsafe}`);
  if (raw.includes("*")) {
    if (role === "request") throw targetError("a requested tool is one name, not a pattern with *", "write the tool's exact name, e.g. tool.call:session_status");
    const prefix = raw.slice(0, -1);
    if (!raw.endsWith("*") || prefix.includes("*")) {
      throw targetError("* may only end a tool name pattern", "write e.g. tool.call:github__* (every tool starting with github__) or tool.call:* (every tool)");
    }
    if (raw.length > MAX_NAME) throw targetError(`a tool name pattern is at most ${MAX_NAME} characters`);
    // The prefix must be able to start a valid name: `x` stands in for what * matches.
    if (prefix !== "" && !TOOL_NAME.test(`${prefix}x`)) throw targetError(nameRule(), "write e.g. tool.call:github__*");
    return raw;
  }
  if (!TOOL_NAME.test(raw)) throw targetError(nameRule(), "write the tool's exact name, e.g. tool.call:session_status");
  return raw;
}

/**
 * True when a `tool.call` grant target covers a requested tool name: undefined (a bare
 * `tool.call`) covers every tool, `prefix*` every name starting with prefix (case-sensitive, at
 * any length, the prefix itself included), anything else only the identical name.
 */
export function toolTargetCovers(grant: string | undefined, tool: string): boolean {
  if (grant === undefined) return true;
  if (grant.endsWith("*")) return tool.startsWith(grant.slice(0, -1));
  return grant === tool;
}

function nameRule(): string {
  return `a tool name is letters, digits and _ . : -, not starting with . : or -, at most ${MAX_NAME} characters`;
}
