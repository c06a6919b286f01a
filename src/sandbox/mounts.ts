/**
 * The host paths a sandbox gets: files.read / files.write grants compiled into bind mounts,
 * refused when they would expose what protects the host or AegisClaw itself, and re-checked
 * just before the sandbox is created (a symlink swapped after the decision must not move the
 * mount somewhere nobody decided on). After that check the runtimes pin each source by file
 * descriptor and mount the descriptor, not the path (mount-pin.ts, mount-stage.ts).
 */
import { realpathSync, type Stats, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { AegisError } from "../shared/index.ts";
import type { SandboxMount } from "./types.ts";

/** One file scope the sandbox should mount, as the Gate hands it over (plain data, no policy types). */
export interface MountRequest {
  /** The scope text, for messages (`files.read:/data`). */
  scope: string;
  /** The lexically normalized absolute path of the scope; it becomes the target inside the sandbox. */
  path: string;
  /** The path as written in the scope; symlink resolution starts here. */
  written: string;
  readOnly: boolean;
}

/** What must never be mounted besides the fixed system paths: passed in, never guessed. */
export interface MountGuard {
  /** `$AEGISCLAW_HOME`: it holds the audit signing key, the config and the lockdown flag. */
  home: string;
  /** The Docker engine socket (config `sandbox.dockerSocket`): access to it is root on the host. */
  dockerSocket: string;
}

interface Zone {
  path: string;
  rule: string;
  what: string;
}

// Kernel and runtime interfaces: mounting any of them (or a parent of them) hands the sandbox
// control of the host, its devices, or other processes' sockets.
const SYSTEM_ZONES: readonly Zone[] = [
  { path: "/proc", rule: "mount.proc", what: "kernel process interface" },
  { path: "/sys", rule: "mount.sys", what: "kernel interface" },
  { path: "/dev", rule: "mount.dev", what: "host devices" },
  { path: "/run", rule: "mount.run", what: "runtime sockets and state" },
  { path: "/var/run", rule: "mount.run", what: "runtime sockets and state" },
  { path: "/boot", rule: "mount.boot", what: "kernel and boot loader" },
];

/**
 * Compiles file scopes into bind mounts. Each path must exist now (a read of nothing is a
 * mistake; a write target must be created by a person first, see docs/sandbox.md), be a
 * directory or a regular file, and neither as written nor after resolving symlinks be, contain
 * or lie inside a forbidden zone (forbiddenMountReason). The source is the canonical host path
 * at this moment; the target is the path as granted. A path requested both read-only and
 * writable is mounted once, writable. Throws bad-input naming the scope and the rule.
 */
export function compileMounts(requests: readonly MountRequest[], guard: MountGuard): SandboxMount[] {
  // Most runs mount nothing; resolving the forbidden zones costs syscalls on every decision.
  if (requests.length === 0) return [];
  const zones = forbiddenZones(guard);
  const byTarget = new Map<string, SandboxMount>();
  for (const request of requests) {
    const refuse = (why: string, hint?: string) => new AegisError("bad-input", `${request.scope} cannot be mounted: ${why}`, hint === undefined ? {} : { hint });
    const lexical = zoneReason(request.path, zones);
    if (lexical) throw refuse(lexical, "grant a directory that holds only what the task needs");
    const source = resolveExisting(request.written, request, refuse);
    // `/a/link/../b` is not `/a/b` to the kernel: the target (lexical) and the source must agree.
    if (resolveExisting(request.path, request, refuse) !== source) {
      throw refuse(`${request.written} and ${request.path} lead to different places (.. after a symlink)`, "write the real path without .. components");
    }
    const resolved = zoneReason(source, zones);
    if (resolved) throw refuse(`it resolves to ${source}: ${resolved}`, "grant a directory that holds only what the task needs");
    const stats = statOf(source, request, refuse);
    if (!stats.isDirectory() && !stats.isFile()) throw refuse(`${source} is neither a directory nor a regular file [mount.file-type]`);
    const previous = byTarget.get(request.path);
    byTarget.set(request.path, { source, target: request.path, readOnly: request.readOnly && (previous?.readOnly ?? true) });
  }
  return [...byTarget.values()].sort((a, b) => a.target.localeCompare(b.target));
}

/**
 * Why `path` (absolute, normalized) must not be mounted, or undefined when it may. The rule id
 * in brackets names what protects the host: `/` itself, and anything that is, contains or lies
 * inside /proc, /sys, /dev, /run, /var/run, /boot, the Docker socket or its directory, or the
 * AegisClaw home. Zones are also compared in their symlink-resolved form (/var/run -> /run).
 */
export function forbiddenMountReason(path: string, guard: MountGuard): string | undefined {
  return zoneReason(path, forbiddenZones(guard));
}

/**
 * Re-resolves every mount's target on the host just before the sandbox is created and refuses
 * the run when it no longer leads to the source decided on (a swapped symlink) or is gone. A
 * path check alone leaves a window before the mount (a real directory on the source path
 * renamed and replaced); pinMounts closes it by holding the checked source open, and is what
 * the runtimes call. Used alone only where nothing can be pinned: the Docker runtime without
 * root (mount-stage.ts).
 */
export function verifyMountSources(mounts: readonly SandboxMount[]): void {
  for (const mount of mounts) {
    let now: string;
    try {
      now = realpathSync.native(mount.target);
    } catch (error) {
      throw new AegisError("denied", `sandbox refused: granted path ${mount.target} no longer exists (it was ${mount.source} when the run was decided)`, {
        hint: "recreate it, or run again so the new state is decided on",
        cause: error,
      });
    }
    if (now !== mount.source) {
      throw new AegisError("denied", `sandbox refused: granted path ${mount.target} now resolves to ${now}, not ${mount.source} as decided (symlink changed)`, {
        hint: "find out who changed the symlink; run again to have the new target decided on",
      });
    }
  }
}

function forbiddenZones(guard: MountGuard): Zone[] {
  const socket = resolve(guard.dockerSocket);
  const listed: Zone[] = [
    // The most specific zone first, so the message names the socket rather than /var/run.
    { path: socket, rule: "mount.docker-socket", what: "the Docker socket" },
    { path: resolve(guard.home), rule: "mount.aegisclaw-home", what: "the AegisClaw home (audit signing key)" },
    ...SYSTEM_ZONES,
    { path: dirname(socket), rule: "mount.docker-socket", what: "the directory of the Docker socket" },
  ];
  const zones: Zone[] = [];
  for (const zone of listed) {
    zones.push(zone);
    const real = realOrUndefined(zone.path);
    if (real !== undefined && real !== zone.path) zones.push({ ...zone, path: real });
  }
  return zones;
}

function zoneReason(path: string, zones: readonly Zone[]): string | undefined {
  if (path === "/") return "/ would expose the whole host [mount.root]";
  for (const zone of zones) {
    if (zone.path === "/") continue;
    if (within(zone.path, path)) return `${path === zone.path ? "it is" : "it lies inside"} ${zone.path} (${zone.what}) [${zone.rule}]`;
    if (within(path, zone.path)) return `it contains ${zone.path} (${zone.what}) [${zone.rule}]`;
  }
  return undefined;
}

function within(parent: string, child: string): boolean {
  return child === parent || child.startsWith(`${parent}/`);
}

// realpathSync.native is realpath(3) itself: Node's JS realpathSync removes `..` lexically
// first, which is wrong when the component before `..` is a symlink.
function resolveExisting(path: string, request: MountRequest, refuse: (why: string, hint?: string) => AegisError): string {
  try {
    return realpathSync.native(path);
  } catch (error) {
    throw missingOrUnreadable(error, path, request, refuse);
  }
}

/** The source's type; resolved a moment ago, it may be gone (renamed away) by now. */
function statOf(source: string, request: MountRequest, refuse: (why: string, hint?: string) => AegisError): Stats {
  try {
    return statSync(source);
  } catch (error) {
    throw missingOrUnreadable(error, source, request, refuse);
  }
}

function missingOrUnreadable(error: unknown, path: string, request: MountRequest, refuse: (why: string, hint?: string) => AegisError): AegisError {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT" || code === "ENOTDIR") {
    const fix = request.readOnly ? "check the path" : `create it first (mkdir -p ${request.path}) and make it writable by uid 65534, e.g. chmod o+rwx or setfacl -m u:65534:rwx`;
    return refuse(`${path} does not exist [mount.missing]`, fix);
  }
  return refuse(`cannot resolve ${path}: ${(error as Error).message}`);
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}
