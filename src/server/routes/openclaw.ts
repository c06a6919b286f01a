import { loadOpenClawAdapterConfig, type OpenClawAdapterConfig } from "../../adapters/openclaw/config.ts";
import { mapToolCall } from "../../adapters/openclaw/tool-map.ts";
import { canonicalHash, isAegisError } from "../../shared/index.ts";
import type { ServerContext } from "../context.ts";
import { HttpError, json } from "../http.ts";
import { ToolCallLedger } from "../openclaw-ledger.ts";
import { OpenClawResults, ToolCallBody, ToolResultBody } from "../openclaw-schemas.ts";
import { caller, route } from "../route.ts";
import { Results } from "../schemas.ts";
import { holdForApproval, VERDICT_RESPONSES, verdictResponse } from "../verdict.ts";

type ToolCallContext = { agentId?: string; sessionKey?: string; sessionId?: string; runId?: string; toolCallId?: string; channel?: string; senderIsOwner?: boolean };

/**
 * One ledger per server (keyed by its context, so servers in one process stay apart and no
 * module-level state outlives a server).
 */
const ledgers = new WeakMap<ServerContext, ToolCallLedger>();

function ledgerOf(ctx: ServerContext): ToolCallLedger {
  let ledger = ledgers.get(ctx);
  if (!ledger) ledgers.set(ctx, (ledger = new ToolCallLedger()));
  return ledger;
}

/**
 * The adapter config as it is on disk now (an edit takes effect on the next call). A file that
 * does not validate refuses every call, naming the field: never a silent fallback to defaults.
 */
function adapterConfig(ctx: ServerContext): OpenClawAdapterConfig {
  try {
    return loadOpenClawAdapterConfig(ctx.app.layout.root);
  } catch (error) {
    if (!isAegisError(error, "bad-input")) throw error;
    throw new HttpError(503, "adapter-config-invalid", error.message, { hint: error.hint ?? "fix adapters/openclaw.yaml (docs/openclaw.md)" });
  }
}

/** The gate for OpenClaw's tool calls (the AegisClaw plugin's before/after_tool_call hooks). */
export const openClawRoutes = [
  route<ToolCallBody>({
    key: "POST /api/v1/openclaw/tool-calls",
    summary:
      "Decides one OpenClaw tool call before OpenClaw runs it on its host: the call is mapped to scopes (adapters/openclaw.yaml grants apply), then validate -> lockdown -> policy -> audit -> approval (an ask waits for a person, up to approvals.timeout; a client that disconnects withdraws it) -> audit. Answers like POST /decide: 200 allow, 403 deny, 423 lockdown, the body always the verdict.",
    body: ToolCallBody,
    responses: { ...VERDICT_RESPONSES, 400: "Invalid body, or a call the tool map cannot read (nothing is recorded).", 503: "adapters/openclaw.yaml is invalid (`adapter-config-invalid`)." },
    result: Results.verdict,
    handle: async (call, ctx) => {
      const signal = holdForApproval(call, ctx);
      const config = adapterConfig(ctx);
      const { toolName, params, requester } = call.body;
      const { argv, requested } = mapToolCall({ toolName, params }, config);
      const actor = { name: caller(call).name, source: "openclaw" as const };
      const verdict = await ctx.gate.decideToolCall({ actor, adapter: "openclaw", tool: toolName, argv, requested, grants: config.grants, paramsDigest: canonicalHash(params), context: contextOf(call.body, requester) }, signal);
      if (verdict.verdict === "allow") ledgerOf(ctx).remember(verdict.id, verdict.requestHash, actor.name);
      return verdictResponse(verdict);
    },
  }),
  route<ToolResultBody>({
    key: "POST /api/v1/openclaw/tool-calls/{id}/result",
    summary: "Records how an allowed tool call ended on OpenClaw's host (the audit `result` entry of its id). Once per call, by the token that asked, for the request hash it was allowed for.",
    body: ToolResultBody,
    responses: { 201: "Recorded.", 404: "No tool call with this id was allowed for this token by this server (since it started).", 409: "Already reported, or the requestHash does not match (`hash-mismatch`)." },
    result: OpenClawResults.toolResult,
    handle: async (call, ctx) => {
      const id = call.params.id ?? "";
      const name = caller(call).name;
      const { requestHash, ...result } = call.body;
      const ledger = ledgerOf(ctx);
      ledger.claim(id, name, requestHash);
      try {
        const { seq } = await ctx.gate.recordToolResult({ actor: { name, source: "openclaw" }, id, requestHash, result });
        return json({ seq }, 201);
      } catch (error) {
        ledger.release(id);
        throw error;
      }
    },
  }),
];

/** The Gate's context: OpenClaw's identifiers that are present (senderId is not recorded). */
function contextOf(body: ToolCallBody, requester: ToolCallBody["requester"]): ToolCallContext {
  const { toolCallId, runId, agentId, sessionKey, sessionId } = body;
  const all: ToolCallContext = { agentId, sessionKey, sessionId, runId, toolCallId, channel: requester?.channel, senderIsOwner: requester?.senderIsOwner };
  const present: ToolCallContext = {};
  for (const key of Object.keys(all) as Array<keyof ToolCallContext>) if (all[key] !== undefined) Object.assign(present, { [key]: all[key] });
  return present;
}
