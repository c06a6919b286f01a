/**
 * The skill manifest (`manifest.yaml`): one zod schema, strict, every field described, with the
 * cross-field rules (image namespace, scopes, commands) that keep a skill least-privilege.
 * Errors name the file, the line and the field, like config.yaml's.
 */
import { z } from "zod";
import { parseDuration, parseSize } from "../core/index.ts";
import { SERVICE_NAME_PATTERN } from "./compose-file.ts";
import { parseSkillScope, PARAMETER_PATTERN, type SkillScope } from "./skill-scope.ts";

/** Skill names: lower-case words joined by single hyphens, at most 64 characters. */
export const SKILL_NAME_PATTERN = /^(?=.{1,64}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const COMMAND_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Semantic version without build metadata, so it is also a valid Docker tag. */
const VERSION = /^\d{1,9}\.\d{1,9}\.\d{1,9}(?:-[0-9A-Za-z.-]{1,64})?$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Set by the sandbox itself (PATH) or the egress proxy; a manifest cannot override them. */
const RESERVED_ENV = new Set(["PATH", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"]);

const Duration = z.string().refine((text) => parseDuration(text) !== undefined, { message: 'expected a duration such as "30s" or "5m"' });
const Size = z.string().refine((text) => parseSize(text) !== undefined, { message: 'expected a size such as "64m"' });
const NoNul = z.string().max(65_536).refine((text) => !text.includes("\0"), { message: "contains a NUL byte" });

const Command = z
  .object({
    description: z.string().max(500).optional().describe("What the command does, shown by `skills list`."),
    args: z
      .array(NoNul)
      .min(1, { message: "a command needs at least its program" })
      .max(256)
      .describe("argv: an absolute program in the image, then arguments. An argument that is exactly {name} becomes the host path bound with --path name=DIR. The person's own arguments follow."),
    env: z
      .record(z.string().regex(ENV_NAME, { message: "expected an environment variable name" }), z.string().max(4096))
      .optional()
      .describe("Fixed environment for the command (not secrets: the manifest is plain text). PATH and proxy variables are the sandbox's."),
    scopes: z.array(z.string()).max(64).optional().describe("The subset of the skill's scopes this command gets. Absent means all of them. Not for docker-compose skills (a command gets its service's scopes)."),
    service: z.string().optional().describe("platform docker-compose: the service the command runs in (its main service); the services it depends_on run beside it."),
  })
  .strict();

const Service = z
  .object({
    scopes: z.array(z.string()).max(64).default([]).describe("The subset of the skill's scopes this service's container gets (programs, mounts, net.outbound hosts through a proxy of its own, secrets in its own /run/secrets). Empty means none."),
  })
  .strict();

const Resources = z
  .object({
    memory: Size.optional().describe("Memory ceiling, e.g. 64m. Never above config's sandbox.limits.memory."),
    cpus: z.number().min(0.01).max(64).optional().describe("CPU quota in cores. Never above config's sandbox.limits.cpus."),
    pids: z.number().int().min(8).max(4096).optional().describe("Process limit. Never above config's sandbox.limits.pids."),
    timeout: Duration.optional().describe("Wall-clock limit of one run. Never above config's sandbox.timeout."),
  })
  .strict();

/** The signature block `skills sign` writes (see signing.ts for what it covers). */
export const ManifestSignature = z
  .object({
    algorithm: z.literal("ed25519").describe("Always ed25519."),
    keyId: z.string().regex(/^[0-9a-f]{16}$/, { message: "expected 16 hex digits" }).describe("First 16 hex digits of SHA-256 of the public key."),
    publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, { message: "expected a base64 ed25519 public key" }).describe("The signer's raw public key, base64. Trusted only if it is in the trust store."),
    imageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, { message: "expected sha256:<64 hex digits>" }).describe("The image id the signature covers."),
    value: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, { message: "expected a base64 ed25519 signature" }).describe("The signature, base64."),
  })
  .strict();
export type ManifestSignature = z.infer<typeof ManifestSignature>;

