import type { AuditEntry } from "../audit/index.ts";
import { highestRisk, parseEnforceableScopes, parseRequestedScope, parseScope, scopeCovers, scopeCoversResolved, type PolicyHistory, type PolicyInput, type RequestedScope, type Scope } from "../policy/index.ts";
import { compileMounts, runtimeShortfalls, type SandboxLimits, type SandboxMount, type SandboxSpec } from "../sandbox/index.ts";
import { AegisError } from "../shared/index.ts";
import { requestHash, RunRequest, type NormalizedRunRequest } from "./action.ts";
import { runSecretNames } from "./gate-secret-dirs.ts";
import { prepareServices, sidecarsWithEgress } from "./gate-services.ts";
import { lowerLimits, skillPolicyInput, skillSummary } from "./gate-skill.ts";
import type { Config } from "./config.ts";
import { parseDuration, parseSize } from "./units.ts";

/** Supplies the policy input's history for an actor. */
export type HistorySource = (actor: { name: string; source: string }) => PolicyHistory;

/** For callers without an audit log to look at (tests, tools): no recorded history. */
export const NO_HISTORY: HistorySource = () => ({ windowSeconds: HISTORY_WINDOW_SECONDS, recentDecisions: 0, recentDenies: 0 });

/** The history window: long enough to see a burst of attempts, short enough to forgive. */
export const HISTORY_WINDOW_SECONDS = 600;

/** Counts an actor's decisions and denials within the window, from recent audit entries. */
export function historyFrom(entries: readonly AuditEntry[], actor: { name: string; source: string }, now = Date.now()): PolicyHistory {
  const since = now - HISTORY_WINDOW_SECONDS * 1000;
  let recentDecisions = 0;
  let recentDenies = 0;
  for (const entry of entries) {
    if (entry.type !== "decision" || entry.actor.name !== actor.name || entry.actor.source !== actor.source) continue;
    if (Date.parse(entry.time) < since) continue;
    recentDecisions++;
    if (entry.decision?.kind === "deny") recentDenies++;
  }
  return { windowSeconds: HISTORY_WINDOW_SECONDS, recentDecisions, recentDenies };
}

/** A validated request with everything the later stages need, computed once. */
export interface PreparedRun {
  request: NormalizedRunRequest;
  runId: string;
  hash: string;
  spec: SandboxSpec;
  policyInput: PolicyInput;
  /** What the audit entry records about the request (never secret values). */
  summary: Record<string, unknown>;
  /** Multi-container runs: requested scope text -> the services asking for it (approval requests show it). */
  askedBy?: Record<string, string[]>;
}

/**
 * The validate stage: schema, scopes, mounts, egress, defaults from config, canonical hash,
 * policy input. A files.* or net.outbound scope given on the request is both requested (the run
 * needs that mount or host) and granted by the caller; config grants only grant, so nothing in
 * config.yaml opens a path or a host for every run. Mounts are compiled here, before any
 * decision, so a forbidden or missing path is bad input (exit 65) and nothing is recorded.
 * `home` is `$AEGISCLAW_HOME`, which is never mountable. A run's net.outbound scopes become its
 * egress allowlist (spec.egress); under gVisor, which has no network here, they are refused
 * (unavailable, exit 69) rather than silently dropped.
 */
