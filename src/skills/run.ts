/**
 * A skill run as a Gate request: the command's argv plus the person's arguments, the skill's
 * own scopes as grants (file parameters bound to the directories the person named), its exact
 * image by id, and what the signature check found, for policy and the audit log.
 */
import { resolve } from "node:path";
import { parseDuration, parseSize } from "../core/index.ts";
import { AegisError } from "../shared/index.ts";
import { sidecarsOf } from "./compose-file.ts";
import { commandScopes, serviceScopes, type SkillCommand, type SkillManifest } from "./manifest.ts";
import type { ParsedManifest } from "./manifest-file.ts";
import type { InstalledSkill } from "./registry.ts";
import type { SignatureStatus, Verification } from "./signing.ts";
import { bindSkillScope, PARAMETER_PATTERN } from "./skill-scope.ts";

/** What the Gate is told about the skill (RunRequest.skill; covered by the request hash). */
export interface SkillReference {
  name: string;
  version: string;
  command: string;
  signature: SignatureStatus;
  publisher?: string;
  keyId?: string;
  imageDigest: string;
}

/** The RunRequest fields of a skill run (the caller adds the actor and runtime). */
export interface SkillRunPlan {
  argv: string[];
  grants: string[];
  image: string;
  env?: Record<string, string>;
  /** Lower limits from the manifest; the Gate keeps config's as ceilings. */
  limits?: { pids?: number; memoryBytes?: number; cpus?: number };
  timeoutMs?: number;
  skill: SkillReference;
  /** docker-compose skills: the service the command runs in. */
  service?: string;
  /** docker-compose skills: the services running beside it, dependencies first, each with its own grants. */
  services?: SkillServiceRun[];
}

/** One sidecar service of a run: its compose command (bound), its own scopes (bound), its environment. */
export interface SkillServiceRun {
  name: string;
  argv: string[];
  grants: string[];
  env?: Record<string, string>;
}

/**
 * Splits `[COMMAND] [ARGS]`: the first word names the command when it is one; a skill with a
 * single command may leave it out. Anything else is a usage error listing the commands.
 */
export function pickCommand(manifest: SkillManifest, words: readonly string[]): { command: string; args: string[] } {
  const names = Object.keys(manifest.commands);
  const [first, ...rest] = words;
  if (first !== undefined && names.includes(first)) return { command: first, args: rest };
  if (names.length === 1 && names[0] !== undefined) return { command: names[0], args: [...words] };
  throw new AegisError("usage", first === undefined ? `skill ${manifest.name} has several commands; name one` : `skill ${manifest.name} has no command "${first}"`, {
    hint: `commands: ${names.join(", ")}`,
  });
}

/** `--path name=DIR` values as a map of absolute paths (relative ones resolve against `cwd`). */
export function parsePathBindings(values: readonly string[], cwd = process.cwd()): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    const name = value.slice(0, equals);
    const dir = value.slice(equals + 1);
    if (equals < 1 || dir === "" || !PARAMETER_PATTERN.test(`{${name}}`)) {
      throw new AegisError("usage", `--path ${value}: expected NAME=DIR`, { hint: "e.g. --path repo=/home/me/project" });
    }
    if (paths[name] !== undefined) throw new AegisError("usage", `--path ${name} is given twice`);
    paths[name] = resolve(cwd, dir);
  }
  return paths;
}

/** A docker-compose command's services beside it (its depends_on closure, dependencies first); none otherwise. */
export function commandSidecars(parsed: ParsedManifest, definition: SkillCommand): string[] {
  return definition.service !== undefined && parsed.compose ? sidecarsOf(parsed.compose, definition.service) : [];
}

/**
 * The path parameters a command's run binds (`--path NAME=DIR`): those of its own scopes and
 * args, and those of every service running beside it.
 */
