import type { ApprovalRequest } from "../../approvals/index.ts";
import type { AuditReason } from "../../audit/index.ts";
import { canonicalHash } from "../../shared/index.ts";

/** OpenClaw's two approval kinds the bridge takes. */
export type OpenClawApprovalKind = "exec" | "plugin";

/** The decisions OpenClaw accepts; the bridge only ever sends allow-once or deny. */
export type OpenClawDecision = "allow-once" | "allow-always" | "deny";

/** An `exec.approval.requested` / `plugin.approval.requested` payload, checked and trimmed. */
export interface OpenClawApproval {
  kind: OpenClawApprovalKind;
  /** OpenClaw's approval id (`plugin:` prefixed for plugin approvals). */
  id: string;
  /** exec: the command line; plugin: the tool name and the plugin's title. */
  command?: string;
  toolName?: string;
  title?: string;
  description?: string;
  pluginId?: string;
  cwd?: string;
  host?: string;
  agentId?: string;
  sessionKey?: string;
  runId?: string;
  toolCallId?: string;
  severity?: string;
  allowedDecisions: OpenClawDecision[];
  createdAtMs: number;
  expiresAtMs: number;
}

const DECISIONS = new Set<OpenClawDecision>(["allow-once", "allow-always", "deny"]);

/**
 * Reads an approval event's payload. Anything that is not a well-formed request yields
 * undefined (the bridge ignores it; OpenClaw then times it out, which denies).
 */
export function parseOpenClawApproval(kind: OpenClawApprovalKind, payload: unknown): OpenClawApproval | undefined {
  if (!isRecord(payload) || typeof payload.id !== "string" || payload.id.length === 0 || payload.id.length > 200) return undefined;
  const request = isRecord(payload.request) ? payload.request : {};
  const text = (key: string, max = 2000): string | undefined => {
    const value = request[key];
    return typeof value === "string" && value.length > 0 ? value.slice(0, max) : undefined;
  };
  const allowed = Array.isArray(request.allowedDecisions) ? request.allowedDecisions.filter((d): d is OpenClawDecision => DECISIONS.has(d as OpenClawDecision)) : ["allow-once" as const, "deny" as const];
  const now = Date.now();
  const createdAtMs = typeof payload.createdAtMs === "number" ? payload.createdAtMs : now;
  const expiresAtMs = typeof payload.expiresAtMs === "number" ? payload.expiresAtMs : now + 120_000;
  const approval: OpenClawApproval = { kind, id: payload.id, allowedDecisions: allowed, createdAtMs, expiresAtMs };
  const fields: Array<[keyof OpenClawApproval, string | undefined]> = [
    ["command", text("command", 8000)],
    ["toolName", text("toolName", 200)],
    ["title", text("title", 200)],
    ["description", text("description", 1000)],
    ["pluginId", text("pluginId", 200)],
    ["cwd", text("cwd", 1000)],
    ["host", text("host", 100)],
    ["agentId", text("agentId", 200)],
    ["sessionKey", text("sessionKey", 500)],
    ["runId", text("runId", 200)],
    ["toolCallId", text("toolCallId", 200)],
    ["severity", text("severity", 50)],
  ];
  for (const [key, value] of fields) if (value !== undefined) (approval as unknown as Record<string, unknown>)[key] = value;
  if (kind === "exec" && !approval.command) return undefined;
  return approval;
}

/** What the request is about, in words: exec's command line, or the plugin's tool and title. */
export function approvalArgv(approval: OpenClawApproval): string[] {
  if (approval.kind === "exec") return [approval.command ?? ""];
  return [approval.toolName ?? approval.pluginId ?? "plugin", ...(approval.title ? [approval.title] : [])];
}

/** The request summary of the audit decision entry (never a secret: OpenClaw's own fields). */
export function approvalSummary(approval: OpenClawApproval): Record<string, unknown> {
  const { kind, id, allowedDecisions, createdAtMs, expiresAtMs, ...rest } = approval;
  return {
    adapter: "openclaw",
    approvalKind: kind,
    openclawApprovalId: id,
    argv: approvalArgv(approval),
    ...rest,
    allowedDecisions,
    openclawCreatedAt: new Date(createdAtMs).toISOString(),
    openclawExpiresAt: new Date(expiresAtMs).toISOString(),
    execution: kind === "exec" ? `OpenClaw host (${approval.host ?? "gateway"})` : `OpenClaw plugin ${approval.pluginId ?? "?"}`,
  };
}

/** The hash a person's answer is bound to: the canonical summary, so a different request cannot borrow it. */
export function approvalHash(approval: OpenClawApproval): string {
  return canonicalHash(approvalSummary(approval));
}

/** Why the request is in the queue, for the person and the audit log. */
export function approvalReasons(approval: OpenClawApproval): AuditReason[] {
  const what = approval.kind === "exec" ? `run \`${approval.command ?? ""}\` on the OpenClaw host${approval.cwd ? ` in ${approval.cwd}` : ""}` : `${approval.title ?? "a plugin approval"}${approval.description ? `: ${approval.description}` : ""}`;
  const who = [approval.agentId ? `agent ${approval.agentId}` : "", approval.sessionKey ? `session ${approval.sessionKey}` : ""].filter(Boolean).join(", ");
  return [{ rule: `openclaw.${approval.kind}-approval`, message: `OpenClaw asks to ${what}${who ? ` (${who})` : ""}; approval id ${approval.id}`.slice(0, 2000) }];
}

/** The queue entry a person sees; it expires at the earlier of AegisClaw's timeout and OpenClaw's. */
export function approvalRequest(approval: OpenClawApproval, runId: string, timeoutMs: number, now = Date.now()): ApprovalRequest {
  const expires = Math.min(now + timeoutMs, approval.expiresAtMs);
  return {
    id: runId,
    requestHash: approvalHash(approval),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(Math.max(now, expires)).toISOString(),
    actor: { name: "openclaw", source: "openclaw" },
    argv: approvalArgv(approval),
    image: approval.kind === "exec" ? "openclaw host (not sandboxed)" : `openclaw plugin ${approval.pluginId ?? ""}`.trim(),
    runtime: "openclaw",
    scopes: approval.kind === "exec" ? [{ scope: "shell.exec", risk: "high" }] : [{ scope: `tool.call:${approval.toolName ?? "unknown"}`, risk: "high" }],
    reasons: approvalReasons(approval),
    risk: "high",
    pid: process.pid,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
