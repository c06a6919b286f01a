import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ApprovalResolution } from "../approvals/index.ts";
import type { EventEnvelope, RunOutcome, RunRequest } from "../core/index.ts";
import { progressReporter, type ToolContext, type ToolExtra } from "./context.ts";
import { CappedOutput, dataResult, errorResult, formatReasons } from "./results.ts";
import type { ExecInput, ExecOutput } from "./schemas.ts";

/** The Gate request of a sandbox_exec / policy_simulate call; the actor is always the MCP client. */
export function execRequest(input: ExecInput, actor: RunRequest["actor"]): RunRequest {
  return {
    actor,
    argv: input.argv,
    grants: input.scopes ?? [],
    ...(input.image !== undefined ? { image: input.image } : {}),
    ...(input.timeoutSeconds !== undefined ? { timeoutMs: input.timeoutSeconds * 1000 } : {}),
    ...(input.runtime !== undefined ? { runtime: input.runtime } : {}),
  };
}

/** What one run through the Gate produced: its outcome, the capped streams, and a person's answer if asked. */
export interface GatedRun {
  outcome: RunOutcome;
  stdout: CappedOutput;
  stderr: CappedOutput;
  approval?: ApprovalResolution;
}

/**
 * sandbox_exec: one command through the whole Gate (validate, lockdown, policy, audit, approval,
 * hardened sandbox, redaction, audit). An `ask` waits here for a person answering in the console
 * or with `aegisclaw approvals approve ID`; the client's cancel (or the server stopping) withdraws
 * the request or kills the sandbox. Deny, lockdown and bad input come back as error results.
 */
export function sandboxExec(input: ExecInput, ctx: ToolContext, extra: ToolExtra): Promise<CallToolResult> {
  return runGated(execRequest(input, ctx.actor()), input.argv.join(" "), ctx, extra, (run) => execResult(run, ctx.runtimeOf(input)));
}

/**
 * Runs `request` through the Gate for a tool call (sandbox_exec, skill_run): output collected
 * and capped, approvals waited for with progress notes and a stderr line naming how to answer,
 * the client's cancel passed on. A refusal or failure is an error result naming the run.
 */
export async function runGated(request: RunRequest, what: string, ctx: ToolContext, extra: ToolExtra, shape: (run: GatedRun) => CallToolResult): Promise<CallToolResult> {
  const stdout = new CappedOutput();
  const stderr = new CappedOutput();
  const progress = progressReporter(extra);
  let runId: string | undefined;
  let approval: ApprovalResolution | undefined;
  const unsubscribe = ctx.app.bus.subscribe((event: EventEnvelope) => {
    if (event.type !== "approval.resolved") return;
    const resolution = (event as EventEnvelope<"approval.resolved">).data;
    if (resolution.id !== runId) return;
    approval = resolution;
    ctx.log(`run ${resolution.id}: ${describeAnswer(resolution)}`);
    progress.note(describeAnswer(resolution));
  });
  try {
    const gate = await ctx.gate();
    const outcome = await gate.run(request, {
      stdout: (chunk) => stdout.push(chunk),
      stderr: (chunk) => stderr.push(chunk),
      signal: extra.signal,
      onDecision: ({ runId: id, decision }) => {
        runId = id;
        if (decision.kind !== "ask") return progress.note(`decision ${decision.kind}; running`);
        const how = `aegisclaw approvals approve ${id} (or deny), or the console (aegisclaw)`;
        ctx.log(`run ${id} (${what}) waits for a person's approval: ${how}`);
        progress.note(`waiting for a person's approval: ${how}`);
      },
    });
    return shape({ outcome, stdout, stderr, ...(approval ? { approval } : {}) });
  } catch (error) {
    const answered = approval ? `; ${describeAnswer(approval)}` : "";
    return errorResult(error, runId ? `run ${runId}${answered} (\`aegisclaw logs explain ${runId}\` shows its audit trail)` : undefined);
  } finally {
    progress.stop();
    unsubscribe();
  }
}

/** A run that executed as a tool result; `heading` (e.g. the skill) starts the summary, `more` joins the data. */
export function execResult(run: GatedRun, runtime: string, heading?: string, more: Record<string, unknown> = {}): CallToolResult {
  const { outcome, stdout, stderr, approval } = run;
  const { decision } = outcome;
  const data: ExecOutput = {
    runId: outcome.runId,
    requestHash: outcome.requestHash,
    exitCode: outcome.exitCode,
    timedOut: outcome.timedOut,
    ...(outcome.killedBy ? { killedBy: outcome.killedBy } : {}),
    durationMs: outcome.durationMs,
    stdout: stdout.text(),
    stderr: stderr.text(),
    stdoutBytes: outcome.stdoutBytes,
    stderrBytes: outcome.stderrBytes,
    truncated: stdout.truncated || stderr.truncated,
    decision: { kind: decision.kind, risk: decision.risk, reasons: decision.reasons },
    ...(approval ? { approval: { outcome: approval.outcome, by: approval.by, via: approval.via } } : {}),
  };
  const ended = outcome.killedBy ? `; killed by AegisClaw (${outcome.killedBy})` : "";
  const summary = [
    ...(heading ? [heading] : []),
    `exit code ${outcome.exitCode}${ended} · run ${outcome.runId} · ${outcome.durationMs} ms in the ${runtime} sandbox`,
    `decision: ${decision.kind} (risk ${decision.risk}): ${formatReasons(decision.reasons)}`,
    ...(approval ? [describeAnswer(approval).replace("approval ", "approval: ")] : []),
  ].join("\n");
  const streams = [...(data.stdout ? [`stdout:\n${data.stdout}`] : []), ...(data.stderr ? [`stderr:\n${data.stderr}`] : [])];
  // A run that lockdown killed did not finish on its own terms: the agent must not read it as done.
  return dataResult(summary, { ...data, ...more }, streams, outcome.killedBy === "lockdown");
}

/** How a person (or the timeout) answered: `approval approved by ada via cli`. */
function describeAnswer(resolution: ApprovalResolution): string {
  if (resolution.outcome === "expired") return "approval expired: nobody answered in time";
  return `approval ${resolution.outcome} by ${resolution.by} via ${resolution.via}${resolution.scope === "session" ? " (approved for the session)" : ""}`;
}
