/**
 * Scopes as a skill manifest writes them. A skill never names a host path: its file scopes are
 * path parameters (`files.read:{repo}`), and the person running it binds each one to a
 * directory (`--path repo=/home/me/project`). So installing a skill grants no access to any
 * file; every run says, in its own request, which host path it mounts.
 */
import { parseScope, type ScopeKind } from "../policy/index.ts";
import { AegisError } from "../shared/index.ts";

/** `{name}`: a path parameter, as a whole file-scope target or a whole command argument. */
export const PARAMETER_PATTERN = /^\{([a-z][a-z0-9_]{0,31})\}$/;

/** One manifest scope, understood. */
export interface SkillScope {
  /** As written in the manifest (the unit of the upgrade permission diff). */
  text: string;
  kind: ScopeKind;
  /** files.*: the path parameter the scope is bound through. */
  parameter?: string;
  /** shell.exec: the program it allows. */
  program?: string;
}

/**
 * Parses a manifest scope; throws bad-input saying what is wrong and how to write it. Rules:
 * files.* must be `{parameter}`; shell.exec must name one absolute program (a bare shell.exec
 * would let the skill run anything in its image); the others follow the grant grammar.
 */
export function parseSkillScope(text: string): SkillScope {
  const colon = text.indexOf(":");
  const kind = colon === -1 ? text : text.slice(0, colon);
  const target = colon === -1 ? undefined : text.slice(colon + 1);
  if (kind === "files.read" || kind === "files.write") {
    const parameter = target === undefined ? undefined : PARAMETER_PATTERN.exec(target)?.[1];
    if (parameter === undefined) {
      throw new AegisError("bad-input", `${text}: a skill cannot name host paths; write ${kind}:{name} and the person running it binds it with --path name=DIR`);
    }
    return { text, kind, parameter };
  }
  const scope = parseScope(text);
  if (scope.kind === "shell.exec") {
    if (scope.target === undefined || !scope.target.startsWith("/")) {
      throw new AegisError("bad-input", `${text}: a skill's shell.exec must name one absolute program in its image, e.g. shell.exec:/skill/run`);
    }
    return { text: scope.text, kind: scope.kind, program: scope.target };
  }
  return { text: scope.text, kind: scope.kind };
}

/**
 * The grant a run gets for a manifest scope: a file scope's parameter replaced by the host
 * path the person bound it to (already absolute and normalised by the caller).
 */
export function bindSkillScope(scope: SkillScope, paths: Readonly<Record<string, string>>): string {
  if (scope.parameter === undefined) return scope.text;
  const path = paths[scope.parameter];
  if (path === undefined) {
    throw new AegisError("usage", `scope ${scope.text} needs a directory: bind it with --path ${scope.parameter}=DIR`);
  }
  return `${scope.kind}:${path}`;
}