export function prepareRun(input: RunRequest, config: Config, runtime: string, lockdown: boolean, history: HistorySource, home: string): PreparedRun {
  const request = validate(input);
  const image = request.image ?? config.sandbox.image;
  const timeoutMs = request.timeoutMs ?? parseDuration(config.sandbox.timeout) ?? 300_000;
  // Only file scopes are re-read as requests: a net.outbound grant may omit its port, which the request grammar refuses.
  const files = unique(request.grants.filter((text) => isFileKind(parseScope(text).kind)).map((text) => parseRequestedScope(text)));
  const mounts = compileMounts(
    files.map((scope) => ({ scope: scope.text, path: scope.path ?? scope.text, written: scope.written ?? scope.path ?? scope.text, readOnly: scope.kind === "files.read" })),
    { home, dockerSocket: config.sandbox.dockerSocket },
  );
  const egress = unique(request.grants.map((text) => parseScope(text)).filter((scope) => scope.kind === "net.outbound"));
  const noNetwork = runtimeShortfalls(runtime).network;
  if (egress.length > 0 && noNetwork) {
    throw new AegisError("unavailable", `net.outbound cannot be enforced under ${runtime}: ${noNetwork} (${egress.map((s) => s.text).join(", ")})`, {
      hint: "use --runtime docker for runs that need the network",
    });
  }
  // A run's own secrets.read scopes are requested (and granted) like files.*: config grants only
  // grant, so nothing in config.yaml hands a secret to every run. Values are read after the decision.
  const secrets = unique(request.grants.map((text) => parseScope(text)).filter((scope) => scope.kind === "secrets.read"));
  // Multi-container runs: each service's own grants and mounts; every service's scopes are requested.
  const services = prepareServices(request, runtime, { home, dockerSocket: config.sandbox.dockerSocket }, mounts);
  const granted = parseEnforceableScopes([...config.policy.grants, ...request.grants, ...(services?.grants ?? [])]);
  const serviceMounts = services && Object.keys(services.mounts).length > 0 ? { serviceMounts: services.mounts } : {};
  // `grants` (as given) is part of the request, so the hash covers every net.outbound scope.
  const hash = requestHash({ ...request, image, runtime, timeoutMs, ...(mounts.length > 0 ? { mounts } : {}), ...serviceMounts });
  const runId = newRunId();
  const allMounts = [...mounts, ...Object.values(services?.mounts ?? {}).flat()];
  const requested = unique([programScope(request.argv[0] ?? ""), ...files, ...egress, ...secrets, ...(services?.requested ?? [])]);
  const policyInput: PolicyInput = {
    action: "run",
    actor: request.actor,
    argv: request.argv,
    image,
    runtime,
    requested: requested.map((scope) => redirected(scope.kind === "net.outbound" ? netCoverage(scope, granted) : coverage(scope, granted), scope, allMounts)),
    granted: granted.map((scope) => ({ scope: scope.text, kind: scope.kind, risk: scope.risk })),
    skill: skillPolicyInput(request),
    lockdown,
    guardrails: [],
    history: history(request.actor),
  };
  const spec: SandboxSpec = {
    runId,
    image,
    argv: request.argv,
    timeoutMs,
    limits: lowerLimits(limitsFrom(config), request.limits),
    mounts,
    labels: { "io.aegisclaw.actor": request.actor.name, ...(request.skill ? { "io.aegisclaw.skill": request.skill.name } : {}) },
    ...(request.env ? { env: request.env } : {}),
    // A service's egress entries name it: each service of a multi-container run has a proxy of its own.
    ...(egress.length > 0 ? { egress: { allow: egress.map((scope) => scope.text), actor: request.actor, requestHash: hash, ...(services && request.service ? { service: request.service } : {}) } } : {}),
    ...(secrets.length > 0 ? { secrets: { names: secretNames(secrets) } } : {}),
    ...(services && request.service ? { compose: { service: request.service, sidecars: sidecarsWithEgress(services, request.actor, hash) } } : {}),
  };
  // The audit entry lists every host and secret any container of the run is granted; `services` says whose.
  const allEgress = [...new Set([...egress.map((scope) => scope.text), ...Object.values(services?.egress ?? {}).flat()])];
  const allSecrets = runSecretNames(spec);
  const summary = {
    argv: request.argv,
    image,
    runtime,
    timeoutMs,
    granted: granted.map((s) => s.text),
    requested: requested.map((s) => s.text),
    ...(mounts.length > 0 ? { mounts: mounts.map(describeMount) } : {}),
    ...(allEgress.length > 0 ? { egress: allEgress } : {}),
    ...(allSecrets.length > 0 ? { secrets: allSecrets } : {}),
    ...(services ? { services: services.summary } : {}),
    ...skillSummary(request),
  };
  return { request, runId, hash, spec, policyInput, summary, ...(services ? { askedBy: services.askedBy } : {}) };
}

