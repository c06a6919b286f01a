/**
 * What every front end does before a skill runs: read the installed skill, check its signature
 * now against today's trust store, pick its command, bind its path parameters and plan the Gate
 * request. `skills run`, the HTTP API and the MCP server share this, so the three cannot drift.
 */
import { AegisError } from "../shared/index.ts";
import { commandScopes } from "./manifest.ts";
import { SkillRegistry, type InstalledSkill } from "./registry.ts";
import { commandParameters, pickCommand, planSkillRun, type SkillRunPlan } from "./run.ts";
import { verifyManifest, type Verification } from "./signing.ts";
import { TrustStore } from "./trust.ts";

/** Which command with which arguments: `words` is `[COMMAND] [ARGS]` as typed (the CLI), or both named. */
export type CommandChoice = { words: readonly string[] } | { command?: string; args: readonly string[] };

/** Every installed skill with its signature as it verifies now. */
export function verifiedSkills(skillsRoot: string): Array<{ skill: InstalledSkill; verification: Verification }> {
  const registry = new SkillRegistry(skillsRoot);
  const trusted = new TrustStore(registry.trustFile).list();
  return registry.list().map((skill) => ({ skill, verification: verifyManifest(skill.parsed, skill.record.imageId, trusted) }));
}

/** An installed skill as the API and the MCP server list it: what a client needs to run each command. */
export interface SkillSummary {
  name: string;
  version: string;
  description: string;
  imageId: string;
  installedAt: string;
  signature: Verification;
  scopes: string[];
  commands: Array<{ name: string; description?: string; scopes: string[]; paths: string[] }>;
}

/** The summary of one verified skill; `paths` are the parameters a run must bind. */
export function summarizeSkill(skill: InstalledSkill, verification: Verification): SkillSummary {
  const { manifest } = skill.parsed;
  const commands = Object.entries(manifest.commands).map(([name, definition]) => {
    const scopes = commandScopes(manifest, definition);
    // A docker-compose command's services beside it take path parameters too.
    const paths = commandParameters(skill.parsed, definition);
    return { name, ...(definition.description ? { description: definition.description } : {}), scopes: scopes.map((scope) => scope.text), paths };
  });
  return { name: manifest.name, version: manifest.version, description: manifest.description, imageId: skill.record.imageId, installedAt: skill.record.installedAt, signature: verification, scopes: [...manifest.scopes], commands };
}

/**
 * Plans one run of installed skill `name`. Not installed is bad input (callers that can say
 * 404 check `SkillRegistry.has` first). An invalid signature is planned as such: the Gate's
 * built-in engine denies it and the denial is audited.
 */
export function prepareSkillRun(skillsRoot: string, name: string, choice: CommandChoice, paths: Readonly<Record<string, string>>, maxTimeoutMs?: number): SkillRunPlan {
  const registry = new SkillRegistry(skillsRoot);
  const skill = registry.get(name);
  const verification = verifyManifest(skill.parsed, skill.record.imageId, new TrustStore(registry.trustFile).list());
  const { command, args } =
    "words" in choice ? pickCommand(skill.parsed.manifest, choice.words) : choice.command === undefined ? pickCommand(skill.parsed.manifest, choice.args) : { command: choice.command, args: [...choice.args] };
  return planSkillRun(skill, verification, command, args, paths, maxTimeoutMs);
}

/** Refuses a run whose image was pruned since install (it would otherwise surface as the base image's "missing image" fix). */
export async function requireSkillImage(runtime: { hasImage(image: string): Promise<boolean> }, plan: Pick<SkillRunPlan, "image" | "skill">): Promise<void> {
  if (await runtime.hasImage(plan.image)) return;
  throw new AegisError("unavailable", `the image of skill ${plan.skill.name} (${plan.image}) is no longer in the Docker engine`, {
    hint: "install the skill again (`aegisclaw skills add DIR`); a rebuilt image is a new image, so a signed skill must be re-signed or its image loaded",
  });
}
