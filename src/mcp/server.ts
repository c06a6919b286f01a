import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import pkg from "../../package.json" with { type: "json" };
import type { App } from "../app.ts";
import type { Gate } from "../core/index.ts";
import { Redactor } from "../redact/index.ts";
import { mcpActorName, type ToolContext } from "./context.ts";
import { errorResult } from "./results.ts";
import { ExecInput, ExecOutput, SimulateOutput, SkillRunInput, SkillRunOutput, SkillsListInput, SkillsListOutput, VerifyInput, VerifyOutput } from "./schemas.ts";
import { sandboxExec } from "./tool-exec.ts";
import { auditVerify, policySimulate } from "./tool-inspect.ts";
import { skillRun, skillsList } from "./tool-skills.ts";

/** The MCP server of one home, and how to stop it cleanly. */
export interface AegisMcpServer {
  server: McpServer;
  /** Waits for every tool call still running (closing the connection cancels them) to record its result. */
  settle(): Promise<void>;
}

const INSTRUCTIONS = [
  "AegisClaw runs commands for you in a hardened, throw-away container instead of on the host:",
  "no network, no host files, no capabilities, unless the scopes you ask for are granted by policy.",
  "Every call is decided by policy, may wait for a person's approval, and is recorded in a tamper-evident audit log.",
  "Use policy_simulate to see whether a command would run, wait for approval, or be refused, without running it.",
  "Installed skills (skills_list) run with skill_run, under their own scopes and signature checks.",
].join(" ");

const SKILL_RUN_DESCRIPTION = [
  "Run one command of an installed AegisClaw skill (see skills_list), exactly like `aegisclaw skills run NAME [COMMAND] [ARGS] [--path NAME=DIR]`:",
  "the skill's signature is verified now against the trust store, the run gets only the skill's own image and scopes (path parameters bound to the directories in `paths`),",
  "and it passes the Gate like sandbox_exec: policy decides (an invalid signature is always denied), an ask waits for a person's approval, and the run is audited.",
  "Returns stdout and stderr (secrets redacted, each cut at 64 KiB), the exit code, the run id, the decision's reasons and the skill's signature status.",
  "An unknown skill or command, bad paths, a denial or a missing image come back as error results.",
].join(" ");

const EXEC_DESCRIPTION = [
  "Run one command in AegisClaw's hardened sandbox (uid 65534, read-only root, all capabilities dropped, seccomp, no network, no host paths, resource limits).",
  "The request passes AegisClaw's Gate: policy decides allow, deny or ask; an ask waits until a person approves or denies it",
  "(console, or `aegisclaw approvals approve RUN_ID`) or the approval times out; the decision and result are recorded in the audit log before and after the run.",
  "Returns stdout and stderr (secrets redacted, each cut at 64 KiB), the exit code, the run id and the decision's reasons.",
  "Denials, lockdown and invalid requests come back as error results with the reason.",
].join(" ");

/**
 * Builds the MCP server over one app: sandbox_exec, policy_simulate, audit_verify, skills_list
 * and skill_run, each with
 * a zod input schema, an output schema and truthful safety annotations. Every call goes through
 * the app's Gate (or, for audit_verify, the audit verifier) and every failure becomes a tool
 * error result: nothing a client sends can throw out of a handler. The caller connects a transport.
 */
export function createMcpServer(app: App, log: (line: string) => void): AegisMcpServer {
  const server = new McpServer({ name: "aegisclaw", title: "AegisClaw", version: pkg.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  let gate: Promise<Gate> | undefined;
  const redactor = new Redactor();
  const ctx: ToolContext = {
    app,
    gate: () =>
      (gate ??= app.gate().catch((error: unknown) => {
        gate = undefined;
        throw error;
      })),
    actor: () => ({ name: mcpActorName(server.server.getClientVersion()?.name), source: "mcp" }),
    runtimeOf: (input) => input.runtime ?? app.config.sandbox.runtime,
    // Diagnostics can quote a command line, which an agent may have filled with a credential.
    log: (line) => log(redactor.redactText(line)),
  };
  const running = new Set<Promise<CallToolResult>>();
  /** Runs a handler, tracked until it settles; an unexpected throw is still a tool error. */
  const track = (call: () => Promise<CallToolResult>): Promise<CallToolResult> => {
    const promise = call().catch((error: unknown) => errorResult(error));
    running.add(promise);
    void promise.finally(() => running.delete(promise));
    return promise;
  };

  server.registerTool(
    "sandbox_exec",
    {
      title: "Run a command in the AegisClaw sandbox",
      description: EXEC_DESCRIPTION,
      inputSchema: ExecInput,
      outputSchema: ExecOutput,
      // Not read-only and possibly destructive: with files.write a command changes host files;
      // open-world: with net.outbound it reaches hosts outside AegisClaw. Never idempotent.
      annotations: { title: "Run a command in the AegisClaw sandbox", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (input, extra) => track(() => sandboxExec(input, ctx, extra)),
  );

  server.registerTool(
    "policy_simulate",
    {
      title: "Preview AegisClaw's decision for a command",
      description:
        "What sandbox_exec would decide for the same arguments (run, ask a person, deny, lockdown), the policy's reasons, and the sandbox the command would get. Executes nothing and records nothing.",
      inputSchema: ExecInput,
      outputSchema: SimulateOutput,
      annotations: { title: "Preview AegisClaw's decision", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (input) => track(() => policySimulate(input, ctx)),
  );

  server.registerTool(
    "audit_verify",
    {
      title: "Verify the AegisClaw audit log",
      description:
        "Recompute every hash, the Merkle root and the signed checkpoints of AegisClaw's audit log (as `aegisclaw logs verify`). Intact: a normal result; tampered: an error result naming the first bad entry.",
      inputSchema: VerifyInput,
      outputSchema: VerifyOutput,
      annotations: { title: "Verify the AegisClaw audit log", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (input) => track(() => auditVerify(input, ctx)),
  );

  server.registerTool(
    "skills_list",
    {
      title: "List the installed AegisClaw skills",
      description:
        "The installed skills: version, description, scopes, each command with its scopes and the path parameters skill_run must bind, and the signature status verified now against the trust store (valid, unsigned, untrusted, invalid). Executes nothing and records nothing.",
      inputSchema: SkillsListInput,
      outputSchema: SkillsListOutput,
      annotations: { title: "List the installed AegisClaw skills", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    () => track(() => skillsList(ctx)),
  );

  server.registerTool(
    "skill_run",
    {
      title: "Run an installed AegisClaw skill",
      description: SKILL_RUN_DESCRIPTION,
      inputSchema: SkillRunInput,
      outputSchema: SkillRunOutput,
      // As sandbox_exec: a skill whose scopes include files.write changes host files, one with
      // net.outbound reaches other hosts; which skills are installed is up to the home, so worst case.
      annotations: { title: "Run an installed AegisClaw skill", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (input, extra) => track(() => skillRun(input, ctx, extra)),
  );

  return {
    server,
    async settle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
