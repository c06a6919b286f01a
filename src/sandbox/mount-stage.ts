/**
 * Hands a container engine (Docker: runc, gVisor, compose services) granted mounts it cannot
 * redirect. The engine only takes paths, and resolves them itself some time after our last
 * check; so, as root, each pinned source (mount-pin.ts) is bind-mounted from its descriptor
 * onto a staging path that only root can reach, and the engine gets that path. mount(2)
 * follows /proc/self/fd/N to the pinned inode: no path is walked after the check.
 *
 *   /run/aegisclaw/mounts            0700 root, a private mount of its own (nothing propagates)
 *     <pid>.<random>/                0700, one per container; <pid> lets a later run sweep it
 *       0, 1, ...                    the staged binds, in the order of the spec's mounts
 *
 * Without root (or CAP_SYS_ADMIN) nothing can be mounted: the engine gets the decided paths
 * after verifyMountSources, and the short window before the engine's own mount remains.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { AegisError, entriesOfGoneProcesses, FileLock } from "../shared/index.ts";
import { pinMounts, unpinMounts, type PinnedMount } from "./mount-pin.ts";
import { verifyMountSources } from "./mounts.ts";
import { LABEL_STAGED_SOURCES, type SandboxMount, type SandboxSpec } from "./types.ts";

/** Where staged mounts live. Ours, not a grant: /run is a forbidden grant zone, which is the point. */
export const STAGING_BASE = "/run/aegisclaw/mounts";
/** `<pid>.<16 hex>`: the pid of the AegisClaw process that staged it. */
const ENTRY = /^(\d{1,10})\.[0-9a-f]{16}$/;
const CAP_SYS_ADMIN = 21n;
const TOOL_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
const TOOL_TIMEOUT_MS = 10_000;

/** The mounts to give the engine, and the clean-up to run once the container is gone. */
export interface EngineMounts {
  /** The spec's mounts with each source replaced by its staging path (unchanged when not staged). */
  mounts: SandboxMount[];
  /** True when the sources were pinned and staged; false when the engine gets the decided paths. */
  staged: boolean;
  /** Unmounts and removes the staging paths; idempotent; throws when something stayed behind. */
  release(): Promise<void>;
}

/** The spec the engine gets: staged sources, and a label naming the granted path behind each (X-ray shows those). */
export function engineSpec(spec: SandboxSpec, mounts: EngineMounts): SandboxSpec {
  if (!mounts.staged) return spec;
  const granted = Object.fromEntries(mounts.mounts.map((mount, index) => [mount.source, spec.mounts?.[index]?.source ?? ""]));
  return { ...spec, mounts: mounts.mounts, labels: { ...spec.labels, [LABEL_STAGED_SOURCES]: JSON.stringify(granted) } };
}

