import { readdirSync } from "node:fs";

/**
 * True when a process with this pid exists (EPERM means it exists but is not ours). Not a pid
 * (NaN, 0, negative) is false: kill(0 or -1, 0) would ask about process groups instead.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The entries of `base` left by AegisClaw processes that are gone (killed mid-run), for the
 * sweeps of per-run host state: `ownerOf` reads the pid from an entry's name (NaN when it has
 * none). This process's own entries and those of live processes are never listed; a missing or
 * unreadable `base` lists nothing.
 */
export function entriesOfGoneProcesses(base: string, ownerOf: (name: string) => number): string[] {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  return names.filter((name) => ownerGone(ownerOf(name)));
}

/** True when `pid` is another process's and it no longer exists. */
export function ownerGone(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
}
