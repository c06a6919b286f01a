import type { AegisError } from "../shared/index.ts";
import type { CliContext } from "./context.ts";

/** Prints an error: one line on stderr (plus a fix hint), and a JSON object on stdout under --json. */
export function reportError(error: AegisError, ctx: CliContext): void {
  const prefix = error.code === "denied" || error.code === "lockdown" ? "" : "error: ";
  ctx.stderr(`aegisclaw: ${prefix}${error.message}\n`);
  if (error.hint) ctx.stderr(`  fix: ${error.hint}\n`);
  if (ctx.json) ctx.stdout(`${JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint } })}\n`);
}