/** True when this process may mount (root with CAP_SYS_ADMIN), so sources can be staged. */
export function canStageMounts(): boolean {
  if (process.getuid?.() !== 0) return false;
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  return line !== undefined && ((BigInt(`0x${line}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
}

/**
 * Just before the engine creates a container: re-checks the mounts and, where possible, pins
 * and stages them (see the file comment). Refuses the run (`denied`) when a path changed since
 * the decision, `unavailable` when staging itself fails. Directories of dead AegisClaw
 * processes are swept first. `stage` says whether this process can mount (canStageMounts).
 */
export async function engineMounts(mounts: readonly SandboxMount[], base = STAGING_BASE, stage = canStageMounts()): Promise<EngineMounts> {
  if (mounts.length === 0) return { mounts: [], staged: false, release: async () => {} };
  if (!stage) {
    verifyMountSources(mounts);
    return { mounts: [...mounts], staged: false, release: async () => {} };
  }
  await sweepStaleStagedMounts(base);
  const pins = pinMounts(mounts);
  try {
    return await stageMounts(pins, base);
  } finally {
    // The staged binds hold the inodes now; the descriptors are no longer needed.
    unpinMounts(pins);
  }
}

/**
 * Bind-mounts each pin's inode (not its path) at a fresh staging path and checks that the
 * staged mount is that inode (dev and ino). Needs root; prepares the base when it is missing.
 * Any failure unstages what was staged and throws `unavailable`.
 */
export async function stageMounts(pins: readonly PinnedMount[], base = STAGING_BASE): Promise<EngineMounts> {
  await prepareStagingBase(base);
  const dir = join(base, `${process.pid}.${randomBytes(8).toString("hex")}`);
  mkdirSync(dir, { mode: 0o700 });
  const targets: string[] = [];
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await removeStaged(dir, targets);
  };
  try {
    for (const [index, pin] of pins.entries()) {
      const target = join(dir, String(index));
      // The mount point must match the source's type; its own mode is hidden by the bind.
      if (pin.kind === "directory") mkdirSync(target, { mode: 0o700 });
      else closeSync(openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      targets.push(target);
      // rbind for directories: Docker's bind mounts are recursive, so submounts stay visible as before.
      const bind = pin.kind === "directory" ? "--rbind" : "--bind";
      await tool(["mount", bind, "--make-rprivate", "--no-canonicalize", "/proc/self/fd/3", target], `stage ${pin.mount.source}`, pin.fd);
      const staged = statSync(target, { bigint: true });
      if (staged.dev !== pin.dev || staged.ino !== pin.ino) throw new AegisError("unavailable", `the staged mount of ${pin.mount.source} at ${target} is not the pinned inode`);
    }
  } catch (error) {
    await release().catch(() => undefined); // the staging failure is the one to report
    throw error;
  }
  return { mounts: pins.map((pin, index) => ({ ...pin.mount, source: targets[index] ?? "" })), staged: true, release };
}

/**
 * Removes staging directories whose AegisClaw process is gone (killed mid-run). A container it
 * left running keeps its own copy of the mount; the host's copy is only detached here.
 */
export async function sweepStaleStagedMounts(base = STAGING_BASE): Promise<string[]> {
  const swept: string[] = [];
  for (const name of entriesOfGoneProcesses(base, (entry) => Number(ENTRY.exec(entry)?.[1] ?? Number.NaN))) {
    const dir = join(base, name);
    try {
      await removeStaged(dir, readdirSync(dir).map((entry) => join(dir, entry)));
      swept.push(name);
    } catch {
      // Left for the next sweep; it stays root-only meanwhile.
    }
  }
  return swept;
}

/**
 * Detaches every staged bind (lazily: whatever still uses one keeps it, nothing new reaches it)
 * and removes the mount points and the directory. Never recursive deletion: a mount point that
 * is still mounted fails rmdir/unlink with EBUSY instead of deleting granted files.
 */
async function removeStaged(dir: string, targets: readonly string[]): Promise<void> {
  if (targets.length > 0) await tool(["umount", "--lazy", "--no-canonicalize", ...targets], "unstage", undefined).catch(() => undefined);
  const left: string[] = [];
  for (const target of targets) {
    try {
      if (lstatSync(target).isDirectory()) rmdirSync(target);
      else unlinkSync(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") left.push(`${target} (${(error as Error).message})`);
    }
  }
  try {
    rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") left.push(`${dir} (${(error as Error).message})`);
  }
  if (left.length > 0) {
    throw new AegisError("internal", `cannot remove staged mounts: ${left.join(", ")}`, { hint: `unmount them (umount -l) and remove ${dir}; they are only reachable by root` });
  }
}

/**
 * Creates the base (0700 root) and makes it a private mount of its own, so staged binds never
 * propagate into other mount namespaces and unmounting them stays local. Under a lock: two
 * processes binding the base at once would stack two mounts and hide each other's staging.
 */
async function prepareStagingBase(base: string): Promise<void> {
  for (const dir of [dirname(base), base]) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw unavailable(dir, `cannot be created (${(error as Error).message})`);
    }
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.uid !== 0) throw unavailable(dir, "is not a directory owned by root");
    // The base itself is root's alone; its parent only must not be writable by anyone else.
    if ((stat.mode & (dir === base ? 0o077 : 0o022)) !== 0) throw unavailable(dir, `is open to other users (mode ${(stat.mode & 0o777).toString(8)})`);
  }
  if (basePropagation(base) === "private") return;
  const lock = await FileLock.open(join(dirname(base), "mounts.lock"));
  try {
    await lock.acquire({ what: "the mount staging directory" });
    const now = basePropagation(base);
    if (now === "none") await tool(["mount", "--bind", "--make-private", "--no-canonicalize", base, base], "make the staging directory a mount", undefined);
    else if (now === "shared") await tool(["mount", "--make-private", "--no-canonicalize", base], "make the staging directory private", undefined);
  } finally {
    lock.close();
  }
  if (basePropagation(base) !== "private") throw unavailable(base, "could not be made a private mount");
}

/** The base's own (topmost) mount in /proc/self/mountinfo: none, shared, or private (incl. slave). */
function basePropagation(base: string): "none" | "shared" | "private" {
  let found: "none" | "shared" | "private" = "none";
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const fields = line.split(" ");
    if (fields[4] !== base) continue;
    const optional = fields.slice(6, fields.indexOf("-"));
    found = optional.some((field) => field.startsWith("shared:")) ? "shared" : "private";
  }
  return found;
}

/** Runs mount/umount (util-linux) with `fd`, if any, as its fd 3; rejects with its stderr. */
async function tool(argv: string[], what: string, fd: number | undefined): Promise<void> {
  const proc = Bun.spawn(argv, {
    stdio: ["ignore", "ignore", "pipe", ...(fd === undefined ? [] : [fd])],
    env: { PATH: TOOL_PATH, LC_ALL: "C" },
    timeout: TOOL_TIMEOUT_MS,
  });
  const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (status !== 0) throw new AegisError("unavailable", `cannot ${what}: ${argv[0]} exited ${status}: ${stderr.trim()}`, { hint: "AegisClaw stages granted mounts as root with util-linux mount; check `mount --version` and dmesg" });
}

function unavailable(dir: string, why: string): AegisError {
  return new AegisError("unavailable", `granted paths cannot be staged for the sandbox: ${dir} ${why}`, { hint: `remove ${dir} and let AegisClaw recreate it (root only, mode 0700)` });
}
