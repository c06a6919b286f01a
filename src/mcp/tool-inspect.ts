import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { verifyLog } from "../audit/index.ts";
import type { ToolContext } from "./context.ts";
import { dataResult, errorResult, formatReasons } from "./results.ts";
import type { ExecInput, SimulateOutput, VerifyInput, VerifyOutput } from "./schemas.ts";
import { execRequest } from "./tool-exec.ts";

const OUTCOME_TEXT: Record<SimulateOutput["outcome"], string> = {
  run: "sandbox_exec would run it without asking anyone",
  ask: "sandbox_exec would wait for a person's approval (denied if nobody answers in time)",
  deny: "sandbox_exec would be denied",
  lockdown: "sandbox_exec would be refused: lockdown is active",
};

/**
 * policy_simulate: the Gate's `simulate`, the same stages as sandbox_exec up to the sandbox
 * profile. It executes nothing and records nothing; a request the Gate would reject as bad
 * input (unknown scope, forbidden mount) is an error result, as it would be for sandbox_exec.
 */
export async function policySimulate(input: ExecInput, ctx: ToolContext): Promise<CallToolResult> {
  try {
    const simulation = await ctx.app.simulator().simulate(execRequest(input, ctx.actor()));
    const { decision, sandbox } = simulation;
    const data: SimulateOutput = {
      outcome: simulation.outcome,
      approvalRequired: simulation.approvalRequired,
      requestHash: simulation.requestHash,
      decision: { kind: decision.kind, risk: decision.risk, reasons: decision.reasons },
      sandbox: { ...sandbox },
    };
    const summary = [
      `${OUTCOME_TEXT[simulation.outcome]} (decision ${decision.kind}, risk ${decision.risk})`,
      `reasons: ${formatReasons(decision.reasons)}`,
      `sandbox: ${sandbox.runtime}, user ${sandbox.user}, network ${sandbox.network}, capabilities ${sandbox.capabilities}, seccomp ${sandbox.seccomp}, mounts ${sandbox.mounts.map((m) => `${m.target} (${m.options})`).join(", ") || "none"}`,
      "nothing was executed or recorded",
    ].join("\n");
    return dataResult(summary, data);
  } catch (error) {
    return errorResult(error);
  }
}

/**
 * audit_verify: recomputes every hash, the Merkle root and the checkpoint signatures of this
 * home's audit log (`aegisclaw logs verify`). A log that fails verification is an error result
 * that still carries the report naming the first bad entry.
 */
export async function auditVerify(input: VerifyInput, ctx: ToolContext): Promise<CallToolResult> {
  try {
    const report = await verifyLog(ctx.app.layout.audit, input.publicKey === undefined ? {} : { publicKey: input.publicKey.toLowerCase() });
    const data: VerifyOutput = { ...report };
    if (report.ok) {
      const covered = report.latestCheckpoint ? `the latest signed checkpoint covers ${report.latestCheckpoint.treeSize}` : "no checkpoint yet";
      return dataResult(`audit log intact: ${report.entries} entries in ${report.segments} segment(s), ${report.checkpoints} checkpoint(s); ${covered}; root ${report.rootHash}`, data);
    }
    const f = report.failure;
    const where = f ? [f.seq !== undefined ? `entry ${f.seq}` : undefined, f.segment, f.line !== undefined ? `line ${f.line}` : undefined].filter(Boolean).join(", ") : "unknown";
    return dataResult(`audit log FAILED verification at ${where}: ${f?.reason ?? "unknown failure"}`, data, [], true);
  } catch (error) {
    return errorResult(error);
  }
}