export function commandParameters(parsed: ParsedManifest, definition: SkillCommand): string[] {
  const participating = [...commandScopes(parsed.manifest, definition), ...commandSidecars(parsed, definition).flatMap((name) => serviceScopes(parsed.manifest, name))];
  const fromArgs = definition.args.flatMap((arg) => PARAMETER_PATTERN.exec(arg)?.[1] ?? []);
  return [...new Set([...participating.flatMap((scope) => scope.parameter ?? []), ...fromArgs])];
}

/**
 * Builds the request fields for one run of an installed skill. `verification` is the signature
 * check done just now (against today's trust store), not the one from install time.
 */
export function planSkillRun(
  skill: InstalledSkill,
  verification: Verification,
  command: string,
  userArgs: readonly string[],
  paths: Readonly<Record<string, string>>,
  maxTimeoutMs?: number,
): SkillRunPlan {
  const { manifest } = skill.parsed;
  const definition = manifest.commands[command];
  if (!definition) throw new AegisError("usage", `skill ${manifest.name} has no command "${command}"`, { hint: `commands: ${Object.keys(manifest.commands).join(", ")}` });
  const scopes = commandScopes(manifest, definition);
  const compose = skill.parsed.compose;
  const sidecars = commandSidecars(skill.parsed, definition);
  const parameters = new Set(commandParameters(skill.parsed, definition));
  for (const name of Object.keys(paths)) {
    if (!parameters.has(name)) {
      throw new AegisError("usage", `--path ${name}: command ${command} of ${manifest.name} has no path parameter ${name}`, {
        hint: parameters.size > 0 ? `its parameters: ${[...parameters].join(", ")}` : "it takes no paths",
      });
    }
  }
  const grants = scopes.map((scope) => bindSkillScope(scope, paths));
  const argv = [...definition.args.map((arg) => substitute(arg, paths)), ...userArgs];
  const mainEnv = definition.service !== undefined ? compose?.services[definition.service]?.environment : undefined;
  const env = { ...mainEnv, ...definition.env };
  const services = sidecars.map((name): SkillServiceRun => {
    const service = compose?.services[name];
    if (!service?.command) throw new AegisError("internal", `service ${name} of ${manifest.name} has no command`);
    return {
      name,
      argv: service.command.map((arg) => substitute(arg, paths)),
      grants: serviceScopes(manifest, name).map((scope) => bindSkillScope(scope, paths)),
      ...(Object.keys(service.environment).length > 0 ? { env: { ...service.environment } } : {}),
    };
  });
  const resources = manifest.resources;
  const limits = {
    ...(resources?.pids !== undefined ? { pids: resources.pids } : {}),
    ...(resources?.memory !== undefined ? { memoryBytes: parseSize(resources.memory) } : {}),
    ...(resources?.cpus !== undefined ? { cpus: resources.cpus } : {}),
  };
  const skillTimeout = resources?.timeout === undefined ? undefined : parseDuration(resources.timeout);
  const timeoutMs = skillTimeout === undefined ? undefined : Math.min(skillTimeout, maxTimeoutMs ?? skillTimeout);
  return {
    argv,
    grants,
    image: skill.record.imageId,
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    skill: {
      name: manifest.name,
      version: manifest.version,
      command,
      signature: verification.status,
      ...(verification.publisher ? { publisher: verification.publisher } : {}),
      ...(verification.keyId ? { keyId: verification.keyId } : {}),
      imageDigest: skill.record.imageId,
    },
    // A service with nothing beside it is a single container (and so gets no network at all).
    ...(definition.service !== undefined && services.length > 0 ? { service: definition.service, services } : {}),
  };
}

/** A whole-argument `{name}` becomes the bound path; every other argument is literal. */
function substitute(arg: string, paths: Readonly<Record<string, string>>): string {
  const name = PARAMETER_PATTERN.exec(arg)?.[1];
  if (name === undefined) return arg;
  const path = paths[name];
  if (path === undefined) throw new AegisError("usage", `this command needs a directory for {${name}}: bind it with --path ${name}=DIR`);
  return path;
}