/**
 * Matches one requested scope against every grant with symlink resolution. When a grant covers
 * it as written but not once resolved, that reason is kept: it is what explains the denial.
 */
export function coverage(scope: Scope, granted: readonly Scope[]): RequestedScope {
  const base = { scope: scope.text, kind: scope.kind, ...(scope.target ? { target: scope.target } : {}), risk: scope.risk };
  let reason: string | undefined;
  for (const grant of granted) {
    const result = scopeCoversResolved(grant, scope);
    if (result.covered) return { ...base, granted: true, grantedBy: grant.text };
    if (scopeCovers(grant, scope)) reason ??= result.reason;
  }
  return { ...base, granted: false, ...(reason ? { reason } : {}) };
}

/**
 * A file scope whose path reaches another place through a symlink (a link someone planted in a
 * granted directory, say) names the place it really mounts, and is at least high risk: the
 * standard template then asks a person, who sees where it leads, instead of allowing a grant
 * that reads as one directory and opens another.
 */
function redirected(covered: RequestedScope, scope: Scope, mounts: readonly SandboxMount[]): RequestedScope {
  if (!isFileKind(scope.kind)) return covered;
  const mount = mounts.find((candidate) => candidate.target === scope.path);
  if (!mount || mount.source === mount.target) return covered;
  return { ...covered, risk: highestRisk([covered.risk, "high"]), resolvesTo: mount.source };
}

/**
 * A run's own net.outbound scope is in grant form (it may be a wildcard or omit the port), so it
 * is covered by a grant with the same canonical text: the run's own, or an identical config grant.
 */
function netCoverage(scope: Scope, granted: readonly Scope[]): RequestedScope {
  const base = { scope: scope.text, kind: scope.kind, ...(scope.target ? { target: scope.target } : {}), risk: scope.risk };
  const grant = granted.find((candidate) => candidate.text === scope.text);
  return grant ? { ...base, granted: true, grantedBy: grant.text } : { ...base, granted: false };
}

/** How the audit entry records a mount: where it really leads, and whether it is writable. */
function describeMount(mount: SandboxMount): { source: string; target: string; mode: "ro" | "rw" } {
  return { source: mount.source, target: mount.target, mode: mount.readOnly ? "ro" : "rw" };
}

/** The granted secrets' names, sorted: what the sandbox receives and the audit entry records. */
function secretNames(scopes: readonly Scope[]): string[] {
  return scopes.map((scope) => scope.target ?? "").sort();
}

function isFileKind(kind: Scope["kind"]): boolean {
  return kind === "files.read" || kind === "files.write";
}

export function unique(scopes: Scope[]): Scope[] {
  return scopes.filter((scope, index) => scopes.findIndex((other) => other.text === scope.text) === index);
}

/** `shell.exec:<program>`; a program no grant grammar can name is covered only by a bare `shell.exec`. */
function programScope(program: string): Scope {
  return parseRequestedScope(`shell.exec:${program}`);
}

function validate(input: RunRequest): NormalizedRunRequest {
  const parsed = RunRequest.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") || "request";
  throw new AegisError("bad-input", `invalid run request: ${field}: ${issue?.message ?? "invalid"}`);
}

/** The limits config.yaml gives a run that asks for none lower (the warm pool keys on the same numbers). */
export function limitsFrom(config: Config): SandboxLimits {
  const limits = config.sandbox.limits;
  return {
    pids: limits.pids,
    memoryBytes: parseSize(limits.memory) ?? 256 * 1024 ** 2,
    cpus: limits.cpus,
    tmpfsBytes: parseSize(limits.tmpfs) ?? 64 * 1024 ** 2,
    outputBytes: parseSize(limits.output) ?? 16 * 1024 ** 2,
  };
}

/** Time-sortable run id: `r-` + base36 milliseconds + 8 random hex digits. */
export function newRunId(): string {
  const random = crypto.getRandomValues(new Uint8Array(4));
  return `r-${Date.now().toString(36)}-${Buffer.from(random).toString("hex")}`;
}
