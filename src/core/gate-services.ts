/**
 * The validate stage's share of multi-container runs (docker-compose skills): each service
 * beside the main command gets only its own grants, compiled into its own mounts. Policy sees
 * every service's scopes as requested (so a person approving sees them all), the audit entry
 * records each service with its scopes and mounts, and the request hash covers every mount.
 */
import { parseRequestedScope, parseScope, type Scope } from "../policy/index.ts";
import { compileMounts, runtimeShortfalls, type MountGuard, type SandboxMount, type SandboxSidecar } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";
import type { NormalizedRunRequest } from "./action.ts";

/** The services of a run, worked out. */
export interface PreparedServices {
  /** Every service's grants (for the policy input's granted list). */
  grants: string[];
  /** Every service's requested scopes: its program and its file scopes. */
  requested: Scope[];
  sidecars: SandboxSidecar[];
  /** Each service's resolved mounts, by name (only services with mounts), for the request hash. */
  mounts: Record<string, SandboxMount[]>;
  /** What the audit entry records per service, the main one first. */
  summary: Array<{ name: string; argv: string[]; scopes: string[]; mounts?: Array<{ source: string; target: string; mode: "ro" | "rw" }> }>;
}

/**
 * Works out a request's services, or undefined for a single-container run. Refuses (bad input)
 * what a multi-container run cannot enforce yet: net.outbound and secrets.read, on any
 * service; and (unavailable) runtimes that cannot run it.
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
  refuseUnsupported(request.service, request.grants);
  const summary: PreparedServices["summary"] = [{ name: request.service, argv: request.argv, scopes: request.grants, ...describe(mainMounts) }];
  const prepared: PreparedServices = { grants: [], requested: [], sidecars: [], mounts: {}, summary };
  for (const service of request.services) {
    refuseUnsupported(service.name, service.grants);
    const files = service.grants.filter((text) => isFileKind(parseScope(text).kind)).map((text) => parseRequestedScope(text));
    const mounts = compileMounts(
      files.map((scope) => ({ scope: scope.text, path: scope.path ?? scope.text, written: scope.written ?? scope.path ?? scope.text, readOnly: scope.kind === "files.read" })),
      guard,
    );
    prepared.grants.push(...service.grants);
    prepared.requested.push(parseRequestedScope(`shell.exec:${service.argv[0] ?? ""}`), ...files);
    prepared.sidecars.push({ name: service.name, argv: service.argv, ...(service.env ? { env: service.env } : {}), mounts });
    if (mounts.length > 0) prepared.mounts[service.name] = mounts;
    summary.push({ name: service.name, argv: service.argv, scopes: service.grants, ...describe(mounts) });
  }
  return prepared;
}

function refuseUnsupported(service: string, grants: readonly string[]): void {
  for (const text of grants) {
    const kind = parseScope(text).kind;
    if (kind === "net.outbound" || kind === "secrets.read") {
      throw new AegisError("bad-input", `service ${service}: ${kind} is not supported in multi-container runs yet (${text})`, { hint: "only shell.exec and files.* scopes can be given to the services of a docker-compose skill" });
    }
  }
}

function describe(mounts: readonly SandboxMount[]): { mounts?: Array<{ source: string; target: string; mode: "ro" | "rw" }> } {
  if (mounts.length === 0) return {};
  return { mounts: mounts.map((mount) => ({ source: mount.source, target: mount.target, mode: mount.readOnly ? "ro" : "rw" })) };
}

function isFileKind(kind: Scope["kind"]): boolean {
  return kind === "files.read" || kind === "files.write";
}
