import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { AuditLog, initAuditDir } from "../../audit/index.ts";
import { ensureHomeDirectories, exists, homeLayout, PolicyTemplate, renderDefaultConfig, writeFileAtomic, type HomeLayout } from "../../core/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { askInitChoices, type InitChoices } from "./init-wizard.ts";

/**
 * `init [--template T] [--yes] [--force]`. A new home is assembled in a sibling temp directory
 * and renamed into place, so a failure leaves nothing half-written. An existing home is only
 * touched with --force, which rewrites config.yaml and never the audit log or its key.
 */
export async function runInit(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const layout = homeLayout(ctx.home);
  const force = options.force === true;
  if (exists(layout.config) && !force) {
    throw new AegisError("bad-input", `AegisClaw is already initialised at ${ctx.home}`, {
      hint: "use --force to rewrite config.yaml (the audit log and its signing key are kept)",
    });
  }
  const choices = await resolveChoices(options, ctx);
  const fresh = !exists(layout.root);
  const target = fresh ? homeLayout(`${layout.root}.init-${process.pid}`) : layout;
  try {
    ensureHomeDirectories(target);
    writeFileAtomic(target.config, renderDefaultConfig(choices.template));
    const newKey = !exists(target.audit);
    if (newKey) await initAuditDir(target.audit);
    const audit = await AuditLog.open(target.audit);
    await audit.append({ type: "init", actor: localActor(), note: `initialised with template ${choices.template}${force ? " (--force)" : ""}` });
    await audit.close();
    if (fresh) {
      mkdirSync(dirname(layout.root), { recursive: true });
      renameSync(target.root, layout.root);
    }
  } catch (error) {
    if (fresh) rmSync(target.root, { recursive: true, force: true });
    throw error;
  }
  report(layout, choices, ctx);
  return 0;
}

async function resolveChoices(options: Record<string, unknown>, ctx: CliContext): Promise<InitChoices> {
  const templateOption = options.template === undefined ? undefined : String(options.template);
  if (templateOption !== undefined && !PolicyTemplate.safeParse(templateOption).success) {
    throw new AegisError("usage", `unknown template "${templateOption}"`, { hint: "use strict, standard or permissive" });
  }
  const template = (templateOption ?? "standard") as PolicyTemplate;
  if (options.yes === true) return { template };
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new AegisError("usage", "init needs a terminal for its questions", { hint: "in scripts use `aegisclaw init --yes [--template strict|standard|permissive]`" });
  }
  return askInitChoices(template, ctx);
}

function report(layout: HomeLayout, choices: InitChoices, ctx: CliContext): void {
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify({ home: layout.root, template: choices.template, config: layout.config, audit: layout.audit })}\n`);
    return;
  }
  ctx.stdout(
    [
      `AegisClaw initialised at ${layout.root} (policy template: ${choices.template})`,
      `  config:    ${layout.config}`,
      `  audit log: ${layout.audit} (ed25519 signing key generated, mode 600)`,
      "next:",
      "  aegisclaw doctor                     check Docker, the base image and this home",
      '  aegisclaw run -- echo "Hello Safe World"',
      "",
    ].join("\n"),
  );
}
