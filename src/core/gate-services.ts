/**
 * The validate stage's share of multi-container runs (docker-compose skills): each service
 * beside the main command gets only its own grants, compiled into its own mounts, its own
 * egress allowlist (a proxy of its own) and its own secrets. Policy sees every service's scopes
 * as requested (so a person approving sees them all, each with the services asking for it), the
 * audit entry records each service with its scopes and mounts, and the request hash covers
 * every mount.
 */
import { parseRequestedScope, parseScope, type Scope } from "../policy/index.ts";
import { compileMounts, runtimeShortfalls, type MountGuard, type SandboxEgress, type SandboxMount, type SandboxSidecar } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";
import type { NormalizedRunRequest } from "./action.ts";

/** The services of a run, worked out. */
export interface PreparedServices {
  /** Every sidecar's grants (for the policy input's granted list). */
  grants: string[];
  /** Every sidecar's requested scopes: its program, file, net.outbound and secrets.read scopes. */
  requested: Scope[];
  /** Each sidecar with its mounts and secrets; its egress is added once the request hash is known (sidecarsWithEgress). */
  sidecars: SandboxSidecar[];
  /** Each sidecar's net.outbound scope texts, by name (only services granted any). */
  egress: Record<string, string[]>;
  /** Each service's resolved mounts, by name (only services with mounts), for the request hash. */
  mounts: Record<string, SandboxMount[]>;
  /** What the audit entry records per service, the main one first. */
  summary: Array<{ name: string; argv: string[]; scopes: string[]; mounts?: Array<{ source: string; target: string; mode: "ro" | "rw" }> }>;
  /** Requested scope text -> the services asking for it, main first (shown on approval requests). */
  askedBy: Record<string, string[]>;
}

/**
 * Works out a request's services, or undefined for a single-container run. Refuses
 * (unavailable) runtimes that cannot run it: they have no containers or no network, and so
 * neither the run network nor any service's egress.
 */
export function prepareServices(request: NormalizedRunRequest, runtime: string, guard: MountGuard, mainMounts: readonly SandboxMount[]): PreparedServices | undefined {
  if (request.services === undefined || request.service === undefined) return undefined;
  // Services need containers and a network between them.
  const shortfalls = runtimeShortfalls(runtime);
  const why = shortfalls.containers ?? shortfalls.network;
  if (why) {
    throw new AegisError("unavailable", `multi-container runs cannot use the ${runtime} runtime: ${why}`, {
      hint: "use --runtime docker for docker-compose skills",
    });
  }
  const summary: PreparedServices["summary"] = [{ name: request.service, argv: request.argv, scopes: request.grants, ...describe(mainMounts) }];
  const prepared: PreparedServices = { grants: [], requested: [], sidecars: [], egress: {}, mounts: {}, summary, askedBy: {} };
  addAsker(prepared.askedBy, request.service, serviceScopes(request.argv, request.grants).requested);
  for (const service of request.services) {
    const { files, net, secrets, requested } = serviceScopes(service.argv, service.grants);
    const mounts = compileMounts(
      files.map((scope) => ({ scope: scope.text, path: scope.path ?? scope.text, written: scope.written ?? scope.path ?? scope.text, readOnly: scope.kind === "files.read" })),
      guard,
    );
    const names = [...new Set(secrets.map((scope) => scope.target ?? ""))].sort();
    prepared.grants.push(...service.grants);
    prepared.requested.push(...requested);
    addAsker(prepared.askedBy, service.name, requested);
    prepared.sidecars.push({ name: service.name, argv: service.argv, ...(service.env ? { env: service.env } : {}), mounts, ...(names.length > 0 ? { secrets: { names } } : {}) });
    if (net.length > 0) prepared.egress[service.name] = net.map((scope) => scope.text);
    if (mounts.length > 0) prepared.mounts[service.name] = mounts;
    summary.push({ name: service.name, argv: service.argv, scopes: service.grants, ...describe(mounts) });
  }
  return prepared;
}

/** The sidecars with their egress, bound to the run's actor and request hash (every egress entry names both, and its service). */
export function sidecarsWithEgress(services: PreparedServices, actor: SandboxEgress["actor"], requestHash: string): SandboxSidecar[] {
  return services.sidecars.map((sidecar) => {
    const allow = services.egress[sidecar.name];
    return allow ? { ...sidecar, egress: { allow, actor, requestHash, service: sidecar.name } } : sidecar;
  });
}

/**
 * One service's scopes as policy reads them: its program, its file scopes in request form, and
 * its net.outbound and secrets.read scopes as granted (a net.outbound grant may omit its port,
 * which the request grammar refuses), like a single run's own.
 */
function serviceScopes(argv: readonly string[], grants: readonly string[]): { files: Scope[]; net: Scope[]; secrets: Scope[]; requested: Scope[] } {
  const parsed = grants.map((text) => ({ text, scope: parseScope(text) }));
  const files = parsed.filter(({ scope }) => scope.kind === "files.read" || scope.kind === "files.write").map(({ text }) => parseRequestedScope(text));
  const net = parsed.filter(({ scope }) => scope.kind === "net.outbound").map(({ scope }) => scope);
  const secrets = parsed.filter(({ scope }) => scope.kind === "secrets.read").map(({ scope }) => scope);
  const requested = [parseRequestedScope(`shell.exec:${argv[0] ?? ""}`), ...files, ...net, ...secrets];
  return { files, net, secrets, requested };
}

function addAsker(askedBy: Record<string, string[]>, service: string, requested: readonly Scope[]): void {
  for (const scope of requested) {
    const services = (askedBy[scope.text] ??= []);
    if (!services.includes(service)) services.push(service);
  }
}

function describe(mounts: readonly SandboxMount[]): { mounts?: Array<{ source: string; target: string; mode: "ro" | "rw" }> } {
  if (mounts.length === 0) return {};
  return { mounts: mounts.map((mount) => ({ source: mount.source, target: mount.target, mode: mount.readOnly ? "ro" : "rw" })) };
}
