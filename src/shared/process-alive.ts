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
