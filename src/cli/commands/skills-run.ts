import { createApp, type App } from "../../app.ts";
import { parseDuration, type RunRequest } from "../../core/index.ts";
import { parsePathBindings, prepareSkillRun, requireSkillImage } from "../../skills/index.ts";
import { AegisError } from "../../shared/index.ts";
import { localActor } from "../actor.ts";
import type { CliContext } from "../context.ts";
import { runThroughGate } from "../gate-run.ts";
import { runRequestOptions } from "./run-options.ts";

type Options = Record<string, unknown>;

/**
 * The Gate request for `skills run NAME [COMMAND] [ARGS]` (and `simulate skill ...`): the
 * installed skill, its signature checked now against today's trust store, its command's
 * argv plus the person's arguments, its scopes with --path bindings. Only --runtime and
 * --timeout come from the options; a skill's scopes are its own, so --scope and --image are refused.
 */
export function skillRunRequest(app: App, words: string[], options: Options): RunRequest {
  if (options.scope !== undefined || options.image !== undefined) {
    throw new AegisError("usage", "a skill runs with its own scopes and image; --scope and --image do not apply", { hint: "bind its path parameters with --path NAME=DIR" });
  }
  const dashed = Array.isArray(options["--"]) ? (options["--"] as unknown[]).map(String) : [];
  const [name, ...rest] = [...words, ...dashed];
  if (name === undefined) throw new AegisError("usage", "no skill named", { hint: "write: aegisclaw skills run NAME [COMMAND] [ARGS]" });
  const paths = parsePathBindings(options.path === undefined ? [] : (Array.isArray(options.path) ? options.path : [options.path]).map(String));
  const { grants: _grants, ...requestOptions } = runRequestOptions({ ...options, scope: undefined });
  const plan = prepareSkillRun(app.layout.skills, name, { words: rest }, paths, parseDuration(app.config.sandbox.timeout));
  return { actor: localActor(), ...plan, ...requestOptions };
}

/** `skills run NAME [COMMAND] [ARGS] [--path NAME=DIR]...`: one skill command through the Gate. */
export async function runSkill(words: string[], options: Options, ctx: CliContext): Promise<number> {
  const app = createApp(ctx.home);
  const request = skillRunRequest(app, words, options);
  if (request.image && request.skill) {
    try {
      await requireSkillImage(app.runtime, { image: request.image, skill: request.skill });
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  return runThroughGate(app, request, ctx, "the skill's resources.timeout and config's sandbox.timeout cap it, --timeout overrides");
}
