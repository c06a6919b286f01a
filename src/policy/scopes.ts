import { AegisError, isAegisError } from "../shared/index.ts";
import { formatNetTarget, netTargetCovers, parseNetTarget, type HostKind, type NetTarget } from "./scope-host.ts";
import { normalizeAbsolutePath, pathWithin } from "./scope-path.ts";
import { quoteForMessage, targetError, unsafeCharacter } from "./scope-text.ts";
import { parseToolTarget, toolTargetCovers } from "./scope-tool.ts";

/** Scope kinds of the grammar (see the table on `parseScope`). */
export type ScopeKind = "files.read" | "files.write" | "shell.exec" | "net.outbound" | "secrets.read" | "tool.call";
/** How much a scope exposes; policies can ask or deny above a level. */
export type Risk = "low" | "medium" | "high" | "critical";
/** Grants are held to a stricter grammar than requests (see `parseRequestedScope`). */
export type ScopeRole = "grant" | "request";

/** A parsed scope such as `shell.exec`, `files.read:/data` or `net.outbound:*.example.com:8443`. */
export interface Scope {
  kind: ScopeKind;
  /** The normalized part after the colon; undefined for a bare kind (`shell.exec`). */
  target: string | undefined;
  /** `kind` or `kind:target`, normalized: two scopes with equal text mean the same thing. */
  text: string;
  risk: Risk;
  /** files.*: the normalized absolute path (equal to `target`). */
  path?: string;
  /** files.*: the path as written, validated but not normalized; symlink resolution starts here. */
  written?: string;
  /** net.outbound: lower-case punycode host, dotted-quad IPv4 or compressed IPv6, without `*.`. */
  host?: string;
  hostKind?: HostKind;
  /** net.outbound: the port; absent on a grant means DEFAULT_PORTS (443 and 80). */
  port?: number;
  /** net.outbound: true for `*.example.com` (subdomains only, never the apex). */
  wildcard?: boolean;
}

/**
 * Risk of each kind. shell.exec is only medium because the sandbox has no network and no host
 * paths unless other scopes add them; those scopes carry their own, higher risk. tool.call is
 * high: an agent tool runs outside any sandbox and an unknown one can do anything.
 */
export const SCOPE_RISK: Readonly<Record<ScopeKind, Risk>> = {
  "files.read": "medium",
  "files.write": "high",
  "shell.exec": "medium",
  "net.outbound": "high",
  "secrets.read": "critical",
  "tool.call": "high",
};
const KINDS = Object.keys(SCOPE_RISK) as ScopeKind[];
const NEEDS_TARGET: ReadonlySet<ScopeKind> = new Set(["files.read", "files.write", "net.outbound", "secrets.read"]);
// A bare `tool.call` grant covers every tool, but a request always names the one tool it calls.
const REQUEST_NEEDS_TARGET: ReadonlySet<ScopeKind> = new Set([...NEEDS_TARGET, "tool.call"]);
const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const PROGRAM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/;

/**
 * Kinds whose grant is enforced: programs, host paths (bind mounts, read-only for files.read),
 * network destinations (the internal egress network whose only way out is the run's own egress
 * proxy) and secrets (only the granted names are resolved, as read-only files in /run/secrets)
 * by the sandbox; agent tools (tool.call) by the OpenClaw plugin, whose before_tool_call hook
 * blocks every call the Gate does not allow. No sandbox run requests tool.call, so granting it
 * to a run opens nothing. A kind missing here would parse but be refused: a scope nothing
 * enforces would be a silent hole.
 */
export const ENFORCED_KINDS: ReadonlySet<ScopeKind> = new Set(["shell.exec", "files.read", "files.write", "net.outbound", "secrets.read", "tool.call"]);

/**
 * Parses one granted scope; throws bad-input naming the scope, the reason and the fix.
 *
 * | scope | target |
 * | --- | --- |
 * | `files.read:<path>`, `files.write:<path>` | absolute path, normalized (`.`, `..`, `//`, trailing `/`); `/` is refused as over-broad |
 * | `shell.exec[:<program>]` | bare name (`[A-Za-z0-9_][A-Za-z0-9._+-]*`) or absolute path without `..`; bare kind = any program |
 * | `net.outbound:<host>[:<port>]` | DNS name (IDN to punycode), IPv4 in any spelling, `[IPv6]`, or `*.domain` with at least two labels; no port = 443 and 80 |
 * | `secrets.read:<NAME>` | `[A-Z_][A-Z0-9_]*`, at most 128 characters, matched exactly |
 * | `tool.call[:<name>]` | agent tool name `[A-Za-z0-9_][A-Za-z0-9_.:-]*`, at most 128 characters, case-sensitive; a trailing `*` covers every name with that prefix (`github__*`, `*`); bare kind = any tool |
 */
