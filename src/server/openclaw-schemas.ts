import { z } from "zod";

/**
 * Bodies of the OpenClaw tool-call endpoints (the AegisClaw plugin inside OpenClaw calls them).
 * Limits match the Gate's ToolCallRequest context, so anything that passes here fits there;
 * unknown fields are errors, like everywhere in the API.
 */

const Identifier = (max: number, what: string) => z.string().min(1).max(max).describe(what);

/** `POST /openclaw/tool-calls`: one call as OpenClaw's `before_tool_call` hook sees it. */
export const ToolCallBody = z
  .object({
    toolName: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, "toolName must be an OpenClaw tool name (letters, digits, _ . : -)")
      .describe("The tool as OpenClaw calls it: exec, read, write, edit, apply_patch, web_fetch, `<mcp server>__<tool>`, ..."),
    params: z.record(z.string(), z.unknown()).describe("The tool's parameters as OpenClaw has them (`event.params`)."),
    toolCallId: Identifier(200, "OpenClaw's id of this tool call.").optional(),
    runId: Identifier(200, "OpenClaw's agent run.").optional(),
    agentId: Identifier(200, "The OpenClaw agent.").optional(),
    sessionKey: Identifier(500, "The OpenClaw session key.").optional(),
    sessionId: Identifier(200, "The OpenClaw session id.").optional(),
    requester: z
      .object({
        channel: Identifier(100, "The channel the message that started the run came from.").optional(),
        senderId: Identifier(200, "The channel's sender id (accepted, not recorded).").optional(),
        senderIsOwner: z.boolean().optional().describe("True only when OpenClaw resolved the sender as an owner."),
      })
      .strict()
      .optional()
      .describe("Who started the run, as far as OpenClaw could prove it."),
  })
  .strict();
export type ToolCallBody = z.output<typeof ToolCallBody>;

/** `POST /openclaw/tool-calls/{id}/result`: how an allowed call ended on OpenClaw's host. */
export const ToolResultBody = z
  .object({
    requestHash: z.string().regex(/^[0-9a-f]{64}$/, "requestHash must be the 64 hex characters of the allow verdict").describe("The allow verdict's requestHash."),
    status: z.enum(["completed", "failed", "blocked"]).describe("completed, failed, or blocked later (by OpenClaw or another plugin)."),
    exitCode: z.number().int().min(-1).max(255).optional().describe("The process's exit code, for exec."),
    durationMs: z.number().nonnegative().max(7 * 24 * 3_600_000).optional().describe("How long the tool ran."),
    error: z.string().max(2000).optional().describe("OpenClaw's error text (redacted before it is recorded)."),
  })
  .strict();
export type ToolResultBody = z.output<typeof ToolResultBody>;

/** Success bodies of the OpenClaw routes (the verdict is the shared `Results.verdict`). */
export const OpenClawResults = {
  toolResult: z.object({ seq: z.number().int().describe("The audit log entry of the result.") }),
} as const;
