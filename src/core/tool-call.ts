import { z } from "zod";
import { AUDIT_SOURCES } from "../audit/index.ts";
import { highestRisk, parseEnforceableScopes, parseRequestedScope, type PolicyInput, type Risk } from "../policy/index.ts";
import { AegisError, canonicalHash } from "../shared/index.ts";
import { coverage, newRunId, unique, type HistorySource } from "./gate-prepare.ts";

/**
 * A tool call an agent framework wants to make on its own host (OpenClaw's `exec`, `read`,
 * `web_fetch`, ...), already translated by its adapter into words and scopes. The Gate decides
 * it like a run (policy, approval, audit) but executes nothing: the agent's host does, and only
 * when the verdict is allow.
 */
export const ToolCallRequest = z
  .object({
    actor: z.object({ name: z.string().min(1).max(200), source: z.enum(AUDIT_SOURCES) }).strict(),
    adapter: z.enum(["openclaw"]),
    tool: z.string().min(1).max(200).regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, { message: "expected a tool name" }),
    argv: z
      .array(z.string().max(65_536).refine((arg) => !arg.includes("\0"), { message: "argument contains a NUL byte" }))
      .min(1)
      .max(4096)
      .describe("What the call does, in words: exec's command words, else the tool and its main parameter."),
    requested: z.array(z.string().max(4096)).max(256).describe("Scopes the call needs (request grammar), from the adapter's tool map."),
    grants: z.array(z.string().max(4096)).max(256).default([]).describe("The adapter's grants (adapters/openclaw.yaml): the only grants a tool call gets."),
    paramsDigest: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe("sha256 of the canonical JSON of the tool's full parameters: binds an approval to what a write writes, not only to where."),
    context: z
      .object({
        agentId: z.string().max(200).optional(),
        sessionKey: z.string().max(500).optional(),
        sessionId: z.string().max(200).optional(),
        runId: z.string().max(200).optional(),
        toolCallId: z.string().max(200).optional(),
        channel: z.string().max(100).optional(),
        senderIsOwner: z.boolean().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type ToolCallRequest = z.input<typeof ToolCallRequest>;
export type NormalizedToolCall = z.output<typeof ToolCallRequest>;

/** What the agent's host reports once an allowed call finished. */
export const ToolCallResult = z
  .object({
    status: z.enum(["completed", "failed", "blocked"]),
    exitCode: z.number().int().min(-1).max(255).optional(),
    durationMs: z.number().nonnegative().max(7 * 24 * 3_600_000).optional(),
    error: z.string().max(2000).optional(),
  })
  .strict();
export type ToolCallResult = z.infer<typeof ToolCallResult>;

/** Where a tool call runs, shown wherever a run shows its image and runtime. */
export const TOOL_CALL_IMAGE = "none (agent host)";
export const TOOL_CALL_RUNTIME = "openclaw-host";

/**
 * Everything runs on the agent's host, outside any sandbox: every scope a tool call needs is at
 * least high risk, whatever its kind's risk inside a sandbox.
 */
const HOST_RISK_FLOOR: Risk = "high";

/** A validated tool call with what the Gate's later stages need (the approval stage reads the same fields as a run's). */
export interface PreparedToolCall {
  request: NormalizedToolCall;
  runId: string;
  hash: string;
  spec: { image: string };
  policyInput: PolicyInput;
  summary: Record<string, unknown>;
}

/**
 * The validate stage for tool calls: schema, scopes, grants, canonical hash, policy input. A
 * requested scope is never granted by the request itself: unlike a run's --scope, a tool call
 * is the agent asking, not a person granting. Only the adapter's grants count: config.yaml's
 * policy.grants open things inside the sandbox, and a tool call runs on the host.
 */
export function prepareToolCall(input: ToolCallRequest, lockdown: boolean, history: HistorySource): PreparedToolCall {
  const parsed = ToolCallRequest.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AegisError("bad-input", `invalid tool call: ${issue?.path.join(".") || "request"}: ${issue?.message ?? "invalid"}`);
  }
  const request = parsed.data;
  const granted = parseEnforceableScopes(request.grants);
  const requested = unique(request.requested.map((text) => parseRequestedScope(text)));
  const hash = canonicalHash({ kind: "tool.call", ...request });
  const policyInput: PolicyInput = {
    action: "tool.call",
    actor: request.actor,
    argv: request.argv,
    image: TOOL_CALL_IMAGE,
    runtime: TOOL_CALL_RUNTIME,
    requested: requested.map((scope) => {
      const covered = coverage(scope, granted);
      return { ...covered, risk: highestRisk([covered.risk, HOST_RISK_FLOOR]) };
    }),
    granted: granted.map((scope) => ({ scope: scope.text, kind: scope.kind, risk: scope.risk })),
    skill: null,
    lockdown,
    guardrails: [],
    history: history(request.actor),
  };
  const summary = {
    adapter: request.adapter,
    tool: request.tool,
    argv: request.argv,
    granted: granted.map((scope) => scope.text),
    requested: requested.map((scope) => scope.text),
    ...(request.paramsDigest ? { paramsDigest: request.paramsDigest } : {}),
    execution: `${request.adapter} host (outside the sandbox)`,
    ...(Object.keys(request.context).length > 0 ? { context: request.context } : {}),
  };
  return { request, runId: newRunId(), hash, spec: { image: TOOL_CALL_IMAGE }, policyInput, summary };
}
