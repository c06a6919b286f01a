/**
 * The compose file of a `platform: docker-compose` skill, parsed (never handed to docker
 * compose) into a strict subset: per service only `command` (argv), `environment` (a map, not
 * secrets) and `depends_on` (a list). Everything that would widen a container — its own image
 * or build, ports, volumes, networks, privileges, devices, namespaces, user — is refused with
 * an error naming the file, the line, the service and the key: every service runs the skill's
 * one signed image in AegisClaw's hardened sandbox, with only its own scopes.
 */
import { LineCounter, parseDocument, type Document } from "yaml";
import { AegisError } from "../shared/index.ts";
import { PARAMETER_PATTERN } from "./skill-scope.ts";

/** Service names: also their host names on the run's network. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Set by the sandbox itself (PATH) or the egress proxy; a compose file cannot override them. */
const RESERVED_ENV = new Set(["PATH", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"]);
const TOP_LEVEL_KEYS = new Set(["services", "version", "name"]);
const SERVICE_KEYS = new Set(["command", "environment", "depends_on"]);
const MAX_SERVICES = 8;

/** Why a known compose key is refused (unknown keys get a generic reason). */
const REFUSED_SERVICE_KEYS: Readonly<Record<string, string>> = {
  image: "every service runs the skill's own signed image (built from its Dockerfile)",
  build: "every service runs the skill's own signed image (built from its Dockerfile)",
  ports: "services are reachable only by the run's other services, never from the host",
  expose: "services reach each other on any port of the run's private network",
  volumes: "host paths come only from the service's files.* scopes, bound with --path",
  volumes_from: "a service sees only its own mounts",
  tmpfs: "every service gets the sandbox's own noexec /tmp",
  network_mode: "every service is on its run's private network only",
  networks: "every service is on its run's private network only",
  links: "services find each other by name on the run's private network",
  external_links: "services find each other by name on the run's private network",
  extra_hosts: "services find each other by name on the run's private network",
  dns: "DNS is the sandbox's",
  privileged: "no service is privileged",
  cap_add: "every service runs with no capabilities",
  cap_drop: "every service already runs with no capabilities",
  devices: "no service gets host devices",
  pid: "every service has its own PID namespace",
  ipc: "every service has its own IPC namespace",
  uts: "every service has its own UTS namespace",
  userns_mode: "every service runs in the engine's user namespace setting",
  user: "every service runs as 65534:65534",
  security_opt: "every service runs with AegisClaw's seccomp profile and no-new-privileges",
  sysctls: "kernel settings are the sandbox's",
  ulimits: "limits come from the manifest's resources and config",
  read_only: "every service's root filesystem is already read-only",
  entrypoint: "the program is the command's first word (an absolute path, allowed by the service's scopes)",
  env_file: "the environment is written in the compose file (a file beside it would not be signed)",
  secrets: "secrets come only from secrets.read scopes",
  configs: "files come only from the image and the service's scopes",
  restart: "services live exactly as long as the run",
  runtime: "the runtime is the run's",
  cgroup_parent: "the sandbox's cgroup limits apply",
};

/** One service as the compose file defines it. */
export interface ComposeService {
  /** argv: an absolute program in the image, then arguments; absent for a service that is only ever a command's main service. */
  command?: string[];
  environment: Record<string, string>;
  dependsOn: string[];
}

/** A parsed, valid compose file. */
export interface ComposeFile {
  /** Where it came from (for messages). */
  file: string;
  /** The file's data as written: what the skill's signature covers. */
  data: Record<string, unknown>;
  text: string;
  services: Record<string, ComposeService>;
  /** Line of a path in the file (for cross-checks with the manifest). */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/**
 * Parses compose text; throws bad-input naming `file:line: services.NAME.KEY` and the fix for
 * anything outside the subset, an unknown or self dependency, or a dependency cycle.
 */
export function parseComposeFile(text: string, file: string): ComposeFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (path: readonly (string | number)[]) => nodeLine(document, lines, path);
  const fail = (path: readonly (string | number)[], message: string, hint = "see docs/skills.md, \"Multi-container skills\", for what a compose file may hold"): never => {
    const line = lineOf(path);
    throw new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: ${path.join(".") || "(top level)"}: ${message}`, { hint });
  };
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new AegisError("bad-input", `${file}${line ? `:${line}` : ""}: invalid YAML: ${yamlError.message.split("\n")[0]}`, { hint: "fix the YAML syntax at that line" });
  }
  const data: unknown = document.toJS() ?? {};
  if (!isRecord(data)) return fail([], "expected a mapping with services:");
  for (const key of Object.keys(data)) {
    if (!TOP_LEVEL_KEYS.has(key)) fail([key], `${key} is not supported: a skill's compose file holds only services (and version, name)`);
  }
  const rawServices = data.services;
  if (!isRecord(rawServices) || Object.keys(rawServices).length === 0) return fail(["services"], "expected at least one service");
  if (Object.keys(rawServices).length > MAX_SERVICES) fail(["services"], `at most ${MAX_SERVICES} services`);
  const services: Record<string, ComposeService> = {};
  for (const [name, raw] of Object.entries(rawServices)) {
    if (!SERVICE_NAME_PATTERN.test(name)) fail(["services", name], "a service name is lower-case letters, digits and hyphens (it is its host name), at most 32 characters");
    services[name] = parseService(name, raw, fail);
  }
  for (const [name, service] of Object.entries(services)) {
    service.dependsOn.forEach((other, index) => {
      if (other === name) fail(["services", name, "depends_on", index], `${name} cannot depend on itself`);
      if (!services[other]) fail(["services", name, "depends_on", index], `${other} is not a service of this file (services: ${Object.keys(services).join(", ")})`);
    });
  }
  const cycle = findCycle(services);
  if (cycle) fail(["services", cycle[0] ?? "", "depends_on"], `dependency cycle: ${cycle.join(" -> ")}`, "remove one depends_on of the cycle");
  return { file, data, text, services, lineOf };
}

type Fail = (path: readonly (string | number)[], message: string, hint?: string) => never;

function parseService(name: string, raw: unknown, fail: Fail): ComposeService {
  const at = ["services", name];
  if (raw === null || raw === undefined) return { environment: {}, dependsOn: [] };
  if (!isRecord(raw)) return fail(at, "expected a mapping (command, environment, depends_on)");
  for (const key of Object.keys(raw)) {
    if (SERVICE_KEYS.has(key)) continue;
    const why = REFUSED_SERVICE_KEYS[key];
    fail([...at, key], why ? `${key} is refused: ${why}` : `${key} is not supported (a service may have only command, environment and depends_on)`);
  }
  const service: ComposeService = { environment: {}, dependsOn: [] };
  if (raw.command !== undefined) {
    const command = raw.command;
    if (!Array.isArray(command) || command.length === 0 || command.some((arg) => typeof arg !== "string")) {
      fail([...at, "command"], "expected a list of strings (argv), e.g. [/skill/serve, --port, \"8080\"]; a string would need a shell");
    }
    const argv = command as string[];
    if (argv.length > 256 || argv.some((arg) => arg.includes("\0") || arg.length > 65_536)) fail([...at, "command"], "too long, or contains a NUL byte");
    const program = argv[0] ?? "";
    if (!program.startsWith("/") || PARAMETER_PATTERN.test(program)) fail([...at, "command", 0], `the program must be an absolute path in the image, e.g. /skill/${name}`);
    service.command = argv;
  }
  if (raw.environment !== undefined) {
    const environment = raw.environment;
    if (!isRecord(environment)) return fail([...at, "environment"], "expected a mapping NAME: value (the list form is not supported)");
    for (const [key, value] of Object.entries(environment)) {
      if (!ENV_NAME.test(key)) fail([...at, "environment", key], "expected an environment variable name");
      if (RESERVED_ENV.has(key)) fail([...at, "environment", key], `${key} is set by the sandbox and cannot be overridden`);
      if (typeof value !== "string" || value.length > 4096 || value.includes("\0")) fail([...at, "environment", key], "expected a string (quote numbers and booleans), at most 4096 characters");
      service.environment[key] = value as string;
    }
  }
  if (raw.depends_on !== undefined) {
    const dependsOn = raw.depends_on;
    if (!Array.isArray(dependsOn) || dependsOn.some((other) => typeof other !== "string")) {
      fail([...at, "depends_on"], "expected a list of service names (the mapping form with conditions is not supported)");
    }
    const names = dependsOn as string[];
    if (new Set(names).size !== names.length) fail([...at, "depends_on"], "a service is listed twice");
    service.dependsOn = names;
  }
  return service;
}

/** A dependency cycle as `a -> b -> a`, or undefined. */
function findCycle(services: Readonly<Record<string, ComposeService>>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    path.push(name);
    for (const other of services[name]?.dependsOn ?? []) {
      const cycle = visit(other);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The services `main` needs, dependencies first (each before the services depending on it),
 * without `main` itself. The file has no cycles (parseComposeFile refused them).
 */
export function sidecarsOf(compose: Pick<ComposeFile, "services">, main: string): string[] {
  const order: string[] = [];
  const visit = (name: string) => {
    for (const other of compose.services[name]?.dependsOn ?? []) {
      if (order.includes(other)) continue;
      visit(other);
      order.push(other);
    }
  };
  visit(main);
  return order.filter((name) => name !== main);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nodeLine(document: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
