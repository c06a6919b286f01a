/**
 * Pins each granted mount's source by file descriptor: the path is checked once more, opened
 * without following anything, and from then on the descriptor names exactly the inode that was
 * checked, whatever happens to the path. Runtimes mount the descriptor (bwrap --bind-fd, or a
 * staged bind for the engine: mount-stage.ts), never the path again, which closes the window
 * between the last check and the mount.
 */
import { closeSync, fstatSync, openSync, readlinkSync } from "node:fs";
import { AegisError } from "../shared/index.ts";
import { verifyMountSources } from "./mounts.ts";
import type { SandboxMount } from "./types.ts";

// Linux x86_64/arm64 values; node:fs has no O_PATH and Bun's constants lack O_CLOEXEC, but
// openSync passes numeric flags through unchanged (checked in /proc/self/fdinfo).
const O_PATH = 0o10000000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;

/** A mount whose source is held open: `fd` (O_PATH) is the checked inode, `dev`/`ino` identify it. */
export interface PinnedMount {
  mount: SandboxMount;
  fd: number;
  kind: "directory" | "file";
  dev: bigint;
  ino: bigint;
}

/**
 * Re-checks every mount (verifyMountSources: the granted path still leads to the decided
 * source), then opens each source O_PATH|O_NOFOLLOW|O_CLOEXEC and refuses the run (`denied`)
 * unless the descriptor's own path is still the decided source (no component renamed or
 * replaced by a symlink) and it is a directory or a regular file. On any refusal the
 * descriptors opened so far are closed. The caller closes the rest with unpinMounts.
 */
export function pinMounts(mounts: readonly SandboxMount[]): PinnedMount[] {
  verifyMountSources(mounts);
  const pins: PinnedMount[] = [];
  try {
    for (const mount of mounts) pins.push(pinSource(mount));
  } catch (error) {
    unpinMounts(pins);
    throw error;
  }
  return pins;
}

/** Closes the pins' descriptors (idempotent for a list that was already closed and emptied). */
export function unpinMounts(pins: readonly PinnedMount[]): void {
  for (const { fd } of pins) {
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing is held any more, which is all this promises.
    }
  }
}

/**
 * Pins one mount's source without re-checking its target first (pinMounts does both). Refuses
 * (`denied`) what only a change racing the checks can produce: the source renamed or replaced
 * by a symlink, gone, or no longer a directory or regular file.
 */
export function pinSource(mount: SandboxMount): PinnedMount {
  const refuse = (why: string, cause?: unknown) =>
    new AegisError("denied", `sandbox refused: granted path ${mount.target} changed before it was mounted: ${why} (it was ${mount.source} when the run was decided)`, {
      hint: "find out who is changing it; run again to have the new state decided on",
      ...(cause === undefined ? {} : { cause }),
    });
  let fd: number;
  try {
    fd = openSync(mount.source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  } catch (error) {
    throw refuse(`${mount.source} cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error);
  }
  try {
    // The kernel's name for what was opened: a directory on the way renamed or swapped for a
    // symlink since verifyMountSources shows up here as a different path.
    const now = readlinkSync(`/proc/self/fd/${fd}`);
    if (now !== mount.source) throw refuse(`${mount.source} now leads to ${now}`);
    const stat = fstatSync(fd, { bigint: true });
    // O_NOFOLLOW on a symlink opens the link itself: its path matches, its type does not.
    if (stat.isSymbolicLink()) throw refuse(`${mount.source} is now a symlink`);
    if (!stat.isDirectory() && !stat.isFile()) throw refuse(`${mount.source} is no longer a directory or a regular file`);
    return { mount, fd, kind: stat.isDirectory() ? "directory" : "file", dev: stat.dev, ino: stat.ino };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