const ManifestObject = z
  .object({
    name: z.string().regex(SKILL_NAME_PATTERN, { message: "expected lower-case letters, digits and single hyphens (e.g. git-stats), at most 64 characters" }).describe("The skill's name; also where it is installed."),
    version: z.string().regex(VERSION, { message: "expected a version such as 1.2.0 or 1.2.0-rc.1" }).describe("Semantic version (no +build suffix)."),
    description: z.string().min(1).max(1000).describe("One or two sentences: what the skill does."),
    platform: z.enum(["docker", "docker-compose"]).describe("docker: one container built from the skill's Dockerfile. docker-compose: several containers of that same image, one per service of compose_file."),
    image: z.string().max(200).describe("Tag the built image gets: aegisclaw/skill-<name>:<tag>. Runs use the image id, never the tag."),
    compose_file: z.string().max(200).optional().describe("platform docker-compose only: the compose file, a relative path inside the skill directory."),
    services: z
      .record(z.string().regex(SERVICE_NAME_PATTERN, { message: "expected a lower-case service name" }), Service)
      .optional()
      .describe("platform docker-compose only: every service of compose_file with the scopes its own container gets."),
    scopes: z.array(z.string()).max(64).default([]).describe("Everything the skill may get. Empty means nothing beyond config's grants. Adding scopes in an upgrade needs confirmation."),
    commands: z.record(z.string().regex(COMMAND_NAME, { message: "expected a lower-case command name" }), Command).describe("What the skill can do, by name: `skills run NAME COMMAND`."),
    resources: Resources.optional().describe("Lower limits for the skill's runs; config's limits stay the ceilings."),
    signature: ManifestSignature.optional().describe("Added by `aegisclaw skills sign`; absent means unsigned."),
  })
  .strict();

/** `manifest.yaml` of a skill. Unknown keys are errors, so a typo never goes unnoticed. */
export const SkillManifest = ManifestObject.superRefine(checkManifest);
export type SkillManifest = z.infer<typeof ManifestObject>;
export type SkillCommand = z.infer<typeof Command>;

function checkManifest(m: SkillManifest, context: z.RefinementCtx): void {
  const issue = (path: PropertyKey[], message: string) => context.addIssue({ code: "custom", path, message });
  if (m.platform === "docker") {
    for (const key of ["compose_file", "services"] as const) {
      if (m[key] !== undefined) issue([key], "only for platform docker-compose");
    }
  } else {
    if (m.compose_file === undefined) issue(["compose_file"], "a docker-compose skill names its compose file (a path inside the skill directory)");
    else if (!isComposePath(m.compose_file)) {
      issue(["compose_file"], "expected a relative path inside the skill directory (letters, digits, . _ - /; no ..), e.g. compose.yaml");
    }
    if (m.services === undefined || Object.keys(m.services).length === 0) issue(["services"], "a docker-compose skill lists every service of its compose file with its scopes");
  }
  const [repository, tag] = m.image.split(":");
  if (repository !== `aegisclaw/skill-${m.name}` || tag === undefined || !DOCKER_TAG.test(tag) || m.image.split(":").length !== 2) {
    issue(["image"], `expected aegisclaw/skill-${m.name}:<tag> (e.g. aegisclaw/skill-${m.name}:${m.version}): a skill's image is named after it, so installing it can never replace the base image or another skill's`);
  }
  const scopes = new Map<string, SkillScope>();
  m.scopes.forEach((text, index) => {
    try {
      const scope = parseSkillScope(text);
      if (scopes.has(scope.text)) issue(["scopes", index], `duplicate scope ${scope.text}`);
      scopes.set(scope.text, scope);
    } catch (error) {
      issue(["scopes", index], error instanceof Error ? error.message : String(error));
    }
  });
  const services = new Map<string, SkillScope[]>();
  if (m.platform === "docker-compose") {
    for (const [service, definition] of Object.entries(m.services ?? {})) {
      const own: SkillScope[] = [];
      definition.scopes.forEach((text, index) => {
        const scope = scopes.get(safeText(text));
        if (scope) own.push(scope);
        else issue(["services", service, "scopes", index], `${text} is not one of the skill's scopes; list it under scopes first`);
      });
      services.set(service, own);
    }
  }
  const commands = Object.entries(m.commands);
  if (commands.length === 0) issue(["commands"], "a skill needs at least one command");
  for (const [name, command] of commands) {
    if (m.platform === "docker") {
      if (command.service !== undefined) issue(["commands", name, "service"], "only for platform docker-compose");
      checkCommand(name, command, scopes, undefined, issue);
      continue;
    }
    if (command.scopes !== undefined) issue(["commands", name, "scopes"], "a docker-compose command gets its service's scopes: list them under services.<name>.scopes");
    if (command.service === undefined) issue(["commands", name, "service"], `a docker-compose command names the service it runs in (${[...services.keys()].join(", ")})`);
    else if (!services.has(command.service)) issue(["commands", name, "service"], `${command.service} is not one of the skill's services (${[...services.keys()].join(", ")})`);
    else checkCommand(name, command, scopes, services.get(command.service), issue);
  }
}

