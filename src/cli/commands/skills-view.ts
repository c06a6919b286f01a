import type { InstalledSkill, Verification } from "../../skills/index.ts";
import type { CliContext } from "../context.ts";

/** One phrase for a signature check: who signed, or why it does not count. */
export function describeVerification(verification: Verification): string {
  switch (verification.status) {
    case "valid":
      return `signed by ${verification.publisher} (key ${verification.keyId})`;
    case "untrusted":
      return `UNTRUSTED: signed by key ${verification.keyId}, which is not in the trust store`;
    case "unsigned":
      return "UNSIGNED";
    case "invalid":
      return `INVALID: ${verification.reason}`;
  }
}

/** `skills list`: each installed skill with its signature as checked now, scopes and commands. */
export function printSkillList(skills: ReadonlyArray<{ skill: InstalledSkill; verification: Verification }>, ctx: CliContext): void {
  if (ctx.json) {
    const rows = skills.map(({ skill, verification }) => {
      const { name, version, description, scopes, commands, services } = skill.parsed.manifest;
      const perService = services ? { services: Object.fromEntries(Object.entries(services).map(([service, definition]) => [service, definition.scopes])) } : {};
      return { name, version, description, imageId: skill.record.imageId, installedAt: skill.record.installedAt, signature: verification, scopes, ...perService, commands: Object.keys(commands) };
    });
    ctx.stdout(`${JSON.stringify({ skills: rows })}\n`);
    return;
  }
  if (skills.length === 0) {
    ctx.stdout("no skills installed (install one: aegisclaw skills add DIR; starter skills are in skills/)\n");
    return;
  }
  for (const { skill, verification } of skills) {
    const { name, version, description, scopes, commands } = skill.parsed.manifest;
    ctx.stdout(`${name} ${version}  ${describeVerification(verification)}\n`);
    ctx.stdout(`  ${description}\n`);
    ctx.stdout(`  scopes    ${scopes.join(", ") || "none"}\n`);
    for (const [service, definition] of Object.entries(skill.parsed.manifest.services ?? {})) {
      ctx.stdout(`  service   ${service}: ${definition.scopes.join(", ") || "no scopes"}\n`);
    }
    for (const [command, definition] of Object.entries(commands)) {
      const where = definition.service ? ` (in ${definition.service})` : "";
      ctx.stdout(`  command   ${command}${where}${definition.description ? `: ${definition.description}` : ""}\n`);
    }
  }
}

/** Asks one y/N question on the terminal; only y or yes is a yes. */
export function confirmOnTerminal(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stderr(question);
  return new Promise((resolve) => {
    let line = "";
    const onData = (chunk: Buffer | string) => {
      line += chunk.toString();
      const newline = line.indexOf("\n");
      if (newline === -1) return;
      process.stdin.off("data", onData);
      process.stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(line.slice(0, newline)));
    };
    process.stdin.on("data", onData);
    process.stdin.resume();
  });
}
