import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { AegisError } from "../shared/index.ts";
import { normalizeAbsolutePath, pathWithin } from "./scope-path.ts";
import { scopeCovers, type Scope } from "./scopes.ts";

// Linux's own limit (MAXSYMLINKS); a longer chain is a loop or an attack.
const MAX_LINKS = 40;

/** Where a file scope's path really leads on this machine at the time of the check. */
export interface ResolvedPath {
  /** The lexically normalized path from the scope. */
  path: string;
  /** The path with every symlink followed; for a missing path, the real location it would be created at. */
  resolved: string;
  /** False when the path (or a symlink on it) does not lead to an existing file yet. */
  exists: boolean;
  /** When `exists` is false: the first component (after resolution) that is missing. */
  missing?: string;
}

/** The outcome of scopeCoversResolved: a value with a reason, never an exception. */
export interface ResolvedCoverage {
  covered: boolean;
  /** One line saying why, naming the resolved paths when symlinks changed the answer. */
  reason: string;
  granted?: ResolvedPath;
  requested?: ResolvedPath;
}

/**
 * Follows every symlink in a files.read / files.write scope's path. When the path does not exist,
 * the deepest existing ancestor is resolved and the rest re-appended, walking component by
 * component with lstat so a symlinked parent, or a dangling symlink whose target would be
 * created on write, still lands where the kernel would put it. Throws bad-input for other scope
 * kinds and for symlink loops; I/O errors other than "missing" (e.g. EACCES) are rethrown.
 */
export function resolveScopePath(scope: Scope): ResolvedPath {
  if (scope.kind !== "files.read" && scope.kind !== "files.write") {
    throw new AegisError("bad-input", `scope ${scope.text} has no path to resolve`);
  }
  // The path as written is what gets resolved: `/data/link/../x` is not `/data/x` to the kernel
  // when `link` is a symlink, so lexical `..` removal must not happen first. Validated again here
  // because scopes are plain objects and may be hand-built.
  const written = scope.written ?? scope.target ?? "";
  const path = normalizeAbsolutePath(written);
  try {
    return { path, resolved: realpathSync.native(written), exists: true };
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  return { path, ...walk(written) };
}

function walk(path: string): { resolved: string; exists: boolean; missing?: string } {
  const pending = path.split("/");
  let current = "/";
  let missing: string | undefined;
  let links = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      // `current` holds no symlinks, so its lexical parent is its real parent.
      current = dirname(current);
      continue;
    }
    const candidate = current === "/" ? `/${name}` : `${current}/${name}`;
    if (missing !== undefined) {
      current = candidate;
      continue;
    }
    let isLink: boolean;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (error) {
      if (!isMissing(error)) throw error;
      missing = candidate;
      current = candidate;
      continue;
    }
    if (isLink) {
      links += 1;
      if (links > MAX_LINKS) throw new AegisError("bad-input", `too many symbolic links (a loop?) while resolving ${path}`);
      const target = readlinkSync(candidate);
      pending.unshift(...target.split("/"));
      if (target.startsWith("/")) current = "/";
      continue;
    }
    current = candidate;
  }
  // Everything resolved yet realpath said missing: a race with a concurrent change. Report it as
  // missing at the end so nobody reads "exists" from a path the kernel just refused.
  return { resolved: current, exists: false, missing: missing ?? current };
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * scopeCovers plus symlink resolution for file scopes: the requested path must be inside the
 * grant both as written and after both are resolved (realpath) on this machine, so
 * `files.read:/data` does not cover `/data/link` when the link points to /etc/passwd. Other kinds
 * are decided by scopeCovers alone. Scopes are re-parsed as in scopeCovers. A resolution error
 * means not covered (fail closed). Resolution is a check at one moment (a symlink can change
 * afterwards); the sandbox's mounts are what enforce the grant.
 */
export function scopeCoversResolved(granted: Scope, requested: Scope): ResolvedCoverage {
  if (!scopeCovers(granted, requested)) return { covered: false, reason: `${requested.text} is not covered by ${granted.text}` };
  if (requested.kind !== "files.read" && requested.kind !== "files.write") return { covered: true, reason: `${requested.text} granted by ${granted.text}` };
  let grant: ResolvedPath;
  let request: ResolvedPath;
  try {
    grant = resolveScopePath(granted);
    request = resolveScopePath(requested);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { covered: false, reason: `cannot resolve symlinks for ${requested.text} under ${granted.text}: ${why}` };
  }
  const detail = { granted: grant, requested: request };
  const missingNote = request.exists ? "" : ` (${request.path} does not exist yet; ${request.missing ?? request.resolved} is the first missing part)`;
  if (grant.resolved === "/") {
    return { covered: false, reason: `${granted.text} resolves to /, which is too broad to grant`, ...detail };
  }
  if (!pathWithin(grant.resolved, request.resolved)) {
    return {
      covered: false,
      reason: `${request.path} resolves to ${request.resolved}, outside ${grant.path} (which resolves to ${grant.resolved})${missingNote}`,
      ...detail,
    };
  }
  return { covered: true, reason: `${requested.text} granted by ${granted.text}; resolves to ${request.resolved}${missingNote}`, ...detail };
}