/** compose_file: a plain relative path with no `.` or `..` part (symlinks and the directory's bounds are checked when it is read). */
export function isComposePath(path: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/.test(path) && !path.split("/").some((part) => part === "." || part === "..");
}

function checkCommand(
  name: string,
  command: SkillCommand,
  scopes: ReadonlyMap<string, SkillScope>,
  serviceScopes: readonly SkillScope[] | undefined,
  issue: (path: PropertyKey[], message: string) => void,
): void {
  const own: SkillScope[] = [...(serviceScopes ?? [])];
  if (command.scopes === undefined && serviceScopes === undefined) own.push(...scopes.values());
  command.scopes?.forEach((text, index) => {
    const scope = scopes.get(safeText(text));
    if (scope) own.push(scope);
    else issue(["commands", name, "scopes", index], `${text} is not one of the skill's scopes; list it under scopes first`);
  });
  const whose = serviceScopes === undefined ? "this command" : `service ${command.service}`;
  for (const key of Object.keys(command.env ?? {})) {
    if (RESERVED_ENV.has(key)) issue(["commands", name, "env", key], `${key} is set by the sandbox and cannot be overridden`);
  }
  const [program, ...rest] = command.args;
  if (program === undefined) return;
  if (!program.startsWith("/") || PARAMETER_PATTERN.test(program)) {
    issue(["commands", name, "args", 0], `the program must be an absolute path in the image, e.g. /skill/${name}`);
  } else if (!own.some((scope) => scope.program === program)) {
    issue(["commands", name, "args", 0], `program ${program} is not allowed by a scope of ${whose}; add shell.exec:${program} to its scopes`);
  }
  rest.forEach((arg, index) => {
    const parameter = PARAMETER_PATTERN.exec(arg)?.[1];
    if (parameter !== undefined && !own.some((scope) => scope.parameter === parameter)) {
      issue(["commands", name, "args", index + 1], `{${parameter}} is not a path parameter of ${whose}'s scopes; add files.read:{${parameter}} (or files.write) to them`);
    }
  });
}

/** The normalised text of a scope, or the text itself when it does not parse (reported elsewhere). */
function safeText(text: string): string {
  try {
    return parseSkillScope(text).text;
  } catch {
    return text;
  }
}

/** The manifest's scopes, parsed (the manifest has been validated, so they parse). */
export function skillScopes(manifest: SkillManifest): SkillScope[] {
  return manifest.scopes.map(parseSkillScope);
}

/** The scopes one command gets, parsed: a docker-compose command's are its service's. */
export function commandScopes(manifest: SkillManifest, command: SkillCommand): SkillScope[] {
  if (command.service !== undefined) return serviceScopes(manifest, command.service);
  const all = skillScopes(manifest);
  if (command.scopes === undefined) return all;
  const wanted = new Set(command.scopes.map(safeText));
  return all.filter((scope) => wanted.has(scope.text));
}

/** The scopes one service of a docker-compose skill gets, parsed (none for an unknown service). */
export function serviceScopes(manifest: SkillManifest, service: string): SkillScope[] {
  const wanted = new Set((manifest.services?.[service]?.scopes ?? []).map(safeText));
  return skillScopes(manifest).filter((scope) => wanted.has(scope.text));
}
