import { parseDuration } from "../../core/index.ts";
import { runtimeNameProblem, type SandboxRuntimeName } from "../../sandbox/index.ts";
import { AegisError } from "../../shared/index.ts";

/** The command after `--` (or given positionally); a usage error when there is none. */
export function commandFromArgs(positional: string[], options: Record<string, unknown>, verb: string): string[] {
  const dashed = Array.isArray(options["--"]) ? (options["--"] as unknown[]).map(String) : [];
  if (positional.length > 0 && dashed.length > 0) {
    throw new AegisError("usage", `unexpected arguments before --: ${positional.join(" ")}`, { hint: "put the whole command after --" });
  }
  const argv = dashed.length > 0 ? dashed : positional.map(String);
  if (argv.length === 0) throw new AegisError("usage", "no command given", { hint: `write: aegisclaw ${verb} -- echo "hello"` });
  return argv;
}

/** --scope (repeatable), --image, --timeout and --runtime as request fields, validated. */
export function runRequestOptions(options: Record<string, unknown>): { grants: string[]; image?: string; timeoutMs?: number; runtime?: SandboxRuntimeName } {
  const grants = options.scope === undefined ? [] : (Array.isArray(options.scope) ? options.scope : [options.scope]).map(String);
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(String(options.timeout));
  if (options.timeout !== undefined && timeoutMs === undefined) {
    throw new AegisError("usage", `--timeout ${String(options.timeout)} is not a duration`, { hint: "use e.g. 30s, 5m, 1h" });
  }
  const runtime = options.runtime === undefined ? undefined : String(options.runtime);
  const problem = runtime === undefined ? undefined : runtimeNameProblem(runtime);
  if (problem) throw new AegisError("usage", `--runtime: ${problem}`, { hint: "`aegisclaw doctor` lists the runtimes this machine has" });
  return {
    grants,
    ...(options.image === undefined ? {} : { image: String(options.image) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(runtime === undefined ? {} : { runtime }),
  };
}
