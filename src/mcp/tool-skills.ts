import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { parseDuration, type RunRequest } from "../core/index.ts";
import { prepareSkillRun, requireSkillImage, SkillRegistry, summarizeSkill, verifiedSkills, type SkillSummary } from "../skills/index.ts";
import { AegisError } from "../shared/index.ts";
import type { ToolContext, ToolExtra } from "./context.ts";
import { dataResult, errorResult } from "./results.ts";
import type { SkillRunInput, SkillsListOutput } from "./schemas.ts";
import { execResult, runGated } from "./tool-exec.ts";

/**
 * skills_list: the installed skills with their commands, scopes, path parameters and the
 * signature verified now against the trust store (the data of GET /api/v1/skills). Runs and
 * records nothing.
 */
export function skillsList(ctx: ToolContext): Promise<CallToolResult> {
  try {
    const skills = verifiedSkills(ctx.app.layout.skills).map(({ skill, verification }) => summarizeSkill(skill, verification));
    const data: SkillsListOutput = { skills };
    const text = skills.length === 0 ? "no skills are installed (a person installs one with `aegisclaw skills add DIR`)" : skills.map(describeSkill).join("\n\n");
    return Promise.resolve(dataResult(text, data));
  } catch (error) {
    return Promise.resolve(errorResult(error));
  }
}

/** `code-runner 1.0.0 — signature valid (publisher acme)`, its description, then one line per command. */
function describeSkill(skill: SkillSummary): string {
  const { signature } = skill;
  const who = signature.publisher ? ` (publisher ${signature.publisher})` : "";
  const lines = [`${skill.name} ${skill.version} — signature ${signature.status}${who}: ${signature.reason}`, `  ${skill.description}`];
  for (const command of skill.commands) {
    const paths = command.paths.length > 0 ? `; paths: ${command.paths.join(", ")}` : "";
    lines.push(`  ${command.name}${command.description ? `: ${command.description}` : ""} [scopes: ${command.scopes.join(", ") || "none"}${paths}]`);
  }
  return lines.join("\n");
}

/**
 * skill_run: one command of an installed skill, prepared exactly as `skills run` and the API
 * prepare it (src/skills/prepare.ts: signature checked now, the skill's own scopes and image,
 * path parameters bound), then through the Gate as sandbox_exec runs: policy (an invalid
 * signature is denied), approval, audit with source mcp, redacted and capped output.
 * An unknown skill or command, bad paths or a missing image are error results.
 */
export async function skillRun(input: SkillRunInput, ctx: ToolContext, extra: ToolExtra): Promise<CallToolResult> {
  let request: RunRequest;
  try {
    if (!new SkillRegistry(ctx.app.layout.skills).has(input.name)) {
      throw new AegisError("bad-input", `skill ${input.name.slice(0, 100)} is not installed`, { hint: "skills_list lists the installed skills; a person installs one with `aegisclaw skills add DIR`" });
    }
    const choice = { ...(input.command !== undefined ? { command: input.command } : {}), args: input.args ?? [] };
    const plan = prepareSkillRun(ctx.app.layout.skills, input.name, choice, input.paths ?? {}, parseDuration(ctx.app.config.sandbox.timeout));
    await requireSkillImage(ctx.app.runtime, plan);
    request = { actor: ctx.actor(), ...plan };
  } catch (error) {
    return errorResult(error);
  }
  const { skill } = request;
  if (!skill) return errorResult(new AegisError("internal", "a skill run was planned without its skill"));
  const label = `skill ${skill.name} ${skill.command}`;
  const more = {
    skill: { name: skill.name, version: skill.version, command: skill.command, signature: skill.signature, ...(skill.publisher ? { publisher: skill.publisher } : {}) },
  };
  const signed = `signature ${skill.signature}${skill.publisher ? ` (publisher ${skill.publisher})` : ""}`;
  return runGated(request, label, ctx, extra, (run) => execResult(run, ctx.runtimeOf({}), `${label} (${skill.version}, ${signed})`, more));
}
