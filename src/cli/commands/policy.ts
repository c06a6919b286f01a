import { createApp } from "../../app.ts";
import { PolicyTemplate, setPolicyTemplate } from "../../core/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";

/** One-line summaries of the templates (full text: policies/README.md, `policy show NAME`). */
export const TEMPLATE_SUMMARIES: Record<PolicyTemplate, string> = {
  strict: "deny anything not granted; ask for every shell.exec and net.outbound and anything high-risk",
  standard: "allow granted low/medium-risk scopes; ask for high/critical ones and for unsigned skills",
  permissive: "allow granted scopes; ask only for critical ones (secrets)",
};

const ACTIONS = "list | show NAME | use NAME | eval --input FILE | test | build";

/** `policy ACTION`: list, show, use (audited), eval and test the Rego templates. */
export async function runPolicy(action: string | undefined, args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  switch (action) {
    case undefined:
    case "list":
      return list(ctx);
    case "use":
      return use(templateArg(args, "use"), ctx);
    case "show":
    case "eval":
    case "test":
    case "build":
      return (await import("./policy-rego.ts")).runRegoAction(action, args, options, ctx);
    default:
      throw new AegisError("usage", `unknown policy action "${action}"`, { hint: `use: aegisclaw policy [${ACTIONS}]` });
  }
}

function list(ctx: CliContext): number {
  const app = createApp(ctx.home);
  const active = app.config.policy.template;
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ active, templates: PolicyTemplate.options.map((name) => ({ name, active: name === active, summary: TEMPLATE_SUMMARIES[name] })) })}\n`);
    return 0;
  }
  for (const name of PolicyTemplate.options) {
    ctx.stdout(`${name === active ? "*" : " "} ${name.padEnd(11)} ${TEMPLATE_SUMMARIES[name]}\n`);
  }
  return 0;
}

/** Records the change in the audit log first, then rewrites config.yaml (comments kept). */
async function use(template: PolicyTemplate, ctx: CliContext): Promise<number> {
  const app = createApp(ctx.home);
  const previous = app.config.policy.template;
  try {
    if (previous === template) {
      ctx.stderr(`policy template ${template} is already in use\n`);
      return 0;
    }
    const audit = await app.openAudit();
    await audit.append({ type: "policy", actor: localActor(), note: `policy template ${previous} -> ${template}` });
    setPolicyTemplate(app.layout.config, template);
  } finally {
    await app.close();
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify({ previous, active: template })}\n`);
  else ctx.stderr(`policy template is now ${template} (was ${previous})\n`);
  return 0;
}

/** The NAME argument of `policy show|use NAME`, validated. */
export function templateArg(args: string[], verb: string): PolicyTemplate {
  const name = args[0];
  if (name === undefined) throw new AegisError("usage", `missing template name: aegisclaw policy ${verb} NAME`, { hint: "NAME is strict, standard or permissive" });
  const parsed = PolicyTemplate.safeParse(name);
  if (!parsed.success) throw new AegisError("usage", `unknown policy template "${name}"`, { hint: "NAME is strict, standard or permissive (see `aegisclaw policy list`)" });
  return parsed.data;
}