export function parseScope(text: string): Scope {
  return parseAs(text, "grant");
}

/**
 * Parses a scope an action needs. Same grammar as parseScope except: a file path may be `/`;
 * `net.outbound` must name a port and cannot be a wildcard; a `shell.exec` program may be any
 * argv[0] (relative paths, unusual characters, `..`), which only a bare `shell.exec` grant covers;
 * `tool.call` must name one tool, without `*`.
 */
export function parseRequestedScope(text: string): Scope {
  return parseAs(text, "request");
}

/** Parses a list of grants and refuses kinds the sandbox cannot enforce yet. */
export function parseEnforceableScopes(texts: readonly string[]): Scope[] {
  return texts.map((text) => {
    const scope = parseScope(text);
    if (!ENFORCED_KINDS.has(scope.kind)) {
      throw new AegisError("bad-input", `scope "${scope.text}" is valid but the sandbox cannot enforce it yet, so it cannot be granted`, {
        hint: `remove it; this version grants ${[...ENFORCED_KINDS].join(", ")}`,
      });
    }
    return scope;
  });
}

/**
 * True when `granted` covers `requested`. Pure: no filesystem, so file paths are compared
 * lexically at component boundaries (use scopeCoversResolved where symlinks matter). Both scopes
 * are re-parsed from `kind` and `target` (grant and request grammar respectively), so a
 * hand-built or stale Scope object is judged by its text, and one that does not parse is not
 * covered. Rules: files.write covers files.read and files.write of its subtree, files.read only
 * files.read; a bare shell.exec covers every program, a program grant exactly that string (the
 * grant `echo` does not cover `/bin/echo`: PATH inside the sandbox decides what `echo` runs);
 * hosts per netTargetCovers; secrets by exact name; tools per toolTargetCovers (a bare tool.call
 * covers every tool, `prefix*` the names starting with prefix, a name only itself).
 */
export function scopeCovers(granted: Scope, requested: Scope): boolean {
  const grant = reparse(granted, "grant");
  const request = reparse(requested, "request");
  if (grant === undefined || request === undefined) return false;
  switch (request.kind) {
    case "files.read":
    case "files.write": {
      const kindCovers = grant.kind === "files.write" || grant.kind === request.kind;
      return kindCovers && grant.path !== undefined && request.path !== undefined && pathWithin(grant.path, request.path);
    }
    case "shell.exec":
      return grant.kind === "shell.exec" && (grant.target === undefined || grant.target === request.target);
    case "net.outbound": {
      const grantNet = netTargetOf(grant);
      const requestNet = netTargetOf(request);
      return grant.kind === "net.outbound" && grantNet !== undefined && requestNet !== undefined && netTargetCovers(grantNet, requestNet);
    }
    case "secrets.read":
      return grant.kind === "secrets.read" && grant.target === request.target;
    case "tool.call":
      return grant.kind === "tool.call" && request.target !== undefined && toolTargetCovers(grant.target, request.target);
  }
}

