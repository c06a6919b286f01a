import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, policyEngines } from "../../app.ts";
import { buildUserPolicies, combineDecisions, decideSafely, type PolicyInput, type UserPolicyEntry } from "../../policy/index.ts";
import { TEMPLATE_FILES, TEMPLATE_SOURCES } from "../../policy/opa/index.ts";
import { AegisError } from "../../shared/index.ts";
import type { CliContext } from "../context.ts";
import { templateArg } from "./policy.ts";

/** The `policy` actions that need the Rego templates: show, eval, test. */
export async function runRegoAction(action: "show" | "eval" | "test" | "build", args: string[], options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  if (action === "show") {
    ctx.stdout(TEMPLATE_SOURCES[templateArg(args, "show")]);
    return 0;
  }
  if (action === "eval") return evaluate(options, ctx);
  if (action === "build") return build(ctx);
  return test(ctx);
}

/**
 * `policy eval --input FILE [--explain]`: the Gate's policy stage (built-in scope check and the
 * template in use, combined deny > ask > allow) on a policy input document.
 */
async function evaluate(options: Record<string, unknown>, ctx: CliContext): Promise<number> {
  if (options.input === undefined) throw new AegisError("usage", "policy eval needs --input FILE (a policy input document, see policies/README.md)");
  const file = String(options.input);
  let input: PolicyInput;
  try {
    input = JSON.parse(await Bun.file(file).text()) as PolicyInput;
  } catch (error) {
    throw new AegisError("bad-input", `${file}: not a JSON policy input: ${(error as Error).message}`, { hint: "`aegisclaw simulate --json -- CMD` prints one under policyInput" });
  }
  const app = createApp(ctx.home);
  const template = app.config.policy.template;
  // The Gate's own engines (src/app.ts), evaluated one by one so --explain can show each.
  const engines = policyEngines(app.config, app.layout);
  const parts = await Promise.all(engines.map(async (engine) => ({ engine: engine.name, decision: await decideSafely(engine, input) })));
  const decision = combineDecisions(parts.map((part) => part.decision));
  if (ctx.json) {
    ctx.stdout(`${JSON.stringify(options.explain === true ? { decision, engines: parts } : decision)}\n`);
    return 0;
  }
  ctx.stdout(`${decision.kind.toUpperCase()} (risk ${decision.risk}, template ${template})\n`);
  for (const part of options.explain === true ? parts : [{ engine: "combined", decision }]) {
    if (options.explain === true) ctx.stdout(`${part.engine}: ${part.decision.kind} (risk ${part.decision.risk})\n`);
    for (const reason of part.decision.reasons) {
      ctx.stdout(`  - [${reason.rule}] ${reason.message}${reason.scope ? ` (scope ${reason.scope})` : ""}${reason.field ? ` (field ${reason.field})` : ""}\n`);
    }
  }
  return 0;
}

/** `policy build`: compiles the home's own Rego to wasm (all or nothing); they then join every decision. */
function build(ctx: CliContext): number {
  const dir = join(ctx.home, "policies");
  let entries: UserPolicyEntry[];
  try {
    entries = buildUserPolicies(dir, findOpa());
  } catch (error) {
    if (error instanceof AegisError) throw error;
    throw new AegisError("bad-input", `policy build failed; nothing was changed: ${(error as Error).message}`);
  }
  if (ctx.json) ctx.stdout(`${JSON.stringify({ built: entries })}
`);
  else if (entries.length === 0) ctx.stderr(`no *.rego files in ${dir}; nothing to build\n`);
  else for (const entry of entries) ctx.stderr(`built ${entry.file} -> data.${entry.entrypoint.replaceAll("/", ".")}\n`);
  return 0;
}

/** The opa CLI: $AEGISCLAW_OPA or opa on PATH, with how to get it when missing. */
function findOpa(): string {
  const opa = process.env.AEGISCLAW_OPA ?? Bun.which("opa");
  if (opa) return opa;
  throw new AegisError("unavailable", "the opa CLI is not installed", {
    hint: "from a checkout: bash scripts/build-opa.sh, then put .tools/bin on PATH or set AEGISCLAW_OPA=/path/to/opa",
  });
}

/** `policy test`: the real `opa test` over the templates, their tests and the home's own Rego. */
function test(ctx: CliContext): number {
  const opa = findOpa();
  const dir = mkdtempSync(join(tmpdir(), "aegisclaw-policy-test-"));
  try {
    for (const [name, text] of Object.entries(TEMPLATE_FILES)) writeFileSync(join(dir, name), text);
    const userDir = join(ctx.home, "policies");
    const userFiles = safeList(userDir).filter((name) => name.endsWith(".rego"));
    const proc = Bun.spawnSync([opa, "test", ...(ctx.json ? ["--format", "json"] : ["-v"]), dir, ...userFiles.map((name) => join(userDir, name))], {
      stdout: "pipe",
      stderr: "pipe",
    });
    ctx.stdout(proc.stdout.toString());
    if (proc.stderr.length > 0) ctx.stderr(proc.stderr.toString());
    return proc.exitCode === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
