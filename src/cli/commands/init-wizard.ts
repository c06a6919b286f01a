import { dockerRuntimes } from "../../doctor/engine-info.ts";
import type { PolicyTemplate } from "../../core/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";

export interface InitChoices {
  template: PolicyTemplate;
}

const TEMPLATES: Array<{ name: PolicyTemplate; text: string }> = [
  { name: "strict", text: "nothing granted by default; every run needs --scope shell.exec" },
  { name: "standard", text: "runs may execute commands in the no-network sandbox (recommended)" },
  { name: "permissive", text: "as standard today; looser rules arrive with the policy engine" },
];

/** The interactive part of `init`: shows what was detected, asks for the policy template. */
export async function askInitChoices(defaultTemplate: PolicyTemplate, ctx: CliContext): Promise<InitChoices> {
  const runtimes = await dockerRuntimes("/var/run/docker.sock");
  ctx.stderr("AegisClaw setup\n");
  ctx.stderr(`  Docker engine: ${runtimes ? "reachable" : "NOT reachable (runs will fail until it is started)"}\n`);
  ctx.stderr(`  gVisor (runsc): ${runtimes?.includes("runsc") ? "registered" : "not registered"}\n`);
  ctx.stderr(`  bubblewrap: ${Bun.which("bwrap") ? "installed" : "not installed"}\n\n`);
  ctx.stderr("Policy template:\n");
  TEMPLATES.forEach((template, index) => ctx.stderr(`  ${index + 1}) ${template.name.padEnd(10)} ${template.text}\n`));
  const defaultIndex = TEMPLATES.findIndex((template) => template.name === defaultTemplate) + 1;
  const answer = (prompt(`Choose 1-3 [${defaultIndex}]:`) ?? "").trim();
  const chosen = answer === "" ? TEMPLATES[defaultIndex - 1] : TEMPLATES[Number(answer) - 1] ?? TEMPLATES.find((t) => t.name === answer);
  if (!chosen) throw new AegisError("usage", `"${answer}" is not one of the choices`, { hint: "answer 1, 2 or 3, or use --template" });
  const confirm = (prompt(`Create the AegisClaw home with template ${chosen.name}? [Y/n]`) ?? "").trim().toLowerCase();
  if (confirm !== "" && confirm !== "y" && confirm !== "yes") throw new AegisError("usage", "setup cancelled; nothing was written");
  return { template: chosen.name };
}