function reparse(scope: Scope, role: ScopeRole): Scope | undefined {
  try {
    const parsed = parseAs(scope.target === undefined ? scope.kind : `${scope.kind}:${scope.target}`, role);
    return parsed.kind === scope.kind ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function netTargetOf(scope: Scope): NetTarget | undefined {
  if (scope.host === undefined || scope.hostKind === undefined) return undefined;
  return { host: scope.host, hostKind: scope.hostKind, wildcard: scope.wildcard === true, port: scope.port };
}

/** Parsed scopes by role and text, frozen: the Gate parses the same few scopes on every decision. */
const parsedScopes = new Map<string, Scope>();
const MAX_PARSED_SCOPES = 4096;

function parseAs(text: string, role: ScopeRole): Scope {
  const key = `${role}\0${text}`;
  let scope = parsedScopes.get(key);
  if (scope) return scope;
  // Parsing is a pure function of the text and role; failures are not kept (they throw).
  scope = Object.freeze(parseFresh(text, role));
  if (parsedScopes.size >= MAX_PARSED_SCOPES) parsedScopes.clear();
  parsedScopes.set(key, scope);
  return scope;
}

function parseFresh(text: string, role: ScopeRole): Scope {
  // Quoted only for an error: parsing runs several times per decision and nearly always succeeds.
  const shown = () => quoteForMessage(text);
  if (text !== text.trim()) throw new AegisError("bad-input", `scope ${shown()} has leading or trailing whitespace`, { hint: "remove the spaces" });
  const colon = text.indexOf(":");
  const kindText = colon === -1 ? text : text.slice(0, colon);
  const kind = KINDS.find((known) => known === kindText);
  if (kind === undefined) {
    throw new AegisError("bad-input", `unknown scope kind in ${shown()}`, { hint: `scopes start with one of: ${KINDS.join(", ")}` });
  }
  const risk = SCOPE_RISK[kind];
  const needsTarget = (role === "request" ? REQUEST_NEEDS_TARGET : NEEDS_TARGET).has(kind);
  if (colon === -1) {
    if (needsTarget) {
      const hint = kind === "tool.call" ? "a request names the one tool it calls: write tool.call:<name>" : `write ${kind}:<target>`;
      throw new AegisError("bad-input", `scope ${shown()} needs a target`, { hint });
    }
    return { kind, target: undefined, text: kind, risk };
  }
  const raw = text.slice(colon + 1);
  try {
    if (raw === "") throw targetError("the target after : is empty", needsTarget ? `write ${kind}:<target>` : `write ${kind}:<target>, or ${kind} alone`);
    const fields = parseTarget(kind, raw, role);
    return { kind, text: `${kind}:${fields.target}`, risk, ...fields };
  } catch (error) {
    if (!isAegisError(error)) throw error;
    throw new AegisError("bad-input", `scope ${shown()}: ${error.message}`, error.hint === undefined ? {} : { hint: error.hint });
  }
}

type TargetFields = Omit<Scope, "kind" | "text" | "risk"> & { target: string };

function parseTarget(kind: ScopeKind, raw: string, role: ScopeRole): TargetFields {
  switch (kind) {
    case "files.read":
    case "files.write": {
      const path = normalizeAbsolutePath(raw);
      if (role === "grant" && path === "/") {
        throw targetError("granting / is over-broad: it would expose the whole host", "grant the directories the task needs, e.g. /home/me/project");
      }
      return { target: path, path, written: raw };
    }
    case "shell.exec":
      return { target: parseProgram(raw, role) };
    case "net.outbound": {
      const net = parseNetTarget(raw, role);
      return { target: formatNetTarget(net), host: net.host, hostKind: net.hostKind, wildcard: net.wildcard, ...(net.port === undefined ? {} : { port: net.port }) };
    }
    case "secrets.read":
      if (!SECRET_NAME.test(raw)) {
        throw targetError("secret names are upper-case letters, digits and _, not starting with a digit, at most 128 characters", "write e.g. secrets.read:GITHUB_TOKEN");
      }
      return { target: raw };
    case "tool.call":
      return { target: parseToolTarget(raw, role) };
  }
}

function parseProgram(raw: string, role: ScopeRole): string {
  const unsafe = unsafeCharacter(raw);
  if (unsafe !== undefined) throw targetError(`program ${unsafe}`);
  const climbs = raw.split("/").includes("..");
  if (raw.startsWith("/")) {
    // `..` is not removed lexically: in the image `/bin` may be a symlink, so `/bin/../x` may not
    // be `/x`. A grant must say the real path; a request keeps its spelling and so only a bare
    // shell.exec covers it.
    if (climbs && role === "grant") throw targetError("program path must not contain ..", "write the program's full path, e.g. /usr/bin/git");
    const program = climbs ? raw : normalizeAbsolutePath(raw);
    if (program === "/") throw targetError("/ is not a program");
    return program;
  }
  if (role === "request") return raw;
  if (!PROGRAM_NAME.test(raw)) {
    throw targetError("program must be a bare name (letters, digits, . _ + -) or an absolute path", "write e.g. shell.exec:git or shell.exec:/usr/bin/git");
  }
  return raw;
}
